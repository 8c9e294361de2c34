"""Merkle proofs (public): inclusion by leaf index or event hash, and consistency.

A proof for a given (index, size) or (from, to) never changes: it is answered from the
worker's cache when it can, on the event loop, with ``Cache-Control: immutable``, an
ETag and 304s. A default-size inclusion proof is cut at the latest signed checkpoint
(reused for ``HOSO_API_FRESH_S``) and marked ``max-age`` of that, not immutable.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import transparency
from api.caching import IMMUTABLE, cached
from api.context import ApiContext
from api.deps import ContextDep, PrimaryDep
from api.problems import PROBLEM_RESPONSES
from api.responses import JSON
from api.schemas import ConsistencyProofPublic, InclusionProofPublic
from ledger.core.errors import HosoError
from ledger.storage.checkpoints import CheckpointUnknown

router = APIRouter(prefix="/v1/proofs", tags=["proofs"])
Size = Annotated[int, Query(ge=0, le=2**63 - 1)]
CACHED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (the ETag given in If-None-Match)"}
}


def _signed_size(context: ApiContext) -> int:
    size = context.signed_size.get()
    if size is None:
        raise CheckpointUnknown("the ledger has signed no checkpoint yet")
    return size


def _from_replica_or_primary(context: ApiContext, primary: bool, prove: Any) -> Any:
    """``prove(log)`` on the standby's log; on the primary's when asked, or when the
    standby can't (it may not have replayed the nodes of the newest checkpoint yet)."""
    ledger = context.ledger
    if primary or ledger.replica is None:
        return prove(ledger.log)
    try:
        return prove(ledger.read_log())
    except HosoError:
        return prove(ledger.log)


def _inclusion_bytes(
    context: ApiContext, index: int | None, event_hash: str | None, size: int, primary: bool
) -> bytes:
    key = ("inclusion", index, event_hash, size)
    body = context.proofs.get(key)
    if body is None:
        proof = _from_replica_or_primary(
            context,
            primary,
            lambda log: transparency.inclusion(
                context.ledger, index=index, event_hash=event_hash, size=size, log=log
            ),
        )
        body = orjson.dumps(proof.model_dump())
        context.proofs.put(key, body)
    return body


@router.get(
    "/inclusion",
    operation_id="getInclusionProof",
    summary="Inclusion proof of a leaf (by index or event hash) in the tree of a size",
    response_model=InclusionProofPublic,
    responses={**PROBLEM_RESPONSES, **CACHED},
)
async def get_inclusion(
    request: Request,
    context: ContextDep,
    index: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="the leaf; or give `hash`")
    ] = None,
    hash: Annotated[
        str | None,
        Query(
            min_length=64,
            max_length=64,
            pattern="^[0-9a-fA-F]{64}$",
            description="event hash, hex; or give `index`",
        ),
    ] = None,
    size: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="default: the latest checkpoint's")
    ] = None,
    primary: PrimaryDep = False,
) -> Response:
    fresh, signed = context.signed_size.peek()
    if size is None and not fresh:
        resolved = await run_in_threadpool(_signed_size, context)
    elif size is None:
        if signed is None:
            raise CheckpointUnknown("the ledger has signed no checkpoint yet")
        resolved = signed
    else:
        resolved = size
    body = context.proofs.get(("inclusion", index, hash, resolved))
    if body is None:
        body = await run_in_threadpool(_inclusion_bytes, context, index, hash, resolved, primary)
    control = IMMUTABLE if size is not None else _short(context)
    return cached(request, body, media_type=JSON, cache_control=control)


def _short(context: ApiContext) -> str:
    return f"public, max-age={int(context.settings.api_fresh_s)}"


def _consistency_bytes(context: ApiContext, size1: int, size2: int, primary: bool) -> bytes:
    key = ("consistency", size1, size2)
    body = context.proofs.get(key)
    if body is None:
        proof = _from_replica_or_primary(
            context,
            primary,
            lambda log: transparency.consistency(context.ledger, size1=size1, size2=size2, log=log),
        )
        body = orjson.dumps(proof.model_dump())
        context.proofs.put(key, body)
    return body


@router.get(
    "/consistency",
    operation_id="getConsistencyProof",
    summary="Consistency proof between two tree sizes",
    response_model=ConsistencyProofPublic,
    responses={**PROBLEM_RESPONSES, **CACHED},
)
async def get_consistency(
    request: Request,
    context: ContextDep,
    size1: Annotated[int, Query(alias="from", ge=1, le=2**63 - 1)],
    size2: Annotated[int, Query(alias="to", ge=1, le=2**63 - 1)],
    primary: PrimaryDep = False,
) -> Response:
    body = context.proofs.get(("consistency", size1, size2))
    if body is None:
        body = await run_in_threadpool(_consistency_bytes, context, size1, size2, primary)
    return cached(request, body, media_type=JSON, cache_control=IMMUTABLE)
