"""What every request handler needs, built once per app by :func:`api.app.create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.auth import Authenticator
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
