"""Signed checkpoints (public): C2SP signed-note text by default, JSON on request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api import transparency
from api.deps import LedgerDep
from api.problems import PROBLEM_RESPONSES
from api.schemas import CheckpointPublic
from ledger.core.note import Note

router = APIRouter(prefix="/v1/checkpoints", tags=["checkpoints"])
NOTE = "text/plain; charset=utf-8"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The signed checkpoint with every cosignature",
        "content": {
            "text/plain": {
                "schema": {"type": "string"},
                "example": "hoso.example/hanoi\n1024\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5N"
                "MpJWZG3hSuFU=\n\n— hoso.example/hanoi Az3grlgt...\n",
            },
            "application/json": {"schema": CheckpointPublic.model_json_schema()},
        },
    },
    **PROBLEM_RESPONSES,
}


def _render(note: Note, accept: str | None) -> Response:
    if accept and "application/json" in accept and "text/plain" not in accept:
        return JSONResponse(transparency.checkpoint_public(note).model_dump())
    return PlainTextResponse(note.serialise().decode(), media_type=NOTE)


@router.get(
    "/latest",
    operation_id="getLatestCheckpoint",
    summary="The latest signed checkpoint",
    response_class=Response,
    responses=_RESPONSES,
)
def get_latest(
    ledger: LedgerDep, accept: Annotated[str | None, Header(max_length=500)] = None
) -> Response:
    return _render(transparency.latest_note(ledger), accept)


@router.get(
    "/{size}",
    operation_id="getCheckpoint",
    summary="The signed checkpoint at a tree size",
    response_class=Response,
    responses=_RESPONSES,
)
def get_at(
    size: Annotated[int, Path(ge=0, le=2**63 - 1)],
    ledger: LedgerDep,
    accept: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    return _render(transparency.note_at(ledger, size), accept)
