"""What every post-audit rule takes and gives: a dossier's history (:class:`Recorded`),
what the rules need besides it (:class:`AuditContext`), and their verdicts
(:class:`RuleFinding`); plus :func:`replay`, the fold whose refusals are rule 12."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ledger.core.errors import HosoError
from ledger.core.event import EventBody
from ledger.domain.dossier import evolve, start
from ledger.domain.law import LawBook, shipped_law
from ledger.domain.state import DossierState, ProcedureBook, SignerInfo

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@dataclass(frozen=True, slots=True)
class Recorded:
    """One event of a dossier's history with what the registry says of its signers."""

    body: EventBody
    signers: tuple[SignerInfo, ...]


@dataclass(frozen=True, slots=True)
class RuleFinding:
    """One post-audit rule's verdict on one dossier: which rule, where, what was expected
    and found. The verifier reports it as a :class:`verify.findings.ReportFinding` of
    family ``rule``; the projections keep it in ``hoso_v_rule_findings``."""

    rule: str
    stream: str
    n: int | None
    message: str
    expected: str = ""
    found: str = ""
    agency: str = ""
    law: str = ""  # the legal version that applied on the dossier's reception date
    basis: str = ""  # its text and article for this rule (docs/domain.md §Legal basis)

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "stream": self.stream,
            "n": self.n,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "agency": self.agency,
            "law": self.law,
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class AuditContext:
    """What rules need besides the history. Everything is passed in; nothing is looked up."""

    book: ProcedureBook
    now_us: int
    paper_allowed: Callable[[str], bool] = lambda procedure: False
    exempt_from_fees: Callable[[str], bool] = lambda procedure: False
    reusable: Callable[[bytes, str, int], bool] | None = lambda applicant, component, at: False
    """Was a valid electronic result of the applicant able to stand in for the component at
    that instant? None: judged after every dossier was read (the verifier's deferred pass)."""
    national_database: Callable[[str], str | None] = lambda component: None
    """The national database an agency fetches the component from, if any."""
    known_agency: Callable[[str], bool] | None = None
    """Is the agency in the agency catalogue? None: no catalogue given, transfers not judged."""
    law: LawBook = field(default_factory=shipped_law)
    future_tolerance_us: int = 5 * 60 * 1_000_000
    """How far a recorded reception time may lie after the event recording it (clock skew)."""
    recompute_due: Callable[[DossierState], int | None] = lambda state: None
    working_hours_between: Callable[[int, int], float] = lambda a, b: (b - a) / HOUR_US
    transfer_deadline_hours: float = 8.0  # received → handled by the next working day
    digitize_within_hours: float = 24.0
    revocation_within_hours: float = 5 * 8.0
    audit_window_us: int = 90 * DAY_US


Rule = Callable[[Sequence[Recorded], DossierState | None, AuditContext], list[RuleFinding]]


def replay(
    history: Sequence[Recorded], book: ProcedureBook
) -> tuple[DossierState | None, list[RuleFinding]]:
    """Fold the history; an event the lifecycle refuses is rule 12's finding, and is skipped."""
    findings: list[RuleFinding] = []
    state: DossierState | None = None
    for item in history:
        body = item.body
        try:
            state = (
                start(body, item.signers)
                if state is None
                else evolve(state, body, item.signers, book)
            )
        except HosoError as err:
            findings.append(
                RuleFinding(
                    "rule.illegal_event",
                    body.stream,
                    body.n,
                    f"[{err.check}] {err.detail}",
                    found=body.type,
                )
            )
    return state, findings


def events_of(history: Sequence[Recorded], *types: str) -> list[EventBody]:
    return [r.body for r in history if r.body.type in types]
