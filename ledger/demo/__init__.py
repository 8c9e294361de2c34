"""``hoso demo`` and ``hoso generate``: a realistic synthetic Hanoi ledger.

Others may run the demo (:mod:`~ledger.demo.run`) and the generator
(:mod:`~ledger.demo.generate`); the cast, office, scenarios, steps, summary and the
realistic generator's parts (:mod:`ledger.demo.generator`) are the demo's own.
Production code never imports the demo (import-linter: it sits above everything but
the CLI).
"""

__all__ = ["generate", "run"]
