"""Conduct rules (DOMAIN.md (b) 15, 16, 18, 20): fees, revocation hygiene, post-audit
coverage of self-declared components, segregation of duties."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain import lifecycle as ev
from ledger.domain.rules.base import (
    AuditContext,
    Recorded,
    RuleFinding,
    events_of,
)
from ledger.domain.state import DossierState

# 15, 16, 18, 20 -------------------------------------------------------------------------------


def fees(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if state is None:
        return []
    out = []
    paid = events_of(history, ev.FEE_PAID)
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
    revocations = events_of(history, ev.REVOKED)
    for finding in events_of(history, ev.FINDING):
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
    received = {e.actor for e in events_of(history, ev.RECEIVED)}
    handled = {e.actor for e in events_of(history, ev.STEP)}
    signed = {e.actor for e in events_of(history, ev.RESULT_ISSUED)}
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
