"""``GET /v1/dossiers/{code}/portal-sync``: the national-portal (DVCQG) sync payload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api import reads
from api.deps import LedgerDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES
from projections.portal import portal_sync

router = APIRouter(prefix="/v1/dossiers", tags=["portal"])


@router.get(
    "/{code}/portal-sync",
    operation_id="getPortalSync",
    summary="The dossier's national-portal sync payload (no personal data)",
    response_model=dict[str, Any],
    responses=PROBLEM_RESPONSES,
)
def get_portal_sync(
    code: Annotated[str, Path(max_length=100)], ledger: LedgerDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Field names are the portal's (projections/portal.py); the applicant's name and id
    fields are empty: fill them from the personal-data store under its access rules."""
    reads.visible_row(ledger, principal, code)
    return portal_sync(ledger.backend, code, catalogue=ledger.catalogue)
