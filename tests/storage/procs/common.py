"""What the test processes share: the ledger's origin, keys and event builders."""

from __future__ import annotations

import hashlib
import time

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import SignedEvent, sign_event
from ledger.core.note import Ed25519NoteSigner
from ledger.core.registry import (
    KEY_REGISTERED,
    KEY_REVOKED,
    REGISTRY_STREAM,
    key_registered,
    key_revoked,
)
from ledger.core.signing import Signer
from ledger.storage.database import Backend, open_backend
from ledger.storage.store import EventStore

ORIGIN = "test.hoso.example/hanoi"
AGENCY = "H26.50.01"


def seed(name: str) -> Signer:
    """A deterministic key named ``name`` (test keys only)."""
    return Signer(hashlib.sha256(name.encode()).digest())


def authority() -> Signer:
    return seed("authority")


def log_key() -> Ed25519NoteSigner:
    return Ed25519NoteSigner(ORIGIN, seed("log"))


def open_store(url: str, *, pool_size: int = 2) -> tuple[Backend, EventStore]:
    backend = open_backend(url, pool_size=pool_size)
    auth = authority()
    return backend, EventStore(backend, origin=ORIGIN, authorities={auth.key_id: auth.public_key})


def next_event(
    head: SignedEvent | None,
    *,
    stream: str,
    kind: str,
    actor: str,
    signers: list[Signer],
    payload: dict[str, Value] | None = None,
    time_us: int | None = None,
) -> SignedEvent:
    """The event that continues ``head`` (``None``: the stream's first event)."""
    body = next_body(
        head,
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=time.time_ns() // 1000 if time_us is None else time_us,
        payload={} if payload is None else payload,
    )
    return sign_event(body, signers)


def registration(head: SignedEvent | None, signer: Signer, *, actor: str) -> SignedEvent:
    payload = key_registered(signer.public_key, actor=actor, roles={"handler"}, agency=AGENCY)
    return next_event(
        head,
        stream=REGISTRY_STREAM,
        kind=KEY_REGISTERED,
        actor="authority:hanoi",
        signers=[authority()],
        payload=payload,
    )


def revocation(head: SignedEvent | None, signer: Signer) -> SignedEvent:
    return next_event(
        head,
        stream=REGISTRY_STREAM,
        kind=KEY_REVOKED,
        actor="authority:hanoi",
        signers=[authority()],
        payload=key_revoked(signer.key_id, reason="test"),
    )


def register_keys(store: EventStore, keys: dict[str, Signer]) -> None:
    """Register each actor's key (actor → signer) in one registry batch."""
    head = store.head(REGISTRY_STREAM)
    batch = []
    for actor, signer in keys.items():
        head = registration(head, signer, actor=actor)
        batch.append(head.record)
    store.append(batch)
