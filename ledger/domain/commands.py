"""Commands: what an official asks for, turned into the event to sign (a :class:`Draft`).

Pure. Each command checks what it can against the current state and returns
the event type and payload; the signing and appending happen at the edge
(custodian or the actor's client), and the store re-checks everything through
:func:`ledger.domain.dossier.evolve`. A command that may not happen now
raises the same typed errors ``evolve`` would, before anything is signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.encoding import Value
from ledger.domain import lifecycle as ev
from ledger.domain.lifecycle import RULES
from ledger.domain.state import (
    DossierState,
    IllegalTransition,
    InputsMissing,
    LifecycleRuleBroken,
)


@dataclass(frozen=True, slots=True)
class Draft:
    """An event to sign: its type and payload, and the roles whose keys must sign."""

    type: str
    payload: dict[str, Value]

    @property
    def actor_roles(self) -> frozenset[str]:
        return RULES[self.type].actor_roles

    @property
    def cosign_roles(self) -> tuple[str, ...]:
        return RULES[self.type].cosign_roles


def _allowed(state: DossierState | None, kind: str) -> None:
    rule = RULES[kind]
    if state is None:
        if kind != ev.FIRST_EVENT:
            raise IllegalTransition(
                "a dossier starts with a submission", expected=ev.FIRST_EVENT, found=kind
            )
        return
    if rule.allowed_in is None or state.state not in rule.allowed_in:
        raise IllegalTransition(
            f"{kind} is not allowed in state {state.state.label}",
            where=state.code,
            expected=sorted(s.label for s in rule.allowed_in or ()),
            found=state.state.label,
        )


def submit_dossier(
    *,
    procedure: str,
    agency: str,
    channel: str,
    applicant: bytes,
    applicant_kind: int = 1,
    legal_basis: str = "state_duty",
    consent: bytes | None = None,
    personal: bytes | None = None,
    vneid_authenticated: bool | None = None,
    state: DossierState | None = None,
) -> Draft:
    """A new dossier (or a resubmission after reception guidance).

    ``applicant`` and ``personal`` are salted commitments (ledger.privacy), never
    the data; ``consent`` is the consent record's hash when the legal basis is consent.
    """
    _allowed(state, ev.SUBMITTED)
    payload: dict[str, Value] = {
        "procedure": procedure,
        "agency": agency,
        "channel": channel,
        "applicant": applicant,
        "applicant_kind": applicant_kind,
        "legal_basis": legal_basis,
    }
    if consent is not None:
        payload["consent"] = consent
    if personal is not None:
        payload["personal"] = personal
    if vneid_authenticated is not None:
        payload["vneid_authenticated"] = vneid_authenticated
    return Draft(ev.SUBMITTED, payload)


def digitize_input(
    state: DossierState,
    *,
    component: str,
    document_hash: bytes,
    source: str,
    source_ref: str = "",
) -> Draft:
    _allowed(state, ev.INPUT)
    payload: dict[str, Value] = {
        "component": component,
        "document_hash": document_hash,
        "source": source,
    }
    if source_ref:
        payload["source_ref"] = source_ref
    return Draft(ev.INPUT, payload)


def issue_guidance(state: DossierState, *, missing: list[str], reasons: list[str]) -> Draft:
    _allowed(state, ev.GUIDANCE)
    return Draft(ev.GUIDANCE, {"missing": list(missing), "reasons": list(reasons)})


def refuse_reception(state: DossierState, *, reasons: list[str]) -> Draft:
    _allowed(state, ev.REFUSED)
    return Draft(ev.REFUSED, {"reasons": list(reasons)})


def receive_dossier(
    state: DossierState,
    *,
    received_us: int,
    clock_start_us: int,
    due_us: int,
    rule_version: str,
    calendar_version: str,
    receipt_hash: bytes,
    required: frozenset[str],
    law_version: str | None = None,
) -> Draft:
    """Form 01: reception with the due date fixed (and the versions it was computed with:
    rule, calendar and the legal version whose counting it used)."""
    _allowed(state, ev.RECEIVED)
    missing = sorted(required - set(state.components))
    if missing:
        raise InputsMissing(
            f"inputs missing before reception: {', '.join(missing)}",
            where=state.code,
            expected=sorted(required),
            found=sorted(state.components),
        )
    payload: dict[str, Value] = {
        "received_us": received_us,
        "clock_start_us": clock_start_us,
        "due_us": due_us,
        "rule_version": rule_version,
        "calendar_version": calendar_version,
        "receipt_hash": receipt_hash,
    }
    if law_version is not None:
        payload["law_version"] = law_version
    return Draft(ev.RECEIVED, payload)


def assign_handler(state: DossierState, *, handler: str, department: str) -> Draft:
    _allowed(state, ev.ASSIGNED)
    return Draft(ev.ASSIGNED, {"handler": handler, "department": department})


def complete_step(state: DossierState, *, step: str) -> Draft:
    _allowed(state, ev.STEP)
    return Draft(ev.STEP, {"step": step})


def transfer_to_agency(
    state: DossierState,
    *,
    to_agency: str,
    step: str,
    allowance_hours: int,
    reference: tuple[str, int, bytes] | None = None,
) -> Draft:
    """``reference``: to an agency on another log, that log's (origin, index, event hash)."""
    _allowed(state, ev.TRANSFERRED)
    payload: dict[str, Value] = {
        "to_agency": to_agency,
        "step": step,
        "allowance_hours": allowance_hours,
    }
    if reference is not None:
        origin, index, event_hash = reference
        payload.update(ref_origin=origin, ref_index=index, ref_event_hash=event_hash)
    return Draft(ev.TRANSFERRED, payload)


