"""Merkle proofs (public): inclusion by leaf index or event hash, and consistency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import transparency
from api.deps import LedgerDep
from api.problems import PROBLEM_RESPONSES
from api.schemas import ConsistencyProofPublic, InclusionProofPublic

router = APIRouter(prefix="/v1/proofs", tags=["proofs"])
Size = Annotated[int, Query(ge=0, le=2**63 - 1)]


@router.get(
    "/inclusion",
    operation_id="getInclusionProof",
    summary="Inclusion proof of a leaf (by index or event hash) in the tree of a size",
    response_model=InclusionProofPublic,
    responses=PROBLEM_RESPONSES,
)
def get_inclusion(
    ledger: LedgerDep,
    index: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    hash: Annotated[str | None, Query(max_length=64, description="event hash, hex")] = None,
    size: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="default: the latest checkpoint's")
    ] = None,
) -> InclusionProofPublic:
    return transparency.inclusion(ledger, index=index, event_hash=hash, size=size)


@router.get(
    "/consistency",
    operation_id="getConsistencyProof",
    summary="Consistency proof between two tree sizes",
    response_model=ConsistencyProofPublic,
    responses=PROBLEM_RESPONSES,
)
def get_consistency(
    ledger: LedgerDep,
    size1: Annotated[int, Query(alias="from", ge=1, le=2**63 - 1)],
    size2: Annotated[int, Query(alias="to", ge=1, le=2**63 - 1)],
) -> ConsistencyProofPublic:
    return transparency.consistency(ledger, size1=size1, size2=size2)
