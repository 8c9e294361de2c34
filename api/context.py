"""What every request handler needs, built once per app by :func:`api.app.create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from api.auth import Authenticator
from api.caching import Fresh, Lru
from api.idempotency import IdempotencyStore
from api.tokens import TokenStore
from ledger.bootstrap import Ledger
from ledger.settings import Settings


@dataclass
class ApiContext:
    settings: Settings
    ledger: Ledger
    tokens: TokenStore
    auth: Authenticator
    clock_us: Callable[[], int]
    idempotency: IdempotencyStore
    signed_size: Fresh[int | None]  # the latest signed checkpoint's size, briefly reused
    proofs: Lru[bytes] = field(default_factory=lambda: Lru(20_000))  # immutable answers
    leaves: Lru[int] = field(default_factory=lambda: Lru(100_000))  # event hash → leaf
