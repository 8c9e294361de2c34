"""``POST /v1/witness/add-checkpoint``: a registered witness submits its cosignature
(c2sp.org/tlog-witness, turned around: see api/transparency.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from api import transparency
from api.auth import require
from api.deps import LedgerDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES, ProblemPublic

router = APIRouter(prefix="/v1/witness", tags=["witness"])
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {
                "schema": {"type": "string"},
                "example": "old 512\nq4Zb...=\n\nhoso.example/hanoi\n1024\n47DE...=\n\n"
                "— hoso.example/hanoi Az3g...\n— witness.example/w1 kq9d...\n",
            }
        },
    }
}


@router.post(
    "/add-checkpoint",
    operation_id="addCheckpointCosignature",
    summary="Submit a witness cosignature of a checkpoint, after checking consistency",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The stored cosignature line"},
        409: {"model": ProblemPublic, "description": "witness.size_mismatch, with known_size"},
        **PROBLEM_RESPONSES,
    },
    openapi_extra=_BODY,
)
async def add_checkpoint(
    request: Request, ledger: LedgerDep, principal: PrincipalDep
) -> PlainTextResponse:
    who = require(principal, "witness")
    body = await request.body()
    signature = await run_in_threadpool(transparency.add_checkpoint, ledger, who.actor, body)
    return PlainTextResponse(signature.line(), media_type="text/plain; charset=utf-8")
