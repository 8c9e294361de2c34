"""Bearer authentication: the principal behind a request, and who may see which dossier.

Principals: ``officer`` and ``system`` (scoped to their agency), ``inspector`` (reads
everything, verifies, audits), ``citizen`` (their own dossiers and access log, under
``/v1/me``), ``witness`` (submits cosignatures), and the public (no token).
Authenticated tokens are cached for ``HOSO_API_TOKEN_CACHE_S`` seconds (a revocation
takes effect within that time); the cache is keyed by the token's SHA-256, never the
token itself.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from api.problems import ApiError, forbidden, not_found, unauthorized
from api.tokens import Kind, MalformedToken, TokenRecord, TokenStore

OFFICIALS: frozenset[Kind] = frozenset({"officer", "system", "inspector"})


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Kind
    actor: str
    agency: str
    token_id: str
    subject: bytes | None = None
    key_name: str | None = None

    @classmethod
    def of(cls, record: TokenRecord) -> Principal:
        return cls(
            kind=record.kind,
            actor=record.actor,
            agency=record.agency,
            token_id=record.token_id,
            subject=record.subject,
            key_name=record.key_name,
        )

    @property
    def official(self) -> bool:
        return self.kind in OFFICIALS

    @property
    def scoped(self) -> bool:
        """Officers and systems see their own agency's dossiers only."""
        return self.kind in ("officer", "system")

    def sees(self, agencies: set[str]) -> bool:
        return self.kind == "inspector" or (self.scoped and self.agency in agencies)


class Authenticator:
    def __init__(self, tokens: TokenStore, *, cache_s: float, clock: Callable[[], float]) -> None:
        self.tokens = tokens
        self.cache_s = cache_s
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}

    def cached(self, authorization: str | None) -> tuple[bool, Principal | None]:
        """(True, principal) when the answer needs no lookup (public, or a cached valid
        token); (False, None) otherwise: call :meth:`principal`."""
        if not authorization:
            return True, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False, None
        key = hashlib.sha256(token.strip().encode()).digest()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > self.clock() and hit[1] is not None:
            return True, hit[1]
        return False, None

    def principal(self, authorization: str | None) -> Principal | None:
        """None for the public; the principal for a valid token; 401 for a bad one."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("use Authorization: Bearer <token>")
        token = token.strip()
        key = hashlib.sha256(token.encode()).digest()
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            found = hit[1]
        else:
            try:
                record = self.tokens.authenticate(token)
            except MalformedToken:
                record = None
            found = None if record is None else Principal.of(record)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (now + self.cache_s, found)
        if found is None:
            raise unauthorized("the token is unknown, expired or revoked")
        return found


def require(principal: Principal | None, *kinds: Kind) -> Principal:
    """401 without a token; 403 unless the principal is one of ``kinds``."""
    if principal is None:
        raise unauthorized()
    if principal.kind not in kinds:
        raise forbidden(f"{principal.kind} tokens may not do this; allowed: {', '.join(kinds)}")
    return principal


def citizen_subject(principal: Principal) -> bytes:
    """The data subject a citizen token is for (403 if the token names none)."""
    if principal.subject is None:
        raise forbidden("this token names no data subject", check="auth.no_subject")
    return principal.subject


def dossier_agencies(row: Mapping[str, Any]) -> set[str]:
    return {str(a) for a in (row.get("agency"), row.get("current_agency")) if a}


def check_visible(principal: Principal, agencies: set[str]) -> None:
    """404 (never 403: that would reveal the dossier exists) unless the principal sees it."""
    if not principal.sees(agencies):
        raise not_found("no dossier with this code")


def scope_agency(principal: Principal, agency: str | None) -> str | None:
    """The agency filter a list runs with: officers' and systems' own, inspectors' choice."""
    if principal.kind == "inspector":
        return agency
    if agency is not None and agency != principal.agency:
        raise ApiError(
            "you may list your own agency's dossiers only", check="scope.agency", status=403
        )
    return principal.agency


def monotonic() -> float:
    return time.monotonic()
