"""``POST /v1/events`` (client-signed records) and ``GET /v1/streams/{stream}/head``."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import submit
from api.deps import LedgerDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES, ApiError, ProblemPublic
from api.schemas import EventAppendedPublic, EventCreate, StreamHeadPublic

router = APIRouter(prefix="/v1", tags=["events"])
MSGPACK = "application/msgpack"

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            MSGPACK: {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": EventCreate.model_json_schema()},
        },
    }
}


def _record(content_type: str, body: bytes) -> bytes:
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind in (MSGPACK, "application/x-msgpack", "application/octet-stream"):
        return body
    if kind == "application/json":
        try:
            data = EventCreate.model_validate(json.loads(body))
            return base64.b64decode(data.record, validate=True)
        except (ValueError, binascii.Error) as err:
            raise ApiError(
                'the JSON body must be {"record": "<base64 of the signed record>"}',
                check="request.invalid",
                status=422,
            ) from err
    raise ApiError(
        f"send the record as {MSGPACK} or application/json", check="request.media_type", status=415
    )


@router.post(
    "/events",
    operation_id="submitEvent",
    summary="Submit a client-signed event",
    status_code=201,
    response_model=EventAppendedPublic,
    responses={
        200: {"model": EventAppendedPublic, "description": "Already stored (idempotent retry)"},
        409: {
            "model": ProblemPublic,
            "description": "append.conflict (with the head to re-sign on) or a domain.* refusal",
        },
        415: {"model": ProblemPublic, "description": "Unsupported media type"},
        **PROBLEM_RESPONSES,
    },
    openapi_extra=_BODY,
)
async def submit_event(
    request: Request, response: Response, ledger: LedgerDep, principal: PrincipalDep
) -> EventAppendedPublic:
    """Check and append a record signed by the actor's own client.

    The store checks everything (shape, origin, chain, signatures, keys, lifecycle).
    On `409 append.conflict` re-sign the event on the `head` given in the problem.
    Resubmitting the identical record answers `200` with the same result."""
    record = _record(request.headers.get("content-type", ""), await request.body())
    result = await run_in_threadpool(submit.submit, ledger, principal, record)
    if result.duplicate:
        response.status_code = 200
    return result


@router.get(
    "/streams/{stream:path}/head",
    operation_id="getStreamHead",
    summary="A stream's head, to sign the next event on",
    response_model=StreamHeadPublic,
    responses=PROBLEM_RESPONSES,
)
def get_stream_head(
    stream: Annotated[str, Path(max_length=200)], ledger: LedgerDep, principal: PrincipalDep
) -> StreamHeadPublic:
    return submit.stream_head(ledger, principal, stream)
