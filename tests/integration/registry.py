"""Test key registries: register named actors' keys with one authority, in one batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ledger.core.event import EventBody, sign_event
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.registry import REGISTRY_STREAM, key_registered
from ledger.core.signing import Signer

Actors = Mapping[str, tuple[str, set[str], str]]  # key name → (actor, roles, agency)


def registry_records(
    origin: str, authority: Signer, actors: Actors, key: Callable[[str], Signer]
) -> list[bytes]:
    """Signed ``KeyRegistered`` records for every actor, chained on ``system/keys``."""
    prev = GENESIS_PREV
    records = []
    for n, (name, (actor, roles, agency)) in enumerate(actors.items(), start=1):
        body = EventBody(
            origin=origin,
            stream=REGISTRY_STREAM,
            n=n,
            prev=prev,
            type="KeyRegistered",
            actor="authority:test",
            time_us=1,
            payload=key_registered(key(name).public_key, actor=actor, roles=roles, agency=agency),
        )
        event = sign_event(body, [authority])
        records.append(event.record)
        prev = EventHash(event.event_hash)
    return records
