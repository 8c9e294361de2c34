"""Responses written from bytes: the hot reads skip FastAPI's response-model pass.

A route that returns :func:`json_bytes` still declares its ``response_model`` (the
OpenAPI document states the shape); the bytes come ready from the projections or
from ``orjson``, and the tests check them against that model.
"""

from __future__ import annotations

from fastapi import Response

JSON = "application/json"


def json_bytes(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, media_type=JSON, headers=headers)
