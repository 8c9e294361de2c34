"""``/v1/me``: a citizen's own dossiers, results and access log (the token names them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import reads
from api.deps import LedgerDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES
from api.schemas import AccessPagePublic, CitizenDossierPagePublic, DossierPublic, ResultPublic
from projections.queries import MAX_LIMIT

router = APIRouter(prefix="/v1/me", tags=["citizens"])
Code = Annotated[str, Path(max_length=100)]
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
    "/dossiers",
    operation_id="listMyDossiers",
    summary="Your dossiers, newest first",
    response_model=CitizenDossierPagePublic,
    responses=PROBLEM_RESPONSES,
)
def list_my_dossiers(
    ledger: LedgerDep, principal: PrincipalDep, after: Cursor = None, limit: Limit = 50
) -> CitizenDossierPagePublic:
    return reads.my_dossiers(ledger, principal, after=after, limit=limit)


@router.get(
    "/dossiers/{code}",
    operation_id="getMyDossier",
    summary="One of your dossiers, with its history and results",
    response_model=DossierPublic,
    responses=PROBLEM_RESPONSES,
)
def get_my_dossier(code: Code, ledger: LedgerDep, principal: PrincipalDep) -> DossierPublic:
    return reads.detail(ledger, reads.own_row(ledger, principal, code))


@router.get(
    "/dossiers/{code}/results",
    operation_id="listMyResults",
    summary="The results of one of your dossiers",
    response_model=list[ResultPublic],
    responses=PROBLEM_RESPONSES,
)
def list_my_results(code: Code, ledger: LedgerDep, principal: PrincipalDep) -> list[ResultPublic]:
    reads.own_row(ledger, principal, code)
    return reads.results(ledger, code)


@router.get(
    "/access-log",
    operation_id="getMyAccessLog",
    summary="Who read your personal data, when and why (newest first)",
    response_model=AccessPagePublic,
    responses=PROBLEM_RESPONSES,
)
def get_my_access_log(
    ledger: LedgerDep, principal: PrincipalDep, after: Cursor = None, limit: Limit = 50
) -> AccessPagePublic:
    return reads.my_access_log(ledger, principal, after=after, limit=limit)
