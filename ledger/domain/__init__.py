"""The dossier domain: pure rules about Vietnamese administrative dossiers.

No clock, no database, no randomness: times are integer microseconds UTC passed
in by the caller, and Vietnam local time is fixed UTC+07:00.

* :mod:`~ledger.domain.lifecycle`, :mod:`~ledger.domain.state`,
  :mod:`~ledger.domain.dossier`, :mod:`~ledger.domain.commands` — the dossier's
  states, its folded state, the fold, and the commands that make its events;
* :mod:`~ledger.domain.calendar` (+ ``calendar_data``) — the working calendar and
  working-time arithmetic; :mod:`~ledger.domain.procedures` (+ ``procedures_data``)
  — the procedure catalogue; :mod:`~ledger.domain.due` — due dates;
  :mod:`~ledger.domain.law` — the legal versions in force and each rule's legal basis;
  :mod:`~ledger.domain.submission` — a new dossier's code, date and procedure, at the door;
  :mod:`~ledger.domain.indicators` — the Decision 766 indicators per agency and period;
* :mod:`~ledger.domain.rules` — the post-audit rules; :mod:`~ledger.domain.privacy`
  — the personal-data events and rules; :mod:`~ledger.domain.reuse`,
  :mod:`~ledger.domain.timeliness`.

Private to the domain: ``payloads`` (the event payload schemas the fold checks) and
``jsondata`` (reading the data files). docs/domain-time.md is enough to recompute any
due date independently.
"""

__all__ = [
    "calendar",
    "calendar_data",
    "commands",
    "dossier",
    "due",
    "indicators",
    "law",
    "lifecycle",
    "privacy",
    "procedures",
    "procedures_data",
    "reuse",
    "rules",
    "state",
    "streams",
    "submission",
    "timeliness",
]
