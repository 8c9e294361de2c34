"""``POST /v1/dossiers/{code}/commands/{command}``: custodial commands (api/custody.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from api import custody
from api.deps import LedgerDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES, ProblemPublic
from api.schemas import CommandCreate, EventAppendedPublic

router = APIRouter(prefix="/v1/dossiers", tags=["commands"])
Command = Literal[
    "receive",
    "receive-supplement",
    "assign",
    "request-supplement",
    "refuse",
    "guidance",
    "complete-step",
    "issue-result",
    "deliver",
]
"""The path's command names; ``tests/api`` checks they are exactly ``custody.COMMANDS``."""


@router.post(
    "/{code}/commands/{command}",
    operation_id="runCommand",
    summary="Run a custodial command: the system signs with the officer's keystore key",
    status_code=201,
    response_model=EventAppendedPublic,
    responses={
        409: {"model": ProblemPublic, "description": "Not allowed in the dossier's state"},
        503: {"model": ProblemPublic, "description": "keystore.closed: no custodial signing"},
        **PROBLEM_RESPONSES,
    },
)
async def run_command(
    code: Annotated[str, Path(max_length=100)],
    command: Command,
    args: CommandCreate,
    ledger: LedgerDep,
    principal: PrincipalDep,
) -> EventAppendedPublic:
    return await run_in_threadpool(custody.run, ledger, principal, code, command, args)
