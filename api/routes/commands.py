"""``POST /v1/dossiers/{code}/commands/{command}``: custodial commands (api/custody.py)."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, Path, Response
from fastapi.concurrency import run_in_threadpool

from api import custody
from api.deps import ContextDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES, ProblemPublic
from api.responses import json_bytes
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
        409: {
            "model": ProblemPublic,
            "description": "Not allowed in the dossier's state; or idempotency.in_progress",
        },
        503: {"model": ProblemPublic, "description": "keystore.closed: no custodial signing"},
        **PROBLEM_RESPONSES,
    },
)
async def run_command(
    code: Annotated[str, Path(max_length=100)],
    command: Command,
    args: CommandCreate,
    context: ContextDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            pattern="^[!-~]+$",
            description="Makes a retry safe: the same key and body return the first answer"
            " (with `Idempotency-Replayed: true`) and never run the command twice; the key"
            " with another body is a 422 (docs/api.md §Idempotency)",
        ),
    ] = None,
) -> Response:
    answer, replayed = await run_in_threadpool(
        lambda: custody.run_idempotent(
            context.ledger,
            context.idempotency,
            principal,
            code=code,
            command=command,
            args=args,
            key=idempotency_key,
        )
    )
    headers = {"Idempotency-Replayed": "true"} if replayed else None
    return json_bytes(orjson.dumps(answer.model_dump()), status=201, headers=headers)