def acknowledge_transfer(state: DossierState, *, agency: str) -> Draft:
    _allowed(state, ev.ACKNOWLEDGED)
    return Draft(ev.ACKNOWLEDGED, {"agency": agency})


def return_transfer(state: DossierState, *, agency: str, outcome: str) -> Draft:
    _allowed(state, ev.RETURNED)
    return Draft(ev.RETURNED, {"agency": agency, "outcome": outcome})


def request_supplement(state: DossierState, *, items: list[str], reasons: list[str]) -> Draft:
    _allowed(state, ev.SUPPLEMENT_REQUESTED)
    if state.supplements:
        raise LifecycleRuleBroken(
            "a supplement may be requested only once",
            where=state.code,
            expected=0,
            found=state.supplements,
        )
    return Draft(ev.SUPPLEMENT_REQUESTED, {"items": list(items), "reasons": list(reasons)})


def receive_supplement(state: DossierState, *, items: list[str], due_us: int) -> Draft:
    """The supplement arrived; ``due_us`` is the due date re-planned after the pause."""
    _allowed(state, ev.SUPPLEMENT_RECEIVED)
    return Draft(ev.SUPPLEMENT_RECEIVED, {"items": list(items), "due_us": due_us})


def request_fee(state: DossierState, *, amount_vnd: int) -> Draft:
    _allowed(state, ev.FEE_REQUESTED)
    return Draft(ev.FEE_REQUESTED, {"amount_vnd": amount_vnd})


def record_payment(
    state: DossierState,
    *,
    amount_vnd: int,
    receipt_ref: str,
    due_us: int | None = None,
    method: str | None = None,
) -> Draft:
    """The fee was paid; the clock resumes. ``due_us`` is the due date re-planned after the
    payment pause; ``method`` is ``online`` or ``counter`` (Decision 766: paid online)."""
    _allowed(state, ev.FEE_PAID)
    payload: dict[str, Value] = {"amount_vnd": amount_vnd, "receipt_ref": receipt_ref}
    if due_us is not None:
        payload["due_us"] = due_us
    if method is not None:
        payload["method"] = method
    return Draft(ev.FEE_PAID, payload)


def accept_apology(state: DossierState) -> Draft:
    """The applicant accepts the apology's new date."""
    _allowed(state, ev.APOLOGY_ACCEPTED)
    return Draft(ev.APOLOGY_ACCEPTED, {})


def refuse_apology(state: DossierState, *, reason: str = "") -> Draft:
    """The applicant refuses the apology's new date: the deadline does not move."""
    _allowed(state, ev.APOLOGY_REFUSED)
    return Draft(ev.APOLOGY_REFUSED, {"reason": reason} if reason else {})


def withdraw_apology(state: DossierState, *, reason: str) -> Draft:
    """The agency withdraws its apology: the deadline returns to the one it moved."""
    _allowed(state, ev.APOLOGY_WITHDRAWN)
    return Draft(ev.APOLOGY_WITHDRAWN, {"reason": reason})


