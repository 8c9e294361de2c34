"""C2SP tlog-tiles (public): ``/checkpoint``, ``/tile/<L>/<N>[.p/<W>]``, ``/tile/entries/…``.

Tiles and entry bundles come from the stored nodes and records (ledger.services.tiles),
kept in the worker's cache of immutable answers, and are served with
``Cache-Control: immutable`` and an ETag; only what the latest signed checkpoint covers
is served (404 ``tiles.unknown`` otherwise). The hash tiles and ``/checkpoint`` are
public; the entry bundles hold the signed records, which name dossier codes, so they
need an inspector's token (a public mirror is exported without them, ``hoso tiles
export --no-entries``). ``/checkpoint`` is mutable: ``max-age`` of
``HOSO_API_FRESH_S`` (docs/api.md §Tiles, docs/formats.md §14).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import transparency
from api.auth import require
from api.caching import IMMUTABLE, cached
from api.context import ApiContext
from api.deps import ContextDep, PrincipalDep
from api.problems import PROBLEM_RESPONSES
from ledger.services import tiles as tile_service
from ledger.storage.checkpoints import CheckpointUnknown

router = APIRouter(tags=["tiles"])
OCTETS = "application/octet-stream"
NOTE = "text/plain; charset=utf-8"
_BINARY: dict[int | str, dict[str, Any]] = {
    200: {"content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}}},
    304: {"description": "Not modified (the ETag given in If-None-Match)"},
    **PROBLEM_RESPONSES,
}
_PROBLEMS = PROBLEM_RESPONSES
TilePath = Annotated[str, Path(max_length=120, pattern=r"^[0-9x./p]+$")]


def _signed(context: ApiContext) -> int:
    size = context.signed_size.get()
    if size is None:
        raise CheckpointUnknown("the ledger has signed no checkpoint yet")
    return size


def _tile_bytes(context: ApiContext, path: str) -> bytes:
    body = context.proofs.get(("tile", path))
    if body is None:
        try:
            wanted = tile_service.resolve(path, _signed(context))
        except tile_service.TileUnknown:  # the cached size may trail /checkpoint's: re-read
            size = transparency.latest_size(context.ledger)
            wanted = tile_service.resolve(path, 0 if size is None else size)
        body = tile_service.read(context.ledger.log, wanted)
        context.proofs.put(("tile", path), body)
    return body


async def _serve(request: Request, context: ApiContext, path: str) -> Response:
    body = context.proofs.get(("tile", path))
    if body is None:
        body = await run_in_threadpool(_tile_bytes, context, path)
    return cached(request, body, media_type=OCTETS, cache_control=IMMUTABLE)


@router.get(
    "/checkpoint",
    operation_id="getTlogCheckpoint",
    summary="The latest signed checkpoint with its cosignatures (c2sp.org/tlog-tiles)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **_PROBLEMS},
)
async def get_checkpoint(context: ContextDep) -> Response:
    note = await run_in_threadpool(transparency.latest_note, context.ledger)
    control = f"public, max-age={int(context.settings.api_fresh_s)}"
    return Response(note.serialise(), media_type=NOTE, headers={"Cache-Control": control})


@router.get(
    "/tile/entries/{rest:path}",
    operation_id="getTlogEntryBundle",
    summary="An entry bundle: the signed records of 256 leaves (or fewer, .p/<W>); inspectors",
    response_class=Response,
    responses=_BINARY,
)
async def get_entries(
    request: Request, context: ContextDep, principal: PrincipalDep, rest: TilePath
) -> Response:
    require(principal, "inspector")  # the records name dossier codes: not for the public
    return await _serve(request, context, f"tile/entries/{rest}")


@router.get(
    "/tile/{level}/{rest:path}",
    operation_id="getTlogTile",
    summary="A hash tile: 256 stored Merkle tree hashes at level 8·L (or fewer, .p/<W>)",
    response_class=Response,
    responses=_BINARY,
)
async def get_tile(
    request: Request,
    context: ContextDep,
    level: Annotated[str, Path(max_length=2, pattern=r"^[0-9]+$")],
    rest: TilePath,
) -> Response:
    return await _serve(request, context, f"tile/{level}/{rest}")
