"""A dossier's lifecycle: the state (:mod:`ledger.domain.state`) folded from its signed
events, ``evolve(state, event, signers, book)``.

Pure. ``evolve`` checks, in order: the payload's schema (``domain.payload``);
that the event may occur in the current state (``domain.transition``); that
the signers hold the roles the event needs, in the right agency
(``domain.role``, ``domain.agency``); then the event's own rules (inputs
complete before reception, at most one supplement request, at most one
apology and only before the original due date, known results and transfers).
It returns the new state or raises; it never half-applies.

One cohesive thing, kept whole on purpose (a little over 400 lines): the state
machine's entry points and one small effect function per event type, in the
lifecycle's order, so every transition reads next to the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.core.event import EventBody
from ledger.domain import lifecycle as ev
from ledger.domain.lifecycle import RULES, State
from ledger.domain.payloads import SOURCED, blob, check_payload, integer, text
from ledger.domain.state import (
    Component,
    DossierState,
    IllegalTransition,
    InputsMissing,
    LifecycleRuleBroken,
    ProcedureBook,
    Result,
    SignerInfo,
    Transfer,
    WrongAgency,
    WrongRole,
    format_time,
    replace,
)


def start(event: EventBody, signers: Sequence[SignerInfo]) -> DossierState:
    """The state a dossier's first event (``DossierSubmitted``, n = 1) opens."""
    where = event.position
    if event.type != ev.FIRST_EVENT or event.n != 1:
        raise IllegalTransition(
            "a dossier starts with DossierSubmitted at n=1",
            where=where,
            expected=ev.FIRST_EVENT,
            found=event.type,
        )
    check_payload(event.type, event.payload, where=where)
    p = event.payload
    _check_signers(event, RULES[ev.FIRST_EVENT], signers, agencies=None)
    return DossierState(
        code=event.stream,
        state=State.SUBMITTED,
        procedure=text(p, "procedure"),
        agency=text(p, "agency"),
        channel=text(p, "channel"),
        applicant=blob(p, "applicant"),
        applicant_kind=integer(p, "applicant_kind"),
        submitted_us=event.time_us,
        legal_basis=text(p, "legal_basis"),
        n=1,
        personal=blob(p, "personal") if "personal" in p else None,
        vneid=bool(p["vneid_authenticated"]) if "vneid_authenticated" in p else None,
    )


def evolve(
    state: DossierState, event: EventBody, signers: Sequence[SignerInfo], book: ProcedureBook
) -> DossierState:
    """Apply one signed event to ``state``; raise a DomainRejected error if it may not happen."""
    where = event.position
    check_payload(event.type, event.payload, where=where)
    rule = RULES[event.type]
    if rule.allowed_in is None or state.state not in rule.allowed_in:
        allowed = sorted(s.label for s in rule.allowed_in or ())
        raise IllegalTransition(
            f"{event.type} is not allowed in state {state.state.label}",
            where=where,
            expected=allowed,
            found=state.state.label,
        )
    required = book.signatures_for(state.procedure, event.type)
    _check_signers(event, rule, signers, agencies=_agencies(state, event), required=required)
    leads_to = rule.leads_to or state.state
    apply = _APPLY.get(event.type)
    changed = state if apply is None else apply(state, event, book)
    if changed is state:
        return replace(state, n=event.n, state=leads_to)
    # ``changed`` is the handler's own fresh copy (handlers read neither ``n`` nor
    # ``state``): set the two fields on it instead of copying all thirty once more.
    object.__setattr__(changed, "n", event.n)
    object.__setattr__(changed, "state", leads_to)
    return changed


# --- roles and agency scope --------------------------------------------------


def _agencies(state: DossierState, event: EventBody) -> frozenset[str] | None:
    """Agencies whose officials may sign this event (None: any, e.g. inspectors)."""
    if event.type in (ev.AUDIT_OPENED, ev.FINDING, ev.AUDIT_CONCLUDED):
        return None
    if event.type in (ev.ACKNOWLEDGED, ev.RETURNED):
        return frozenset({text(event.payload, "agency")})
    if event.type in (
        ev.SUBMITTED,
        ev.WITHDRAWAL_REQUESTED,
        ev.APOLOGY_ACCEPTED,
        ev.APOLOGY_REFUSED,
    ):
        return None  # the portal acts for citizens of any agency
    return frozenset({state.agency, state.current_agency})


