"""Typed dependency aliases: route functions declare what they need, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth import Principal
from api.context import ApiContext
from ledger.bootstrap import Ledger


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


def get_ledger(request: Request) -> Ledger:
    return get_context(request).ledger


def get_principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    return get_context(request).auth.principal(authorization)


ContextDep = Annotated[ApiContext, Depends(get_context)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
PrincipalDep = Annotated[Principal | None, Depends(get_principal)]
