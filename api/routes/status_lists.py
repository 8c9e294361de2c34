"""Signed status lists (public): ``GET /v1/status-lists/{agency}/{list}``.

Answers the latest published document of an agency's list (docs/formats.md §13) as
``application/vnd.hoso.status-list``: canonical msgpack, signed by the agency's seal
key, its SHA-256 committed in the log. Whoever holds it checks it offline (``hoso seal
verify --status-list``); it names no result and no person, only bits. Cached for a
minute: a new list is published when statuses change, and a verifier's freshness
policy, not the cache, decides how old a list may be.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import LedgerDep
from api.problems import PROBLEM_RESPONSES
from ledger.services.status_lists import latest_document

router = APIRouter(prefix="/v1/status-lists", tags=["proofs"])

MEDIA_TYPE = "application/vnd.hoso.status-list"


@router.get(
    "/{agency}/{list_no}",
    operation_id="getStatusList",
    summary="An agency's latest signed status list (docs/formats.md §13)",
    response_class=Response,
    responses={
        **PROBLEM_RESPONSES,
        200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
    },
)
async def get_status_list(
    ledger: LedgerDep,
    agency: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z.\-]+$")],
    list_no: Annotated[int, Path(ge=0, le=255)],
) -> Response:
    document = await run_in_threadpool(latest_document, ledger.store, agency, list_no)
    return Response(
        document, media_type=MEDIA_TYPE, headers={"Cache-Control": "public, max-age=60"}
    )