def _check_signers(
    event: EventBody,
    rule: ev.EventRule,
    signers: Sequence[SignerInfo],
    *,
    agencies: frozenset[str] | None,
    required: tuple[str, ...] | None = None,
) -> None:
    """The actor signs in an acting role; every further required role has its own key.

    ``required`` is the procedure's own list from the catalogue (every role
    listed must sign); without it the lifecycle's co-signatures apply.
    """
    where = event.position
    actor = [s for s in signers if s.actor == event.actor]
    acting = [s for s in actor if s.roles & rule.actor_roles]
    if not acting:
        raise WrongRole(
            f"{event.type} must be signed by its actor in one of these roles",
            where=where,
            expected=sorted(rule.actor_roles),
            found=sorted({r for s in actor for r in s.roles}),
        )
    if agencies is not None and not any(s.agency in agencies for s in acting):
        raise WrongAgency(
            f"{event.actor} acts outside their agency",
            where=where,
            expected=sorted(agencies),
            found=sorted({s.agency for s in acting}),
        )
    others = [s for s in signers if s is not acting[0]]
    cosign = (
        rule.cosign_roles
        if required is None
        else tuple(r for r in required if r not in acting[0].roles)
    )
    for role in cosign:
        match = [
            s for s in others if role in s.roles and (agencies is None or s.agency in agencies)
        ]
        if not match:
            raise WrongRole(
                f"{event.type} also needs a signature by the {role} key of the agency",
                where=where,
                expected=role,
                found=sorted({r for s in others for r in s.roles}),
            )
        others.remove(match[0])


# --- per-event effects ---------------------------------------------------------


