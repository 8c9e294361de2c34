"""Deadline rules (DOMAIN.md (b) 1–5): late without apology, apology misuse, supplement
misuse, the recomputed due date, handling latency."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain import lifecycle as ev
from ledger.domain.rules.base import (
    AuditContext,
    Recorded,
    RuleFinding,
    events_of,
)
from ledger.domain.state import DossierState, format_time

# 1, 2 --------------------------------------------------------------------------


def late_without_apology(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    due = state.legal_due_us if state is not None else None
    if state is None or due is None:
        return []
    results = events_of(history, ev.RESULT_ISSUED)
    end = results[0].time_us if results else (None if state.state in ev.TERMINAL else ctx.now_us)
    if end is None or end <= due:
        return []
    apologies = [a for a in events_of(history, ev.APOLOGY) if a.time_us < due]
    if apologies:
        return []
    return [
        RuleFinding(
            "rule.late_without_apology",
            state.code,
            results[0].n if results else None,
            "resolved (or still open) after the due date with no apology before it",
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
    if apologies:
        new_due = apologies[-1].payload.get("new_due_us")
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
