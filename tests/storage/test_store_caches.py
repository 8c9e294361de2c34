"""The store's in-process caches (stream heads, registered keys) never change an outcome.

Two stores share one database; each has its own caches, so one store's view can
go stale while the other writes. Every case below must end exactly as it would
with the caches off (``cache_size=0``).
"""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.errors import SignatureInvalid
from ledger.core.event import SignedEvent, sign_event
from ledger.core.registry import REGISTRY_STREAM, key_registered, key_revoked
from ledger.core.signing import Signer
from ledger.storage.database import Backend
from ledger.storage.errors import KeyRevoked, StreamConflict
from ledger.storage.store import EventStore

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/hanoi"
AUTHORITY = Signer(hashlib.sha256(b"authority").digest())
OFFICER = Signer(hashlib.sha256(b"officer").digest())


def event(
    head: SignedEvent | None,
    stream: str,
    *,
    signer: Signer = OFFICER,
    actor: str = "officer:1",
    kind: str = "Step",
    payload: dict[str, Value] | None = None,
    time_us: int = 1,
) -> SignedEvent:
    body = next_body(
        head,
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=time_us,
        payload=dict(payload or {}),
    )
    return sign_event(body, [signer])


def registry_event(store: EventStore, kind: str, payload: dict[str, Value]) -> bytes:
    head = store.head(REGISTRY_STREAM)
    return event(
        head,
        REGISTRY_STREAM,
        signer=AUTHORITY,
        actor="authority:hanoi",
        kind=kind,
        payload=payload,
    ).record


@pytest.fixture(params=[10_000, 0], ids=["cached", "uncached"])
def stores(backend: Backend, request: pytest.FixtureRequest) -> tuple[EventStore, EventStore]:
    authorities = {AUTHORITY.key_id: AUTHORITY.public_key}
    a = EventStore(backend, origin=ORIGIN, authorities=authorities, cache_size=request.param)
    b = EventStore(backend, origin=ORIGIN, authorities=authorities, cache_size=request.param)
    payload = key_registered(
        OFFICER.public_key, actor="officer:1", roles={"handler"}, agency="H26.50.01"
    )
    a.append([registry_event(a, "KeyRegistered", payload)])
    return a, b


def test_a_stale_head_hint_still_conflicts_with_the_real_head(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    first = event(None, "S-1")
    a.append([first.record])  # a now holds first as its hint for S-1
    theirs = event(first, "S-1", payload={"by": "b"})
    b.append([theirs.record])
    ours = event(first, "S-1", payload={"by": "a"})  # links to a's stale hint
    with pytest.raises(StreamConflict) as info:
        a.append([ours.record])
    assert (info.value.head_n, info.value.head_hash) == (2, theirs.event_hash)
    assert [e.record for e in a.read_stream("S-1")] == [first.record, theirs.record]


def test_a_resubmission_another_writer_stored_is_a_duplicate(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    first = event(None, "S-2")
    a.append([first.record])
    second = event(first, "S-2")
    assert not b.append([second.record])[0].duplicate
    again = a.append([second.record])  # a's hint says the head is still `first`
    assert again[0].duplicate
    assert len(a.read_stream("S-2")) == 2


def test_a_key_revoked_by_another_writer_is_refused(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    first = event(None, "S-3")
    a.append([first.record])  # a caches OFFICER as registered and unrevoked
    b.append([registry_event(b, "KeyRevoked", key_revoked(OFFICER.key_id, reason="lost"))])
    with pytest.raises(KeyRevoked):
        a.append([event(first, "S-3").record])
    assert len(a.read_stream("S-3")) == 1


def test_a_large_batch_reports_the_first_bad_signature_in_order(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, _ = stores
    good = [event(None, f"B-{i}") for i in range(40)]
    a.append([good[0].record])  # a caches the key, so the batch verifies early, on threads
    batch = [event(good[i], f"B-{i}") if i == 0 else good[i] for i in range(40)]
    forged = bytearray(batch[17].record)
    forged[-1] ^= 1  # the last byte is inside the signature
    records = [e.record for e in batch]
    records[17] = bytes(forged)
    with pytest.raises(SignatureInvalid) as info:
        a.append(records)
    assert "B-17" in str(info.value)
    assert a.read_stream("B-1") == []


def test_a_key_registered_earlier_in_the_batch_can_sign_later_in_it(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, _ = stores
    newcomer = Signer(hashlib.sha256(b"newcomer").digest())
    payload = key_registered(
        newcomer.public_key, actor="officer:2", roles={"handler"}, agency="H26.50.01"
    )
    registration = registry_event(a, "KeyRegistered", payload)
    first = [event(None, f"N-{i}", signer=newcomer, actor="officer:2") for i in range(40)]
    a.append([registration, *[e.record for e in first]])
    a.append([event(first[0], "N-0", signer=newcomer, actor="officer:2").record])
    assert len(a.read_stream("N-0")) == 2
