"""The dossier domain: pure rules about Vietnamese administrative dossiers.

No clock, no database, no randomness: times are integer microseconds UTC passed
in by the caller, and Vietnam local time is fixed UTC+07:00.

* :mod:`ledger.domain.calendar` — the working calendar (public holidays, swap
  days, office hours) and working-time arithmetic.
* :mod:`ledger.domain.procedures` — the procedure catalogue and due dates.

docs/domain-time.md is enough to recompute any due date independently.
"""