def apologize_for_delay(state: DossierState, *, reason: str, new_due_us: int, now_us: int) -> Draft:
    """Form 04: before the due date, once, with a later date."""
    _allowed(state, ev.APOLOGY)
    if (
        state.apologies
        or state.due_us is None
        or now_us >= state.due_us
        or (new_due_us <= state.due_us)
    ):
        raise LifecycleRuleBroken(
            "an apology comes once, before the due date, with a later date",
            where=state.code,
            expected=f"now < {state.due_us} < new date",
            found=(now_us, new_due_us),
        )
    return Draft(ev.APOLOGY, {"reason": reason, "new_due_us": new_due_us})


def stop_processing(state: DossierState, *, reasons: list[str]) -> Draft:
    _allowed(state, ev.STOPPED)
    return Draft(ev.STOPPED, {"reasons": list(reasons)})


def request_withdrawal(state: DossierState, *, reason: str = "") -> Draft:
    _allowed(state, ev.WITHDRAWAL_REQUESTED)
    return Draft(ev.WITHDRAWAL_REQUESTED, {"reason": reason} if reason else {})


def accept_withdrawal(state: DossierState) -> Draft:
    _allowed(state, ev.WITHDRAWAL_ACCEPTED)
    return Draft(ev.WITHDRAWAL_ACCEPTED, {})


def issue_result(
    state: DossierState,
    *,
    result_number: str,
    result_type: str,
    document_hash: bytes,
    outcome: str = "granted",
    medium: str = "electronic",
) -> Draft:
    """The signed result (two signatures: competent signer + agency seal)."""
    _allowed(state, ev.RESULT_ISSUED)
    return Draft(
        ev.RESULT_ISSUED,
        {
            "result_number": result_number,
            "result_type": result_type,
            "document_hash": document_hash,
            "outcome": outcome,
            "medium": medium,
        },
    )


def digitize_result(state: DossierState, *, result_number: str, document_hash: bytes) -> Draft:
    _allowed(state, ev.RESULT_DIGITIZED)
    return Draft(
        ev.RESULT_DIGITIZED, {"result_number": result_number, "document_hash": document_hash}
    )


def deliver_result(state: DossierState, *, result_number: str, channel: str) -> Draft:
    _allowed(state, ev.DELIVERED)
    return Draft(ev.DELIVERED, {"result_number": result_number, "channel": channel})


def issue_paper_copy(state: DossierState, *, result_number: str, basis: str) -> Draft:
    _allowed(state, ev.PAPER_COPY)
    return Draft(ev.PAPER_COPY, {"result_number": result_number, "basis": basis})


def revoke_result(
    state: DossierState, *, result_number: str, decision_ref: str, reason: str
) -> Draft:
    _allowed(state, ev.REVOKED)
    return Draft(
        ev.REVOKED, {"result_number": result_number, "decision_ref": decision_ref, "reason": reason}
    )


def correct_result(
    state: DossierState,
    *,
    supersedes: str,
    result_number: str,
    document_hash: bytes,
    reason: str,
) -> Draft:
    _allowed(state, ev.CORRECTED)
    return Draft(
        ev.CORRECTED,
        {
            "supersedes": supersedes,
            "result_number": result_number,
            "document_hash": document_hash,
            "reason": reason,
        },
    )


def open_audit(state: DossierState, *, audit: str, basis: str) -> Draft:
    _allowed(state, ev.AUDIT_OPENED)
    return Draft(ev.AUDIT_OPENED, {"audit": audit, "basis": basis})


def record_finding(
    state: DossierState,
    *,
    audit: str,
    finding: str,
    severity: str,
    detail: str,
    revocation_due: bool,
) -> Draft:
    _allowed(state, ev.FINDING)
    return Draft(
        ev.FINDING,
        {
            "audit": audit,
            "finding": finding,
            "severity": severity,
            "detail": detail,
            "revocation_due": revocation_due,
        },
    )


def conclude_audit(state: DossierState, *, audit: str, conclusion: str) -> Draft:
    _allowed(state, ev.AUDIT_CONCLUDED)
    return Draft(ev.AUDIT_CONCLUDED, {"audit": audit, "conclusion": conclusion})
