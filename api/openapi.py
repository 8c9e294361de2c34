"""The OpenAPI document states what the server enforces, so schema-driven clients and
fuzzers find no mismatch: besides each route's own answers, every operation lists the
answers the middleware and the store can give it (docs/api.md §Limits):

* 503 ``store.unavailable`` (any operation: the database can't answer now);
* 429 ``rate.limited`` / ``server.busy`` (the per-address public rate, the in-flight cap);
* 413 ``request.too_large`` and 408 ``request.timeout`` (operations with a body);
* 422 ``request.invalid`` (parameters or body outside their schema), as problem+json;

and the bearer-token scheme the ``Authorization`` header carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemPublic"}
COMMON = {
    "422": "The request's parameters or body are outside their schema (request.invalid)",
    "429": "Too many requests: rate.limited (public, per address) or server.busy (in flight)",
    "503": "The database can't answer now (store.unavailable), with Retry-After",
}
WITH_BODY = {
    "413": "The request body is over the limit (request.too_large)",
    "408": "The request body did not arrive in time (request.timeout)",
}


LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    # (operationId, status) → links a client (or a stateful fuzzer) can follow
    ("listDossiers", "200"): {
        "GetDossier": {
            "operationId": "getDossier",
            "parameters": {"code": "$response.body#/items/0/code"},
        },
        "ListDossierResults": {
            "operationId": "listDossierResults",
            "parameters": {"code": "$response.body#/items/0/code"},
        },
    },
    ("runCommand", "201"): {
        "GetDossier": {
            "operationId": "getDossier",
            "parameters": {"code": "$response.body#/stream"},
        },
        "GetInclusionProof": {
            "operationId": "getInclusionProof",
            "parameters": {"hash": "$response.body#/event_hash"},
        },
    },
    ("getInclusionProof", "200"): {
        "GetCheckpoint": {
            "operationId": "getCheckpoint",
            "parameters": {"size": "$response.body#/size"},
        },
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the middleware's and the store's answers and the security scheme to ``schema``."""
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            extra = dict(COMMON)
            if method in ("post", "put", "patch"):
                extra.update(WITH_BODY)
            for status, description in extra.items():
                answer = responses.setdefault(status, _problem(description))
                answer.setdefault("content", {}).setdefault(PROBLEM_JSON, {"schema": PROBLEM_REF})
            operation.setdefault("security", [{"bearer": []}, {}])
            for (operation_id, status), links in LINKS.items():
                if operation.get("operationId") == operation_id and status in responses:
                    responses[status].setdefault("links", {}).update(links)
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `hoso tokens issue` (docs/api.md §Authentication)",
    }
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the completed document (built once, then cached)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
