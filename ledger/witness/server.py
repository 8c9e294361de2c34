"""The witness's HTTP interface (c2sp.org/tlog-witness), a small Starlette app:

* ``POST <prefix>/add-checkpoint``: 200 with the cosignature line(s); 409 with the body
  ``<size>\\n`` and ``Content-Type: text/x.tlog.size``; 400 malformed body or old size
  past the checkpoint; 403 no valid trusted log signature; 404 unknown origin; 422 not
  consistent; 413 a body over the largest well-formed request (the spec names no code
  for it; 413 is HTTP's, RFC 9110 §15.5.14). Every error body is one text line with
  the check id.
* ``GET <prefix>/<hex SHA-256 of the origin>/checkpoint``: the latest checkpoint it
  cosigned for that log, with the log's signature and its own cosignature (404 if none).

No authentication: the checkpoint's signature is the only credential (the spec's).
"""

from __future__ import annotations

from typing import Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger.core.errors import HosoError, MalformedError
from ledger.core.witness import (
    MAX_REQUEST_BYTES_WITH_NOTE,
    SIZE_CONTENT_TYPE,
    WitnessInconsistent,
    WitnessLogSignature,
    WitnessOldPastCheckpoint,
    WitnessSizeConflict,
    WitnessUnknownLog,
    format_size,
)
from ledger.witness.service import Witness

TEXT: Final = "text/plain; charset=utf-8"
STATUS: Final[dict[type[HosoError], int]] = {
    WitnessUnknownLog: 404,
    WitnessLogSignature: 403,
    WitnessOldPastCheckpoint: 400,
    WitnessSizeConflict: 409,
    WitnessInconsistent: 422,
    MalformedError: 400,
}


def status_for(err: HosoError) -> int:
    """The HTTP status of a witness error (500 for anything unexpected)."""
    for cls, status in STATUS.items():
        if isinstance(err, cls):
            return status
    return 500


def create_app(witness: Witness, *, max_body: int = MAX_REQUEST_BYTES_WITH_NOTE) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_limited(request, max_body)
        if body is None:
            return _text(f"[witness.request]: body over {max_body} bytes\n", 413)
        try:
            signatures = await run_in_threadpool(witness.add_checkpoint, body)
        except WitnessSizeConflict as err:
            return Response(format_size(err.size), 409, headers={"content-type": SIZE_CONTENT_TYPE})
        except HosoError as err:
            return _text(f"{err}\n", status_for(err))
        return _text("".join(s.line() for s in signatures), 200)

    async def checkpoint(request: Request) -> Response:
        note = witness.checkpoint_by_origin_hash(str(request.path_params["origin_hash"]))
        if note is None:
            return _text("no checkpoint cosigned for that log\n", 404)
        return Response(note, 200, headers={"content-type": TEXT})

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )


def _text(text: str, status: int) -> Response:
    return Response(text.encode(), status, headers={"content-type": TEXT})


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
