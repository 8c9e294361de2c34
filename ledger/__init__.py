"""hoso: event-sourced dossier ledger with a signed, verifiable audit trail."""

__version__ = "0.1.0"
