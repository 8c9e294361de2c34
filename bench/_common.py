"""Shared pieces of the storage benchmarks: a fresh database, keys, signed events."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import SignedEvent, sign_event
from ledger.core.registry import REGISTRY_STREAM, key_registered
from ledger.core.signing import Signer
from ledger.storage.database import Backend, open_backend
from ledger.storage.store import EventStore

ORIGIN = "bench.hoso.example/hanoi"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/hoso_bench"
TIME_US = 1_767_225_600_000_000
PAYLOAD: dict[str, Value] = {"procedure": "1.001193", "agency": "H26.50.01", "note": "x" * 200}


def seed(name: str) -> Signer:
    return Signer(hashlib.sha256(name.encode()).digest())


def reset_postgres_database(url: str) -> None:
    """Drop and re-create the database named in ``url`` (connecting to ``postgres``)."""
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


@dataclass
class Ledger:
    """An opened backend, its store, and the actor keys registered in it."""

    backend: Backend
    store: EventStore
    authority: Signer
    actors: list[tuple[str, Signer]] = field(default_factory=list)

    def close(self) -> None:
        self.backend.close()


def open_ledger(url: str, *, actors: int = 4, pool_size: int = 5) -> Ledger:
    """Open ``url`` (tables created), and register ``actors`` keys in one registry batch."""
    backend = open_backend(url, pool_size=pool_size)
    authority = seed("bench-authority")
    store = EventStore(backend, origin=ORIGIN, authorities={authority.key_id: authority.public_key})
    ledger = Ledger(backend, store, authority)
    previous: SignedEvent | None = store.head(REGISTRY_STREAM)
    batch: list[bytes] = []
    for i in range(actors):
        signer = seed(f"bench-actor-{i}")
        actor = f"officer:{i}"
        payload = key_registered(
            signer.public_key, actor=actor, roles={"reception", "handler"}, agency="H26.50.01"
        )
        previous = next_event(
            previous,
            stream=REGISTRY_STREAM,
            kind="KeyRegistered",
            actor="authority:hanoi",
            signers=[authority],
            payload=payload,
        )
        batch.append(previous.record)
        ledger.actors.append((actor, signer))
    store.append(batch)
    return ledger


def next_event(
    head: SignedEvent | None,
    *,
    stream: str,
    kind: str,
    actor: str,
    signers: Sequence[Signer],
    payload: dict[str, Value] | None = None,
    time_us: int = TIME_US,
) -> SignedEvent:
    """Sign the event that continues ``head`` (``None``: the stream's first event)."""
    body = next_body(
        head,
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=time_us,
        payload=dict(PAYLOAD if payload is None else payload),
    )
    return sign_event(body, signers)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values``, linear interpolation (like numpy's default)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]
