"""Deadline rules (DOMAIN.md (b) 1–5): late without apology, apology misuse, supplement
misuse, the recomputed due date, handling latency."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.core.event import EventBody
from ledger.domain import lifecycle as ev
from ledger.domain.law import LawVersionUnknown
from ledger.domain.rules.base import (
    AuditContext,
    Recorded,
    RuleFinding,
    events_of,
)
from ledger.domain.state import DossierState, format_time

# 1, 2 --------------------------------------------------------------------------


def _apology_in_force(history: Sequence[Recorded]) -> EventBody | None:
    """The first apology, unless the ledger records it refused or withdrawn: only an apology
    in force moves the deadline or excuses lateness."""
    apologies = events_of(history, ev.APOLOGY)
    if not apologies:
        return None
    first = apologies[0]
    undone = events_of(history, ev.APOLOGY_REFUSED, ev.APOLOGY_WITHDRAWN)
    if any(u.n > first.n for u in undone):
        return None
    return first


def late_without_apology(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    """Resolved after the due date after pauses (or, still open, past it by the pause-aware
    clock: time waiting for a supplement or a payment does not count), with no apology in
    force issued before it."""
    due = state.legal_due_us if state is not None else None
    if state is None or due is None:
        return []
    results = events_of(history, ev.RESULT_ISSUED)
    if results:
        end: int | None = results[0].time_us
    elif state.state in ev.TERMINAL:
        end = None
    else:
        end = state.clock_at(ctx.now_us)
        if state.paused_since_us is not None and state.paused_since_us <= due:
            end = None  # paused before the due date: the clock is stopped, not late
    if end is None or end <= due:
        return []
    apology = _apology_in_force(history)
    if apology is not None and apology.time_us < due:
        return []
    return [
        RuleFinding(
            "rule.late_without_apology",
            state.code,
            results[0].n if results else None,
            "resolved (or still open) after the due date with no apology in force before it",
            expected=f"by {format_time(due)}",
            found=format_time(end),
            agency=state.agency,
        )
    ]


def apology_misuse(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    apologies = events_of(history, ev.APOLOGY)
    if len(apologies) > 1:
        out.append(
            RuleFinding(
                "rule.apology_misuse",
                state.code,
                apologies[1].n,
                "more than one apology / new date",
                expected="1",
                found=str(len(apologies)),
                agency=state.agency,
            )
        )
    for apology in apologies:
        if state.legal_due_us is not None and apology.time_us >= state.legal_due_us:
            out.append(
                RuleFinding(
                    "rule.apology_misuse",
                    state.code,
                    apology.n,
                    "apology issued on or after the original due date",
                    expected=f"before {format_time(state.legal_due_us)}",
                    found=format_time(apology.time_us),
                    agency=state.agency,
                )
            )
    in_force = _apology_in_force(history)
    if in_force is not None:
        new_due = in_force.payload.get("new_due_us")
        results = events_of(history, ev.RESULT_ISSUED)
        if isinstance(new_due, int) and results and results[0].time_us > new_due:
            out.append(
                RuleFinding(
                    "rule.apology_misuse",
                    state.code,
                    results[0].n,
                    "the new date set by the apology was missed too",
                    expected=f"by {format_time(new_due)}",
                    found=format_time(results[0].time_us),
                    agency=state.agency,
                )
            )
    return out


# 3 ---------------------------------------------------------------------------------


def supplement_misuse(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    requests = events_of(history, ev.SUPPLEMENT_REQUESTED)
    if len(requests) > 1:
        out.append(
            RuleFinding(
                "rule.supplement_repeated",
                state.code,
                requests[1].n,
                "supplement requested more than once",
                expected="1",
                found=str(len(requests)),
                agency=state.agency,
            )
        )
    forms = events_of(history, ev.GUIDANCE, ev.SUPPLEMENT_REQUESTED)
    if len(forms) > 1 and len(requests) <= 1:
        out.append(
            RuleFinding(
                "rule.guidance_repeated",
                state.code,
                forms[1].n,
                "guidance to supplement (Form 02) issued more than once for the dossier",
                expected="once, in full",
                found=" + ".join(f"{e.type}@{e.n}" for e in forms),
                agency=state.agency,
            )
        )
    due = state.original_due_us
    for request in requests:
        if due is not None and request.time_us > due:
            out.append(
                RuleFinding(
                    "rule.supplement_after_due",
                    state.code,
                    request.n,
                    "supplement requested after the due date",
                    expected=f"before {format_time(due)}",
                    found=format_time(request.time_us),
                    agency=state.agency,
                )
            )
    return out


# 4 --------------------------------------------------------------------------------------


def due_date_recomputed(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None or state.original_due_us is None:
        return []
    expected = ctx.recompute_due(state)
    if expected is None or expected == state.original_due_us:
        return []
    received = events_of(history, ev.RECEIVED)
    return [
        RuleFinding(
            "rule.due_date_mismatch",
            state.code,
            received[0].n if received else None,
            f"due date differs from {state.rule_version} on {state.calendar_version}",
            expected=format_time(expected),
            found=format_time(state.original_due_us),
            agency=state.agency,
        )
    ]


# 5 ---------------------------------------------------------------------------------


def handling_latency(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None or state.received_us is None:
        return []
    out = []
    moved = events_of(history, ev.ASSIGNED, ev.TRANSFERRED)
    first = moved[0].time_us if moved else (None if state.state in ev.TERMINAL else ctx.now_us)
    if first is not None and ctx.working_hours_between(state.received_us, first) > (
        ctx.transfer_deadline_hours
    ):
        out.append(
            RuleFinding(
                "rule.handover_late",
                state.code,
                moved[0].n if moved else None,
                "not handed to a handler by the next working day",
                expected=f"≤ {ctx.transfer_deadline_hours} working hours",
                found=f"{ctx.working_hours_between(state.received_us, first):.1f}",
                agency=state.agency,
            )
        )
    if ctx.known_agency is not None:
        for event in events_of(history, ev.TRANSFERRED):
            target = event.payload.get("to_agency")
            if isinstance(target, str) and not ctx.known_agency(target):
                out.append(
                    RuleFinding(
                        "rule.transfer_unknown_agency",
                        state.code,
                        event.n,
                        "transferred to an agency that is not in the agency catalogue",
                        expected="an agency of the catalogue",
                        found=target,
                        agency=state.agency,
                    )
                )
    for transfer in state.transfers:
        start_us = transfer.acknowledged_us or transfer.sent_us
        end_us = transfer.returned_us or ctx.now_us
        used = ctx.working_hours_between(start_us, end_us)
        if used > transfer.allowance_hours:
            out.append(
                RuleFinding(
                    "rule.interagency_step_late",
                    state.code,
                    None,
                    f"step {transfer.step!r} overran its allowance",
                    expected=f"≤ {transfer.allowance_hours} working hours",
                    found=f"{used:.1f}",
                    agency=transfer.to_agency,
                )
            )
    return out


def law_version_recorded(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    """The legal version recorded at reception is the one in force on the reception date."""
    if state is None or state.received_us is None or state.law_version is None:
        return []
    try:
        in_force = ctx.law.in_force(state.received_us).id
    except LawVersionUnknown as err:
        in_force = f"[{err.check}] {err.detail}"
    if in_force == state.law_version:
        return []
    received = events_of(history, ev.RECEIVED)
    return [
        RuleFinding(
            "rule.law_version_mismatch",
            state.code,
            received[0].n if received else None,
            "the due date was counted under a legal version not in force on the reception date",
            expected=in_force,
            found=state.law_version,
            agency=state.agency,
        )
    ]


def reception_time_plausible(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    """The recorded electronic reception lies after the submission and not after the event
    that records it (beyond a small clock tolerance)."""
    receptions = events_of(history, ev.RECEIVED)
    if state is None or not receptions:
        return []
    event = receptions[0]
    received = event.payload.get("received_us")
    if not isinstance(received, int):
        return []  # a malformed payload is rule.illegal_event's
    submitted = state.submitted_us  # the dossier's first submission
    problem = None
    if received < submitted:
        problem = ("received before it was submitted", f">= {format_time(submitted)}")
    elif received > event.time_us + ctx.future_tolerance_us:
        problem = (
            "reception time after the event recording it",
            f"<= {format_time(event.time_us)}",
        )
    if problem is None:
        return []
    return [
        RuleFinding(
            "rule.reception_time_implausible",
            state.code,
            event.n,
            problem[0],
            expected=problem[1],
            found=format_time(received),
            agency=state.agency,
        )
    ]
