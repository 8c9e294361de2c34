"""Health for load balancers: ``/healthz`` (the process answers) and ``/readyz`` (the
database answers within the API's store timeout, and the projections trail the log by
at most ``HOSO_API_READY_MAX_LAG`` events). Neither needs a token; neither reads data."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import ContextDep
from api.problems import PROBLEM_JSON, problem
from api.responses import json_bytes
from ledger.storage.errors import store_unavailable
from projections import status

router = APIRouter(tags=["health"])
ALIVE = orjson.dumps({"status": "alive"})


class ReadyPublic(BaseModel):
    status: str
    lag: int


_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready: store.unavailable, or projection.lagging",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}},
    }
}


@router.get(
    "/healthz",
    operation_id="getHealth",
    summary="The process is up (no database access)",
    response_model=dict[str, str],
)
async def healthz() -> Response:
    return json_bytes(ALIVE)


def projection_lag(context: ContextDep) -> int:
    """Events stored but not yet in every view (0 when caught up)."""
    lags = status.lag(context.ledger.backend, now_us=context.clock_us())
    return max((lag.behind for lag in lags), default=0)


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="The database answers and the projections are caught up (within the limit)",
    response_model=ReadyPublic,
    responses=_NOT_READY,
)
async def readyz(context: ContextDep) -> Response:
    try:
        lag = await run_in_threadpool(projection_lag, context)
    except Exception as err:
        unavailable = store_unavailable(err)
        if unavailable is None:
            raise
        return problem(503, unavailable.check, unavailable.detail, headers={"Retry-After": "1"})
    limit = context.settings.api_ready_max_lag
    if lag > limit:
        return problem(
            503,
            "projection.lagging",
            f"the projections trail the log by {lag} events (limit {limit})",
            headers={"Retry-After": "1"},
        )
    return json_bytes(orjson.dumps({"status": "ready", "lag": lag}))
