"""RFC 9457 problem details (``application/problem+json``) for every error the API returns.

Each problem carries hoso's check id (``check``), and where the core said so, the
position (``where``) and the expected and found values, exactly as the typed errors of
:mod:`ledger.core.errors` render them. Bad input maps to 4xx; the catch-all handler
turns anything unexpected into a 500 problem that says nothing about internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.core.errors import (
    GoneError,
    HosoError,
    MalformedError,
    NotFoundError,
    RefusedError,
    StateConflict,
    UnavailableError,
    VerificationError,
)
from ledger.storage.errors import (
    DRIVER_ERRORS,
    StoreUnavailable,
    StreamConflict,
    store_unavailable,
)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hoso.example/problems/"
log = logging.getLogger("hoso.api")

# HTTP status by error class, most specific first (never by check-id strings).
STATUS_BY_CLASS: tuple[tuple[type[HosoError], int], ...] = (
    (GoneError, 410),
    (NotFoundError, 404),
    (RefusedError, 403),
    (UnavailableError, 503),
    (MalformedError, 400),
    (StateConflict, 409),
    (VerificationError, 422),
)


class ProblemPublic(BaseModel):
    """An RFC 9457 problem, extended with hoso's check id and its diagnostics."""

    type: str = Field(examples=[TYPE_BASE + "append.conflict"])
    title: str = Field(examples=["append.conflict"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["the stream already has an event at this position"])
    check: str = Field(examples=["append.conflict"])
    where: str | None = Field(None, examples=["stream 000.39.05.H26-260302-0001"])
    expected: str | None = None
    found: str | None = None
    head: dict[str, Any] | None = Field(
        None, description="On append.conflict: the stream's current head, to re-sign on"
    )
    known_size: int | None = Field(
        None, description="On witness.size_mismatch: the size the ledger knows you cosigned"
    )
    errors: list[dict[str, Any]] | None = Field(None, description="Request validation errors")


class ApiError(HosoError):
    """An error of the API itself (auth, scope, limits), with its HTTP status."""

    status = 400

    def __init__(
        self,
        detail: str,
        *,
        check: str,
        status: int,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.api_check = check
        self.status = status
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(detail)

    def _message(self) -> str:
        return f"[{getattr(self, 'api_check', 'api')}]: {self.detail}"


def unauthorized(detail: str = "a bearer token is required") -> ApiError:
    return ApiError(
        detail, check="auth.required", status=401, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str, check: str = "auth.forbidden") -> ApiError:
    return ApiError(detail, check=check, status=403)


def not_found(detail: str = "not found") -> NotFoundError:
    return NotFoundError(detail)


def status_of(err: HosoError) -> int:
    """The HTTP status of an error, from its class (:data:`STATUS_BY_CLASS`)."""
    if isinstance(err, ApiError):
        return err.status
    for family, status in STATUS_BY_CLASS:
        if isinstance(err, family):
            return status
    return 400


def problem(
    status: int,
    check: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + check,
        "title": check,
        "status": status,
        "detail": detail,
        "check": check,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


RETRY_AFTER_S = 1


def hoso_problem(err: HosoError) -> JSONResponse:
    status = status_of(err)
    if isinstance(err, StoreUnavailable):
        return problem(
            503, err.check, err.detail, headers={"Retry-After": str(RETRY_AFTER_S)}, where=err.where
        )
    if isinstance(err, ApiError):
        return problem(status, err.api_check, err.detail, headers=err.headers, **err.extra)
    info = err.as_dict()
    extra: dict[str, Any] = {k: info[k] for k in ("where", "expected", "found")}
    if isinstance(err, StreamConflict):
        extra["head"] = {
            "stream": err.stream,
            "n": err.head_n,
            "event_hash": None if err.head_hash is None else err.head_hash.hex(),
        }
    return problem(status, err.check, err.detail, **extra)


def install(app: FastAPI) -> None:
    """Register the handlers: hoso errors, validation, HTTP errors, and the catch-all."""

    async def on_hoso(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, HosoError):  # registered for HosoError only
            return await on_unexpected(request, exc)
        return hoso_problem(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            return await on_unexpected(request, exc)
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return problem(
            422, "request.invalid", "the request does not match its schema", errors=errors
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):
            return await on_unexpected(request, exc)
        check = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        return problem(exc.status_code, check, str(exc.detail), headers=dict(exc.headers or {}))

    async def on_store(request: Request, exc: Exception) -> JSONResponse:
        unavailable = store_unavailable(exc)
        if unavailable is None:
            return await on_unexpected(request, exc)
        # the database can't answer now: 503, retry soon (logged without the driver's text)
        log.warning("store unavailable on %s %s", request.method, request.url.path)
        return hoso_problem(unavailable)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged by type and route only: an exception's text may hold request data.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem(500, "server.error", "an unexpected error; it has been logged")

    app.add_exception_handler(HosoError, on_hoso)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for driver_error in DRIVER_ERRORS:
        app.add_exception_handler(driver_error, on_store)
    app.add_exception_handler(Exception, on_unexpected)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemPublic, "description": text, "content": {PROBLEM_JSON: {}}}
    for code, text in (
        (400, "Malformed input (check id names what could not be parsed)"),
        (401, "No or invalid bearer token"),
        (403, "The principal may not do this"),
        (404, "Not found, or not visible to this principal"),
        (422, "Well-formed input that failed a check, or a request its schema refuses"),
        (503, "The database can't answer now (store.unavailable, with Retry-After)"),
    )
}
