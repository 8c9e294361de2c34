"""hoso: event-sourced dossier ledger with a signed, verifiable audit trail.

The package's rooms, top to bottom (docs/architecture.md; import-linter holds the
layers): :mod:`ledger.cli` (the ``hoso`` command), :mod:`ledger.demo`,
:mod:`ledger.witness` (a standalone tlog-witness, beside the API),
:mod:`ledger.bootstrap` and :mod:`ledger.settings` (the composition root),
:mod:`ledger.privacy`, :mod:`ledger.services`, :mod:`ledger.storage`,
:mod:`ledger.domain` (pure) and :mod:`ledger.core` (pure). Each package's
``__all__`` names what other packages may import from it.
"""

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "bootstrap",
    "cli",
    "core",
    "demo",
    "domain",
    "privacy",
    "services",
    "settings",
    "storage",
    "witness",
]
