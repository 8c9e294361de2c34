"""The API's factory: ``create_app(settings)`` wires everything; nothing is built at import.

Without a ``ledger`` the app bootstraps one in its lifespan (opening the keystore when
``HOSO_KEYSTORE_PASSPHRASE`` is set and the file exists; otherwise custodial commands
answer 503 ``keystore.closed``). With one (tests, embedding) it uses it as given and
leaves closing it to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool

from api import openapi, problems, transparency
from api.auth import Authenticator
from api.caching import Fresh
from api.context import ApiContext
from api.idempotency import IdempotencyStore
from api.limits import BodyLimit, InFlightLimit, PublicRateLimit, TokenBuckets
from api.people import flush_access_log
from api.routes import (
    agency,
    audit,
    checkpoints,
    citizens,
    commands,
    dossiers,
    events,
    health,
    index,
    portal,
    proofs,
    seals,
    status_lists,
    tiles,
    witness,
)
from api.tokens import TokenStore
from ledger import __version__
from ledger.bootstrap import KeystoreClosed, Ledger, bootstrap, wall_clock_us
from ledger.core.note import parse_ed25519_vkey
from ledger.services.seals.issue import LedgerSealBackend
from ledger.settings import Settings
from ledger.storage.keystore import Keystore
from projections.runner import ensure_views
from projections.views import VIEWS

log = logging.getLogger("hoso.api")
ROUTERS = (
    health.router,
    events.router,
    dossiers.router,
    commands.router,
    portal.router,
    agency.router,
    audit.router,
    citizens.router,
    checkpoints.router,
    proofs.router,
    index.router,
    status_lists.router,
    witness.router,
    seals.router,
    tiles.router,
)
TAGS = [
    {"name": "health", "description": "Liveness and readiness for load balancers"},
    {"name": "events", "description": "Client-signed events and stream heads"},
    {"name": "dossiers", "description": "Dossiers for officials (scoped to their agency)"},
    {"name": "commands", "description": "Custodial commands signed with keystore keys"},
    {"name": "portal", "description": "National public-service portal sync"},
    {"name": "agency", "description": "Statistics, overdue queue, inbox"},
    {"name": "audit", "description": "Post-audit findings"},
    {"name": "citizens", "description": "A citizen's own dossiers and access log"},
    {"name": "checkpoints", "description": "Signed checkpoints (public)"},
    {"name": "proofs", "description": "Merkle proofs (public)"},
    {"name": "witness", "description": "Witness cosignatures"},
    {"name": "tiles", "description": "C2SP tlog-tiles: the log as static files, for mirrors"},
]


def api_settings(settings: Settings) -> Settings:
    """The settings the API's ledger opens with: a request waits at most
    ``api_store_timeout_s`` for the database and does not retry (503 instead)."""
    return settings.model_copy(
        update={"store_timeout_s": settings.api_store_timeout_s, "store_attempts": 1}
    )


def open_ledger(settings: Settings, clock_us: Callable[[], int]) -> Ledger:
    settings = api_settings(settings)
    keystore = None
    if settings.keystore_passphrase is not None and settings.keystore_path.exists():
        keystore = Keystore.open(
            settings.keystore_path, settings.keystore_passphrase.get_secret_value()
        )
    return bootstrap(settings, keystore=keystore, clock_us=clock_us)


def build_context(settings: Settings, ledger: Ledger, clock_us: Callable[[], int]) -> ApiContext:
    tokens = TokenStore(ledger.backend.sql, clock_us=clock_us)
    tokens.create_table()
    idempotency = IdempotencyStore(ledger.backend.sql, clock_us=clock_us)
    idempotency.create_table()
    ensure_views(ledger.backend, dict(VIEWS), now_us=clock_us())
    auth = Authenticator(tokens, cache_s=settings.api_token_cache_s, clock=time.monotonic)
    signed_size = Fresh(lambda: transparency.latest_size(ledger), fresh_s=settings.api_fresh_s)
    return ApiContext(
        settings=settings,
        ledger=ledger,
        tokens=tokens,
        auth=auth,
        clock_us=clock_us,
        idempotency=idempotency,
        signed_size=signed_size,
    )


async def _flush_forever(context: ApiContext, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_in_threadpool(flush_access_log, context)
        except Exception as err:  # keep flushing later; the queue is durable
            log.warning("access-log flush failed: %s", type(err).__name__)


def create_app(
    settings: Settings,
    *,
    ledger: Ledger | None = None,
    clock_us: Callable[[], int] = wall_clock_us,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The hoso API over ``ledger`` (or one bootstrapped from ``settings`` at startup)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: Ledger | None = None
        if getattr(app.state, "context", None) is None:
            owned = await run_in_threadpool(open_ledger, settings, clock_us)
            app.state.context = await run_in_threadpool(build_context, settings, owned, clock_us)
        flusher = asyncio.create_task(
            _flush_forever(app.state.context, settings.api_access_flush_s)
        )
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            with contextlib.suppress(Exception):
                await run_in_threadpool(flush_access_log, app.state.context)
            if owned is not None:
                owned.close()

    app = FastAPI(
        title="hoso API",
        version=__version__,
        summary="Signed, verifiable ledger of electronic administrative dossiers",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.context = None if ledger is None else build_context(settings, ledger, clock_us)
    problems.install(app)
    openapi.install(app)
    for router in (*ROUTERS, *extra_routers):
        app.include_router(router)
    app.state.seal_backend_provider = lambda: seal_backend(app)
    buckets = None
    if settings.api_public_rate > 0:
        buckets = TokenBuckets(rate=settings.api_public_rate, burst=settings.api_public_burst)
    app.add_middleware(PublicRateLimit, buckets=buckets)
    app.add_middleware(
        BodyLimit, max_bytes=settings.api_max_body_bytes, body_timeout_s=settings.api_body_timeout_s
    )
    app.add_middleware(InFlightLimit, max_in_flight=settings.api_max_in_flight)
    return app


def seal_backend(app: FastAPI) -> LedgerSealBackend:
    """The seal page's backend: the app's ledger; the trust list is signed with its log key,
    or (served without the keystore) read as stored under ``HOSO_LOG_VKEY``. One per app,
    so the signed trust list is cached until the key registry changes."""
    ledger = app.state.context.ledger
    cached: LedgerSealBackend | None = getattr(app.state, "seal_backend", None)
    if cached is not None and cached.src is ledger:
        return cached
    signer = ledger.checkpoints.signer
    if signer is not None:
        backend = LedgerSealBackend(ledger, log_signer=signer)
    elif ledger.settings.log_vkey:
        verifier = parse_ed25519_vkey(ledger.settings.log_vkey)
        backend = LedgerSealBackend(ledger, log_verifier=verifier)
    else:
        raise KeystoreClosed(
            "the seal check needs the log key's vkey (HOSO_LOG_VKEY) or the open keystore",
            found="no log key",
        )
    app.state.seal_backend = backend
    return backend
