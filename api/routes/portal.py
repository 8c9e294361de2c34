"""``GET /v1/dossiers/{code}/portal-sync``: the national-portal (DVCQG) sync payload; and
``GET /v1/dossiers/{code}/bundle``: the dossier's offline bundle (docs/formats.md §10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from api import reads
from api.deps import LedgerDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES
from ledger.services.bundles import bundle_of
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


BUNDLE_TYPE = "application/vnd.hoso.bundle+msgpack"


@router.get(
    "/{code}/bundle",
    operation_id="getDossierBundle",
    summary="The dossier's offline bundle: events, inclusion proofs, checkpoint, registry",
    response_class=Response,
    responses={
        **PROBLEM_RESPONSES,
        200: {"content": {BUNDLE_TYPE: {}}, "description": "`hoso verify --bundle` checks it"},
    },
)
def get_dossier_bundle(
    code: Annotated[str, Path(max_length=100)], ledger: LedgerDep, principal: PrincipalDep
) -> Response:
    """Officials of the dossier's agencies and inspectors; verify it offline with
    `hoso verify --bundle FILE --trust ROOTS` (docs/verify.md)."""
    reads.visible_row(ledger, principal, code)
    bundle = bundle_of(ledger.backend, dossier=code)
    return Response(
        bundle.encode(),
        media_type=BUNDLE_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{code}.hoso"'},
    )
