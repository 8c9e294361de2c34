"""Agency views: statistics, the overdue queue, the inbox, audit findings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import reads
from api.deps import ContextDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES
from api.schemas import DossierPagePublic, FindingPublic, OverduePagePublic, StatisticsRowPublic
from projections.queries import MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["agency"])
Text = Annotated[str | None, Query(max_length=200)]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=1000,
        pattern="^[A-Za-z0-9_-]+$",
        description="`next` of the previous page (base64url, opaque)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get(
    "/statistics",
    operation_id="getStatistics",
    summary="Decision 766 indicators per agency and procedure for a month",
    response_model=list[StatisticsRowPublic],
    responses=PROBLEM_RESPONSES,
)
def get_statistics(
    context: ContextDep,
    principal: PrincipalDep,
    period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])],
    agency: Text = None,
    procedure: Text = None,
) -> list[StatisticsRowPublic]:
    return reads.statistics(
        context.ledger,
        principal,
        period=period,
        now_us=context.clock_us(),
        agency=agency,
        procedure=procedure,
    )


@router.get(
    "/overdue",
    operation_id="getOverdueQueue",
    summary="Open dossiers late now, or due within the horizon",
    response_model=OverduePagePublic,
    responses=PROBLEM_RESPONSES,
)
def get_overdue(
    context: ContextDep,
    principal: PrincipalDep,
    horizon_s: Annotated[int, Query(ge=0, le=366 * 86_400)] = 0,
    agency: Text = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> OverduePagePublic:
    return reads.overdue(
        context.ledger,
        principal,
        now_us=context.clock_us(),
        horizon_us=horizon_s * 1_000_000,
        agency=agency,
        after=after,
        limit=limit,
    )


@router.get(
    "/inbox",
    operation_id="getInbox",
    summary="Open dossiers an agency holds now (its own or transferred to it)",
    response_model=DossierPagePublic,
    responses=PROBLEM_RESPONSES,
)
def get_inbox(
    context: ContextDep,
    principal: PrincipalDep,
    agency: Text = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> DossierPagePublic:
    return reads.inbox(context.ledger, principal, agency=agency, after=after, limit=limit)


@router.get(
    "/findings",
    operation_id="listFindings",
    summary="Post-audit findings and events the lifecycle refused",
    response_model=list[FindingPublic],
    responses=PROBLEM_RESPONSES,
    tags=["audit"],
)
def list_findings(
    context: ContextDep,
    principal: PrincipalDep,
    code: Text = None,
    agency: Text = None,
    rule: Text = None,
) -> list[FindingPublic]:
    return reads.findings(context.ledger, principal, code=code, agency=agency, rule=rule)
