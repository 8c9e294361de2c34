"""The dossier lifecycle: states, national-portal status codes, events and who signs them.

Follows DOMAIN.md Part 3 (a). States carry the national public-service portal's
status code (TrangThaiHoSo 1–10); overlays (overdue, rescheduled, revoked,
corrected, under audit) are flags on top of a state, not states.

Every event type lists the states it may occur in, the state it leads to
(``None``: unchanged), and the roles whose keys must sign it. The first role
group is the acting official's: the event's actor must hold one of those
roles. Further roles are co-signatures by other keys (the agency seal on
results, Decree 30/2020).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final


class State(Enum):
    """Dossier states with their national-portal status codes (None: no code)."""

    SUBMITTED = ("submitted", 1)
    RECEPTION_GUIDANCE = ("reception_guidance", None)
    RECEIVED = ("received", 2)
    REFUSED_AT_RECEPTION = ("refused_at_reception", 3)
    IN_PROCESS = ("in_process", 4)
    AWAITING_SUPPLEMENT = ("awaiting_supplement", 5)
    AWAITING_PAYMENT = ("awaiting_payment", 6)
    WITHDRAWN = ("withdrawn", 7)
    STOPPED = ("stopped", 8)
    RESOLVED = ("resolved", 9)
    DELIVERED = ("delivered", 10)

    @property
    def label(self) -> str:
        return str(self.value[0])

    @property
    def portal_code(self) -> int | None:
        code = self.value[1]
        return None if code is None else int(code)


TERMINAL: Final = frozenset(
    {State.REFUSED_AT_RECEPTION, State.WITHDRAWN, State.STOPPED, State.DELIVERED}
)
OPEN_CASE: Final = frozenset(
    {State.RECEIVED, State.IN_PROCESS, State.AWAITING_SUPPLEMENT, State.AWAITING_PAYMENT}
)
BEFORE_RECEPTION: Final = frozenset({State.SUBMITTED, State.RECEPTION_GUIDANCE})
AFTER_RECEPTION: Final = frozenset(set(State) - BEFORE_RECEPTION - {State.REFUSED_AT_RECEPTION})
RESULT_HELD: Final = frozenset({State.RESOLVED, State.DELIVERED})


@dataclass(frozen=True, slots=True)
class EventRule:
    """Where an event type may occur, where it leads, and who must sign it."""

    allowed_in: frozenset[State] | None  # None: only as a dossier's first event
    leads_to: State | None  # None: state unchanged
    actor_roles: frozenset[str]  # the actor's key must hold one of these
    cosign_roles: tuple[str, ...] = ()  # further keys, one per role (e.g. agency_seal)
    form: str | None = None  # Circular 03/2025/TT-VPCP form number, where one applies


def _r(*roles: str) -> frozenset[str]:
    return frozenset(roles)


SUBMITTED = "DossierSubmitted"
GUIDANCE = "CompletionGuidanceIssued"
REFUSED = "ReceptionRefused"
INPUT = "InputDigitized"
RECEIVED = "DossierReceived"
ASSIGNED = "HandlerAssigned"
STEP = "StepCompleted"
TRANSFERRED = "TransferredInterAgency"
ACKNOWLEDGED = "InterAgencyAcknowledged"
RETURNED = "InterAgencyReturned"
SUPPLEMENT_REQUESTED = "SupplementRequested"
SUPPLEMENT_RECEIVED = "SupplementReceived"
FEE_REQUESTED = "FeeRequested"
FEE_PAID = "FeePaid"
APOLOGY = "DelayApologyIssued"
APOLOGY_ACCEPTED = "DelayApologyAccepted"
APOLOGY_REFUSED = "DelayApologyRefused"
APOLOGY_WITHDRAWN = "DelayApologyWithdrawn"
STOPPED = "ProcessingStopped"
WITHDRAWAL_REQUESTED = "WithdrawalRequested"
WITHDRAWAL_ACCEPTED = "WithdrawalAccepted"
RESULT_ISSUED = "ResultIssued"
RESULT_DIGITIZED = "ResultDigitized"
DELIVERED = "ResultDelivered"
PAPER_COPY = "PaperCopyIssued"
REVOKED = "ResultRevoked"
CORRECTED = "ResultCorrected"
AUDIT_OPENED = "PostAuditOpened"
FINDING = "PostAuditFindingRecorded"
AUDIT_CONCLUDED = "PostAuditConcluded"

_IN_PROCESS = frozenset({State.IN_PROCESS})
_PROCESSING = frozenset({State.RECEIVED, State.IN_PROCESS})

RULES: Final[dict[str, EventRule]] = {
    SUBMITTED: EventRule(
        frozenset({State.RECEPTION_GUIDANCE}), State.SUBMITTED, _r("portal", "reception")
    ),
    GUIDANCE: EventRule(
        frozenset({State.SUBMITTED}), State.RECEPTION_GUIDANCE, _r("reception"), form="02"
    ),
    REFUSED: EventRule(
        frozenset({State.SUBMITTED}), State.REFUSED_AT_RECEPTION, _r("reception"), form="03"
    ),
    INPUT: EventRule(
        frozenset({*BEFORE_RECEPTION, State.AWAITING_SUPPLEMENT}), None, _r("reception")
    ),
    RECEIVED: EventRule(frozenset({State.SUBMITTED}), State.RECEIVED, _r("reception"), form="01"),
    ASSIGNED: EventRule(_PROCESSING, State.IN_PROCESS, _r("reception", "leader")),
    STEP: EventRule(_IN_PROCESS, None, _r("handler", "leader"), form="06"),
    TRANSFERRED: EventRule(_IN_PROCESS, None, _r("handler", "system")),
    ACKNOWLEDGED: EventRule(_IN_PROCESS, None, _r("handler", "reception", "system")),
    RETURNED: EventRule(_IN_PROCESS, None, _r("handler", "system")),
    SUPPLEMENT_REQUESTED: EventRule(
        _IN_PROCESS, State.AWAITING_SUPPLEMENT, _r("handler"), form="02"
    ),
    SUPPLEMENT_RECEIVED: EventRule(
        frozenset({State.AWAITING_SUPPLEMENT}), State.IN_PROCESS, _r("reception")
    ),
    FEE_REQUESTED: EventRule(_IN_PROCESS, State.AWAITING_PAYMENT, _r("handler", "system")),
    FEE_PAID: EventRule(frozenset({State.AWAITING_PAYMENT}), State.IN_PROCESS, _r("system")),
    APOLOGY: EventRule(OPEN_CASE, None, _r("leader"), ("agency_seal",), form="04"),
    # the applicant's answer to the apology's request for a new date, recorded by the
    # portal or the one-stop section; the agency may withdraw its own apology
    APOLOGY_ACCEPTED: EventRule(OPEN_CASE | RESULT_HELD, None, _r("portal", "reception")),
    APOLOGY_REFUSED: EventRule(OPEN_CASE | RESULT_HELD, None, _r("portal", "reception")),
    APOLOGY_WITHDRAWN: EventRule(OPEN_CASE, None, _r("leader"), ("agency_seal",)),
    STOPPED: EventRule(
        frozenset(OPEN_CASE - {State.RECEIVED}),
        State.STOPPED,
        _r("leader"),
        ("agency_seal",),
        form="05",
    ),
    WITHDRAWAL_REQUESTED: EventRule(OPEN_CASE, None, _r("portal", "reception")),
    WITHDRAWAL_ACCEPTED: EventRule(OPEN_CASE, State.WITHDRAWN, _r("reception", "leader")),
    RESULT_ISSUED: EventRule(_IN_PROCESS, State.RESOLVED, _r("leader"), ("agency_seal",)),
    RESULT_DIGITIZED: EventRule(RESULT_HELD, None, _r("agency_seal")),
    DELIVERED: EventRule(frozenset({State.RESOLVED}), State.DELIVERED, _r("reception")),
    PAPER_COPY: EventRule(RESULT_HELD, None, _r("reception")),
    REVOKED: EventRule(RESULT_HELD, None, _r("leader"), ("agency_seal",)),
    CORRECTED: EventRule(RESULT_HELD, None, _r("leader"), ("agency_seal",)),
    AUDIT_OPENED: EventRule(AFTER_RECEPTION, None, _r("inspector")),
    FINDING: EventRule(AFTER_RECEPTION, None, _r("inspector")),
    AUDIT_CONCLUDED: EventRule(AFTER_RECEPTION, None, _r("inspector")),
}
"""Every dossier event type. ``DossierSubmitted`` may also open a stream (n = 1)."""

FIRST_EVENT: Final = SUBMITTED
