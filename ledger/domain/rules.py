"""Post-audit (hậu kiểm) rules: pure functions over one dossier's signed history.

Each rule has a stable id (``rule.late_without_apology`` ...) and returns
findings — a report, never an exception. Rules read raw histories, so they
also catch what a store bypassed or an older system wrote: the lifecycle
checks in :mod:`ledger.domain.dossier` prevent most of these at append time,
the rules prove after the fact that they did not happen.

The table of implemented rules, with DOMAIN.md (b) numbers, is in
docs/domain.md; time-based rules take ``now_us`` and a calendar from the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.core.errors import HosoError
from ledger.core.event import EventBody
from ledger.domain import lifecycle as ev
from ledger.domain.dossier import (
    DossierState,
    ProcedureBook,
    SignerInfo,
    evolve,
    format_time,
    start,
)

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

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "stream": self.stream,
            "n": self.n,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "agency": self.agency,
        }


@dataclass(frozen=True, slots=True)
class AuditContext:
    """What rules need besides the history. Everything is passed in; nothing is looked up."""

    book: ProcedureBook
    now_us: int
    paper_allowed: Callable[[str], bool] = lambda procedure: False
    exempt_from_fees: Callable[[str], bool] = lambda procedure: False
    reusable: Callable[[bytes, str], bool] = lambda applicant, component: False
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


def _events(history: Sequence[Recorded], *types: str) -> list[EventBody]:
    return [r.body for r in history if r.body.type in types]


# 1, 2 --------------------------------------------------------------------------


def late_without_apology(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    due = state.legal_due_us if state is not None else None
    if state is None or due is None:
        return []
    results = _events(history, ev.RESULT_ISSUED)
    end = results[0].time_us if results else (None if state.state in ev.TERMINAL else ctx.now_us)
    if end is None or end <= due:
        return []
    apologies = [a for a in _events(history, ev.APOLOGY) if a.time_us < due]
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
    apologies = _events(history, ev.APOLOGY)
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
        results = _events(history, ev.RESULT_ISSUED)
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
    requests = _events(history, ev.SUPPLEMENT_REQUESTED)
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
    received = _events(history, ev.RECEIVED)
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
    moved = _events(history, ev.ASSIGNED, ev.TRANSFERRED)
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


# 6, 8 -------------------------------------------------------------------------------------


def inputs_digitized(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    """Read from the raw history: a store that enforced this would have refused the reception."""
    receptions = _events(history, ev.RECEIVED)
    if state is None or not receptions:
        return []
    required = ctx.book.required_components(state.procedure) or frozenset()
    received = receptions[0]
    before = {str(e.payload["component"]) for e in _events(history, ev.INPUT) if e.n < received.n}
    missing = sorted(required - before)
    if not missing:
        return []
    return [
        RuleFinding(
            "rule.inputs_not_digitized",
            state.code,
            received.n,
            "received without every required component digitised and signed",
            expected=", ".join(sorted(required)),
            found=", ".join(sorted(before)),
            agency=state.agency,
        )
    ]


def paper_despite_electronic(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    for request in _events(history, ev.SUPPLEMENT_REQUESTED, ev.GUIDANCE):
        items = request.payload.get("items") or request.payload.get("missing") or []
        assert isinstance(items, list)  # noqa: S101 (schema-checked)
        for item in items:
            if isinstance(item, str) and ctx.reusable(state.applicant, item):
                out.append(
                    RuleFinding(
                        "rule.paper_despite_electronic",
                        state.code,
                        request.n,
                        "asked for a document a valid electronic result already holds",
                        expected="reuse the electronic result",
                        found=item,
                        agency=state.agency,
                    )
                )
    return out


# 9, 10, 11 --------------------------------------------------------------------------------


def paper_copy_basis(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    return [
        RuleFinding(
            "rule.paper_copy_without_basis",
            state.code,
            e.n,
            "paper copy claimed as legally required for a procedure whose data says not",
            expected="citizen_request",
            found="legal_requirement",
            agency=state.agency,
        )
        for e in _events(history, ev.PAPER_COPY)
        if e.payload.get("basis") == "legal_requirement" and not ctx.paper_allowed(state.procedure)
    ]


def result_signatures(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    out = []
    for item in history:
        body = item.body
        if body.type not in (ev.RESULT_ISSUED, ev.REVOKED, ev.CORRECTED):
            continue
        roles = [s.roles for s in item.signers]
        personal = any(
            "leader" in r and s.actor == body.actor
            for r, s in zip(roles, item.signers, strict=True)
        )
        seal = any("agency_seal" in r for r in roles)
        if not (personal and seal):
            out.append(
                RuleFinding(
                    "rule.result_not_properly_signed",
                    body.stream,
                    body.n,
                    "a result needs the competent signer's and the agency's signature",
                    expected="leader + agency_seal",
                    found=" + ".join(sorted({x for r in roles for x in r})),
                )
            )
    return out


def paper_result_digitized(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    for result in state.results.values():
        if result.medium != "paper" or result.digitized:
            continue
        waited = ctx.working_hours_between(result.issued_us, ctx.now_us)
        if waited > ctx.digitize_within_hours:
            out.append(
                RuleFinding(
                    "rule.paper_result_not_digitized",
                    state.code,
                    result.n,
                    f"paper result {result.number} not digitised in time",
                    expected=f"≤ {ctx.digitize_within_hours} working hours",
                    found=f"{waited:.1f}",
                    agency=state.agency,
                )
            )
    return out


# 15, 16, 18, 20 -------------------------------------------------------------------------------


def fees(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    paid = _events(history, ev.FEE_PAID)
    if len(paid) > 1:
        out.append(
            RuleFinding(
                "rule.fee_collected_twice",
                state.code,
                paid[1].n,
                "fee collected more than once",
                expected="1",
                found=str(len(paid)),
                agency=state.agency,
            )
        )
    if paid and ctx.exempt_from_fees(state.procedure):
        out.append(
            RuleFinding(
                "rule.fee_on_exempt_procedure",
                state.code,
                paid[0].n,
                "fee collected on a fee-exempt procedure",
                expected="no fee",
                found=str(paid[0].payload.get("amount_vnd")),
                agency=state.agency,
            )
        )
    return out


def revocation_due(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    revocations = _events(history, ev.REVOKED)
    for finding in _events(history, ev.FINDING):
        if finding.payload.get("revocation_due") is not True:
            continue
        later = [r for r in revocations if r.n > finding.n]
        end = later[0].time_us if later else ctx.now_us
        waited = ctx.working_hours_between(finding.time_us, end)
        if waited > ctx.revocation_within_hours:
            out.append(
                RuleFinding(
                    "rule.revocation_overdue",
                    state.code,
                    finding.n,
                    "a post-audit finding called for revocation, not done in time",
                    expected=f"≤ {ctx.revocation_within_hours} working hours",
                    found=f"{waited:.1f}",
                    agency=state.agency,
                )
            )
    return out


def self_declared_unaudited(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None or state.resolved_us is None:
        return []
    declared = [c for c in state.components.values() if c.source == "self_declared"]
    if not declared or state.audits:
        return []
    if ctx.now_us - state.resolved_us <= ctx.audit_window_us:
        return []
    return [
        RuleFinding(
            "rule.self_declared_unaudited",
            state.code,
            None,
            "self-declared inputs not sampled within the post-audit window",
            expected="an audit opened",
            found="none",
            agency=state.agency,
        )
    ]


def segregation_of_duties(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    received = {e.actor for e in _events(history, ev.RECEIVED)}
    handled = {e.actor for e in _events(history, ev.STEP)}
    signed = {e.actor for e in _events(history, ev.RESULT_ISSUED)}
    same = received & handled & signed
    return [
        RuleFinding(
            "rule.segregation_of_duties",
            state.code,
            None,
            "the same official received, handled and signed",
            found=actor,
            agency=state.agency,
        )
        for actor in sorted(same)
    ]


RULES: tuple[Rule, ...] = (
    late_without_apology,
    apology_misuse,
    supplement_misuse,
    due_date_recomputed,
    handling_latency,
    inputs_digitized,
    paper_despite_electronic,
    paper_copy_basis,
    result_signatures,
    paper_result_digitized,
    fees,
    revocation_due,
    self_declared_unaudited,
    segregation_of_duties,
)


def audit_dossier(history: Sequence[Recorded], ctx: AuditContext) -> list[RuleFinding]:
    """Every rule over one dossier's history (in stream order)."""
    state, findings = replay(history, ctx.book)
    for rule in RULES:
        findings.extend(rule(history, state, ctx))
    return findings
