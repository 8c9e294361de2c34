"""Dossiers for officials: list, one with its history, results, applicant (logged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api import reads
from api.deps import ContextDep, LedgerDep, PrimaryDep, PrincipalDep
from api.people import read_applicant
from api.problems import PROBLEM_RESPONSES
from api.responses import json_bytes
from api.schemas import ApplicantPublic, DossierPagePublic, DossierPublic, ResultPublic
from ledger.domain.privacy import PURPOSES
from projections.queries import MAX_LIMIT, DossierSort

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"])
Code = Annotated[str, Path(max_length=100, examples=["000.39.05.H26-260302-0001"])]
Micros = Annotated[int | None, Query(ge=0, le=2**62)]
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
Text = Annotated[str | None, Query(max_length=200)]


@router.get(
    "",
    operation_id="listDossiers",
    summary="Dossiers by state, procedure, agency, due range, overdue (keyset pages)",
    response_model=DossierPagePublic,
    responses=PROBLEM_RESPONSES,
)
def list_dossiers(
    ledger: LedgerDep,
    principal: PrincipalDep,
    state: Text = None,
    procedure: Text = None,
    agency: Text = None,
    due_from: Micros = None,
    due_to: Micros = None,
    overdue_at: Micros = None,
    sort: DossierSort = "due_us",
    descending: bool = False,
    after: Cursor = None,
    limit: Limit = 50,
    primary: PrimaryDep = False,
) -> Response:
    """Officers and systems see their own agency's dossiers (`agency` is theirs);
    inspectors any agency's."""
    return json_bytes(
        reads.list_dossiers(
            ledger,
            principal,
            state=state,
            procedure=procedure,
            agency=agency,
            due_from=due_from,
            due_to=due_to,
            overdue_at=overdue_at,
            sort=sort,
            descending=descending,
            after=after,
            limit=limit,
            primary=primary,
        )
    )


@router.get(
    "/{code}",
    operation_id="getDossier",
    summary="One dossier: its current state, signed history and results",
    response_model=DossierPublic,
    responses=PROBLEM_RESPONSES,
)
def get_dossier(
    code: Code, ledger: LedgerDep, principal: PrincipalDep, primary: PrimaryDep
) -> Response:
    """Served from the dossier's read document, kept by the projections (docs/api.md)."""
    return json_bytes(reads.document(ledger, principal, code, primary=primary))


@router.get(
    "/{code}/results",
    operation_id="listDossierResults",
    summary="The results issued on a dossier, with their status",
    response_model=list[ResultPublic],
    responses=PROBLEM_RESPONSES,
)
def list_results(code: Code, ledger: LedgerDep, principal: PrincipalDep) -> list[ResultPublic]:
    reads.visible_row(ledger, principal, code)
    return reads.results(ledger, code)


@router.get(
    "/{code}/applicant",
    operation_id="readApplicant",
    summary="The applicant's personal record (the read is logged in the access log)",
    response_model=ApplicantPublic,
    responses=PROBLEM_RESPONSES,
)
def get_applicant(
    code: Code,
    purpose: Annotated[str, Query(max_length=40, description=f"one of {sorted(PURPOSES)}")],
    context: ContextDep,
    principal: PrincipalDep,
) -> ApplicantPublic:
    reads.visible_row(context.ledger, principal, code)
    return read_applicant(context, principal, code, purpose)
