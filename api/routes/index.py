"""The stream index (public): a stream's state at the latest checkpoint, with its proof.

``GET /v1/index?stream=<id>`` answers the stream's number of events, head and result
statuses as of the latest checkpoint, and ``proof``: the standalone index proof
(docs/formats.md §12.4, canonical msgpack, base64) that checks it offline under the
trust file alone (``verify.evidence.verify_index_proof``). A stream with no event
answers ``state: null`` with a proof of absence. Nothing personal is in either.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import LedgerDep
from api.problems import PROBLEM_RESPONSES
from ledger.core.checkpoint import parse_checkpoint_text
from ledger.core.event import parse_stored
from ledger.core.index import StreamState, verify_lookup
from ledger.core.note import parse_note
from ledger.domain.streams import index_commit
from ledger.services.index_proofs import index_proof

router = APIRouter(prefix="/v1/index", tags=["proofs"])


class ResultStatusPublic(BaseModel):
    number: str
    status: str = Field(description="valid | revoked | superseded")
    n: int = Field(description="the stream position of the event that set it")


class StreamStatePublic(BaseModel):
    n: int = Field(description="the stream's number of events in the checkpoint")
    head: str = Field(description="the last event's hash, hex")
    results: list[ResultStatusPublic]


class IndexLookupPublic(BaseModel):
    """The asked stream's state (the id is not echoed: the caller has it)."""

    origin: str
    checkpoint_size: int
    tree_size: int = Field(description="the log size the index covers (checkpoint size − 1)")
    state: StreamStatePublic | None
    proof: str = Field(description="the index proof document, base64 (docs/formats.md §12.4)")


def _state(state: StreamState | None) -> StreamStatePublic | None:
    if state is None:
        return None
    return StreamStatePublic(
        n=state.n,
        head=state.head.hex(),
        results=[
            ResultStatusPublic(number=r.number, status=r.status, n=r.n) for r in state.results
        ],
    )


def lookup(ledger: LedgerDep, stream: str) -> IndexLookupPublic:
    document = index_proof(ledger.backend, [stream])
    commit = index_commit(parse_stored(document.evidence.commit.record).body)
    state = verify_lookup(document.evidence.proofs[0].lookup, root=commit.root, stream=stream)
    return IndexLookupPublic(
        origin=document.origin,
        checkpoint_size=parse_checkpoint_text(parse_note(document.checkpoint).text).size,
        tree_size=commit.tree_size,
        state=_state(state),
        proof=base64.b64encode(document.encode()).decode(),
    )


@router.get(
    "",
    operation_id="getIndexLookup",
    summary="A stream's state at the latest checkpoint, with its index proof",
    response_model=IndexLookupPublic,
    responses=PROBLEM_RESPONSES,
)
async def get_lookup(
    ledger: LedgerDep,
    stream: Annotated[str, Query(min_length=1, max_length=255, description="stream id")],
) -> IndexLookupPublic:
    return await run_in_threadpool(lookup, ledger, stream)
