"""Typed dependency aliases: route functions declare what they need, nothing more."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import Authenticator, Principal
from api.context import ApiContext
from ledger.bootstrap import Ledger


async def get_context(request: Request) -> ApiContext:
    # async: FastAPI runs a plain function dependency in the thread pool, one hop each
    context: ApiContext = request.app.state.context
    return context


async def get_ledger(request: Request) -> Ledger:
    context: ApiContext = request.app.state.context
    return context.ledger


async def get_principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    """The token's principal: from the authenticator's cache on the event loop, or looked
    up in the token store in the thread pool (it may wait for the database)."""
    auth: Authenticator = request.app.state.context.auth
    hit, principal = auth.cached(authorization)
    if hit:
        return principal
    return await run_in_threadpool(auth.principal, authorization)


ContextDep = Annotated[ApiContext, Depends(get_context)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


async def get_primary(
    read_from: Annotated[
        Literal["primary", "replica"],
        Header(
            alias="Hoso-Read-From",
            description="`primary`: read the primary's latest state (read-your-writes after"
            " a command) instead of the standby HOSO_READ_URL names (docs/operations.md)",
        ),
    ] = "replica",
) -> bool:
    return read_from == "primary"


PrimaryDep = Annotated[bool, Depends(get_primary)]
