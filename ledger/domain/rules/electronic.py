"""Electronic-only rules (DOMAIN.md (b) 6–11): inputs digitised and signed, no paper
demanded where an electronic version exists, paper copies with a legal basis, results
properly signed, paper results digitised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class PaperRequest:
    """One moment an agency asked for (or scanned from paper) a document: a Form 02 item
    (guidance at reception, supplement request) or a component digitised from paper."""

    stream: str
    n: int
    agency: str
    applicant: bytes
    component: str
    at_us: int
    how: str  # the event type


def paper_requests(history: Sequence[Recorded], state: DossierState | None) -> list[PaperRequest]:
    """Every document the agency asked the applicant for on paper, with when it asked."""
    if state is None:
        return []
    out = []
    for request in events_of(history, ev.SUPPLEMENT_REQUESTED, ev.GUIDANCE, ev.INPUT):
        items: object
        if request.type == ev.INPUT:
            scanned = request.payload.get("source") == "scanned"
            items = [request.payload.get("component")] if scanned else []
        else:
            items = request.payload.get("items") or request.payload.get("missing") or []
        for item in items if isinstance(items, list) else ():  # a bad payload is rule 12's
            if isinstance(item, str):
                out.append(
                    PaperRequest(
                        state.code,
                        request.n,
                        state.agency,
                        state.applicant,
                        item,
                        request.time_us,
                        request.type,
                    )
                )
    return out


def judge_paper_request(
    request: PaperRequest,
    *,
    reusable: Callable[[bytes, str, int], bool],
    national_database: Callable[[str], str | None],
) -> RuleFinding | None:
    """A finding if, at the moment it asked, the agency could have used an electronic
    version: a valid result of the applicant's, or a national database holding it."""
    database = national_database(request.component)
    if database is not None:
        expected = f"fetch it from {database.split(':')[0]}"
    elif reusable(request.applicant, request.component, request.at_us):
        expected = "reuse the applicant's valid electronic result"
    else:
        return None
    what = "scanned from paper" if request.how == ev.INPUT else "asked for on paper"
    return RuleFinding(
        "rule.paper_despite_electronic",
        request.stream,
        request.n,
        f"{what}: a document available electronically at that moment",
        expected=expected,
        found=request.component,
        agency=request.agency,
    )


def paper_despite_electronic(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    if ctx.reusable is None:
        return []  # judged after every dossier was read (verify/dossiers.py)
    out = []
    for request in paper_requests(history, state):
        found = judge_paper_request(
            request, reusable=ctx.reusable, national_database=ctx.national_database
        )
        if found is not None:
            out.append(found)
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


def paper_result_basis(
    history: Sequence[Recorded], state: DossierState | None, ctx: AuditContext
) -> list[RuleFinding]:
    """A result issued on paper where the procedure's law requires none (it is issued
    electronically; paper only as a copy on request)."""
    if state is None or ctx.paper_allowed(state.procedure):
        return []
    return [
        RuleFinding(
            "rule.paper_result_without_basis",
            state.code,
            e.n,
            "result issued on paper for a procedure whose law requires no paper result",
            expected="electronic",
            found="paper",
            agency=state.agency,
        )
        for e in events_of(history, ev.RESULT_ISSUED)
        if e.payload.get("medium") == "paper"
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