def _input(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    component = Component(
        blob(p, "document_hash"), text(p, "source"), str(p.get("source_ref", "")), event.n
    )
    if component.source in SOURCED and not component.source_ref:
        raise LifecycleRuleBroken(
            f"a {component.source} input must name its source (source_ref)",
            where=event.position,
            found=component.source,
        )
    return replace(state, components={**state.components, text(p, "component"): component})


def _received(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    required = book.required_components(state.procedure)
    if required is None:
        raise LifecycleRuleBroken("unknown procedure", where=event.position, found=state.procedure)
    missing = sorted(required - set(state.components))
    if missing:
        raise InputsMissing(
            "reception needs every required component digitised first",
            where=event.position,
            expected=sorted(required),
            found=sorted(state.components),
        )
    due = integer(p, "due_us")
    if due < integer(p, "clock_start_us") or integer(p, "clock_start_us") < integer(
        p, "received_us"
    ):
        raise LifecycleRuleBroken(
            "due date must follow the clock start, which must follow reception",
            where=event.position,
            found=(p["received_us"], p["clock_start_us"], due),
        )
    return replace(
        state,
        received_us=integer(p, "received_us"),
        clock_start_us=integer(p, "clock_start_us"),
        due_us=due,
        original_due_us=due,
        legal_due_us=due,
        rule_version=text(p, "rule_version"),
        calendar_version=text(p, "calendar_version"),
        law_version=text(p, "law_version") if "law_version" in p else None,
    )


def _assigned(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    return replace(state, handler=text(event.payload, "handler"))


def _transferred(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    transfer = Transfer(
        text(p, "to_agency"), text(p, "step"), integer(p, "allowance_hours"), event.time_us
    )
    return replace(state, transfers=(*state.transfers, transfer))


def _acknowledged(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    index, transfer = _open_transfer(state, event)
    if transfer.acknowledged_us is not None:
        raise LifecycleRuleBroken(
            "transfer already acknowledged", where=event.position, found=transfer.to_agency
        )
    return _replace_transfer(state, index, replace(transfer, acknowledged_us=event.time_us))


def _returned(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    index, transfer = _open_transfer(state, event)
    return _replace_transfer(state, index, replace(transfer, returned_us=event.time_us))


def _open_transfer(state: DossierState, event: EventBody) -> tuple[int, Transfer]:
    agency = text(event.payload, "agency")
    for index in range(len(state.transfers) - 1, -1, -1):
        transfer = state.transfers[index]
        if transfer.to_agency == agency and transfer.returned_us is None:
            return index, transfer
    raise LifecycleRuleBroken(
        f"no open transfer to {agency} for {event.type}", where=event.position, found=agency
    )


def _replace_transfer(state: DossierState, index: int, transfer: Transfer) -> DossierState:
    transfers = (*state.transfers[:index], transfer, *state.transfers[index + 1 :])
    return replace(state, transfers=transfers)


def _supplement_requested(
    state: DossierState, event: EventBody, book: ProcedureBook
) -> DossierState:
    if state.supplements >= 1:
        raise LifecycleRuleBroken(
            "a supplement may be requested only once per dossier (Decree 61/2018 Art. 5)",
            where=event.position,
            expected=0,
            found=state.supplements,
        )
    return replace(
        state,
        supplements=state.supplements + 1,
        paused_since_us=event.time_us,
        pause_kind="supplement",
    )


def _supplement_received(
    state: DossierState, event: EventBody, book: ProcedureBook
) -> DossierState:
    due = integer(event.payload, "due_us")
    return replace(state, paused_since_us=None, pause_kind=None, due_us=due, legal_due_us=due)


def _fee_requested(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    """Waiting for a fee or charge to be paid stops the agency's clock."""
    return replace(state, paused_since_us=event.time_us, pause_kind="payment")


def _fee_paid(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    """The clock resumes; ``due_us``, when recorded, is the due date re-planned after the
    pause (older ledgers recorded none: the due date stays)."""
    if "due_us" not in event.payload:
        return replace(state, paused_since_us=None, pause_kind=None)
    due = integer(event.payload, "due_us")
    if state.due_us is not None and due < state.due_us:
        raise LifecycleRuleBroken(
            "a payment pause cannot bring the due date forward",
            where=event.position,
            expected=f">= {format_time(state.due_us)}",
            found=format_time(due),
        )
    return replace(state, paused_since_us=None, pause_kind=None, due_us=due, legal_due_us=due)


def _apology(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    new_due = integer(event.payload, "new_due_us")
    if state.apologies >= 1:
        raise LifecycleRuleBroken(
            "a new date may be set by apology only once",
            where=event.position,
            expected=0,
            found=state.apologies,
        )
    if state.due_us is None or event.time_us >= state.due_us or new_due <= state.due_us:
        raise LifecycleRuleBroken(
            "an apology comes before the due date and sets a later one",
            where=event.position,
            expected=f"time < {format_time(state.due_us)} < new date",
            found=(format_time(event.time_us), format_time(new_due)),
        )
    return replace(
        state,
        apologies=state.apologies + 1,
        due_us=new_due,
        apology_status="issued",
        due_before_apology_us=state.due_us,
    )


def _apology_answered(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    """Accepted: the new date stands. Refused or withdrawn: it never moved the deadline, so
    the due date in force returns to the one the apology moved."""
    if state.apology_status not in ("issued", "accepted") or (
        event.type == ev.APOLOGY_ACCEPTED and state.apology_status != "issued"
    ):
        raise LifecycleRuleBroken(
            f"{event.type} needs an apology in force",
            where=event.position,
            expected="issued" if event.type == ev.APOLOGY_ACCEPTED else "issued or accepted",
            found=state.apology_status or "no apology",
        )
    if event.type == ev.APOLOGY_ACCEPTED:
        return replace(state, apology_status="accepted")
    status = "refused" if event.type == ev.APOLOGY_REFUSED else "withdrawn"
    return replace(state, apology_status=status, due_us=state.due_before_apology_us)


def _result_issued(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    number = text(p, "result_number")
    if number in state.results:
        raise LifecycleRuleBroken("result number already used", where=event.position, found=number)
    result = Result(
        number,
        text(p, "result_type"),
        blob(p, "document_hash"),
        text(p, "outcome"),
        text(p, "medium"),
        event.time_us,
        event.n,
    )
    return replace(state, results={**state.results, number: result}, resolved_us=event.time_us)


def _finished(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    """A terminal decision (refused, stopped, withdrawn) also ends any supplement pause."""
    return replace(state, finished_us=event.time_us, paused_since_us=None, pause_kind=None)


def _with_result(
    state: DossierState,
    event: EventBody,
    number: str,
    change: Callable[[Result], Result] = lambda r: r,
) -> DossierState:
    result = state.results.get(number)
    if result is None or result.status != "valid":
        raise LifecycleRuleBroken(
            "no valid result with this number", where=event.position, found=number
        )
    return replace(state, results={**state.results, number: change(result)})


def _digitized(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    return _with_result(
        state, event, text(event.payload, "result_number"), lambda r: replace(r, digitized=True)
    )


def _delivered(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    channel = text(p, "channel")
    moved = _with_result(
        state, event, text(p, "result_number"), lambda r: replace(r, delivered_channel=channel)
    )
    return replace(moved, finished_us=event.time_us)


def _paper_copy(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    return _with_result(state, event, text(event.payload, "result_number"))


def _revoked(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    return _with_result(
        state,
        event,
        text(event.payload, "result_number"),
        lambda r: replace(r, status="revoked", ended_us=event.time_us),
    )


def _corrected(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    new_number = text(p, "result_number")
    if new_number in state.results:
        raise LifecycleRuleBroken(
            "result number already used", where=event.position, found=new_number
        )
    old = text(p, "supersedes")
    moved = _with_result(
        state,
        event,
        old,
        lambda r: replace(r, status="superseded", superseded_by=new_number, ended_us=event.time_us),
    )
    previous = state.results[old]
    result = Result(
        new_number,
        previous.result_type,
        blob(p, "document_hash"),
        previous.outcome,
        "electronic",
        event.time_us,
        event.n,
        delivered_channel=previous.delivered_channel,
    )
    return replace(moved, results={**moved.results, new_number: result})


def _withdrawal_requested(
    state: DossierState, event: EventBody, book: ProcedureBook
) -> DossierState:
    return replace(state, withdrawal_requested=True)


def _audit_opened(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    audit = text(event.payload, "audit")
    if audit in state.audits:
        raise LifecycleRuleBroken("audit already opened", where=event.position, found=audit)
    return replace(state, audits={**state.audits, audit: "open"})


def _finding(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    p = event.payload
    audit = _open_audit(state, event)
    found = (audit, text(p, "finding"), bool(p["revocation_due"]))
    return replace(state, findings=(*state.findings, found))


def _audit_concluded(state: DossierState, event: EventBody, book: ProcedureBook) -> DossierState:
    audit = _open_audit(state, event)
    return replace(state, audits={**state.audits, audit: "concluded"})


def _open_audit(state: DossierState, event: EventBody) -> str:
    audit = text(event.payload, "audit")
    if state.audits.get(audit) != "open":
        raise LifecycleRuleBroken("no open audit with this id", where=event.position, found=audit)
    return audit


_APPLY = {
    ev.INPUT: _input,
    ev.RECEIVED: _received,
    ev.ASSIGNED: _assigned,
    ev.TRANSFERRED: _transferred,
    ev.ACKNOWLEDGED: _acknowledged,
    ev.RETURNED: _returned,
    ev.SUPPLEMENT_REQUESTED: _supplement_requested,
    ev.SUPPLEMENT_RECEIVED: _supplement_received,
    ev.FEE_REQUESTED: _fee_requested,
    ev.FEE_PAID: _fee_paid,
    ev.APOLOGY: _apology,
    ev.APOLOGY_ACCEPTED: _apology_answered,
    ev.APOLOGY_REFUSED: _apology_answered,
    ev.APOLOGY_WITHDRAWN: _apology_answered,
    ev.RESULT_ISSUED: _result_issued,
    ev.RESULT_DIGITIZED: _digitized,
    ev.DELIVERED: _delivered,
    ev.PAPER_COPY: _paper_copy,
    ev.REVOKED: _revoked,
    ev.CORRECTED: _corrected,
    ev.STOPPED: _finished,
    ev.REFUSED: _finished,
    ev.WITHDRAWAL_ACCEPTED: _finished,
    ev.WITHDRAWAL_REQUESTED: _withdrawal_requested,
    ev.AUDIT_OPENED: _audit_opened,
    ev.FINDING: _finding,
    ev.AUDIT_CONCLUDED: _audit_concluded,
}
