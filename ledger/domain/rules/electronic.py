"""Electronic-only rules (DOMAIN.md (b) 6–11): inputs digitised and signed, no paper
demanded where an electronic version exists, paper copies with a legal basis, results
properly signed, paper results digitised."""

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

# 6, 8 -------------------------------------------------------------------------------------


def inputs_digitized(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    """Read from the raw history: a store that enforced this would have refused the reception."""
    receptions = events_of(history, ev.RECEIVED)
    if state is None or not receptions:
        return []
    required = ctx.book.required_components(state.procedure) or frozenset()
    received = receptions[0]
    before = {str(e.payload["component"]) for e in events_of(history, ev.INPUT) if e.n < received.n}
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
    for request in events_of(history, ev.SUPPLEMENT_REQUESTED, ev.GUIDANCE):
        items = request.payload.get("items") or request.payload.get("missing") or []
        for item in items if isinstance(items, list) else ():  # a bad payload is rule 12's
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
        for e in events_of(history, ev.PAPER_COPY)
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
