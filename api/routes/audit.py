"""``GET /v1/audit/report``: the inspector's post-audit report as JSON — findings with their
legal basis, version and proving events, and the Decision 766 indicators per agency and
period (``hoso audit --report`` writes the same, with the HTML)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.auth import require
from api.deps import ContextDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES
from ledger.services.audit_report import audit_report

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "/report",
    operation_id="getAuditReport",
    summary="Post-audit report: findings citing the law in force, and Decision 766 indicators",
    response_model=dict[str, Any],
    responses=PROBLEM_RESPONSES,
)
async def get_audit_report(context: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    """Inspectors only: it reads every dossier (no personal data: applicants are never read)."""
    require(principal, "inspector")
    return await run_in_threadpool(audit_report, context.ledger.dossiers, now_us=context.clock_us())
