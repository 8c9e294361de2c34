"""The recorder's in-lock revocation re-check: refuses the whole batch, stores nothing,
and never refuses a batch over a revocation that batch makes itself.

On PostgreSQL the re-check is the insert's own condition (``hoso_unrevoked``), so a
refusal is an error on the server inside the pipelined transaction; these cases pin
that it comes back as KeyRevokedConcurrently every time (never as a retried
"pipeline aborted"), and that nothing of the transaction commits.
"""

from __future__ import annotations

import hashlib

import pytest
from eventsourcing.persistence import OperationalError, StoredEvent

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import SignedEvent, sign_event
from ledger.core.registry import REGISTRY_STREAM, key_registered, key_revoked
from ledger.core.signing import Signer
from ledger.storage.database import Backend
from ledger.storage.errors import KeyRevokedConcurrently
from ledger.storage.store import EventStore

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/hanoi"
AUTHORITY = Signer(hashlib.sha256(b"authority").digest())
OFFICER = Signer(hashlib.sha256(b"officer").digest())
OTHER = Signer(hashlib.sha256(b"other officer").digest())


def event(
    head: SignedEvent | None,
    stream: str,
    *,
    signer: Signer = OFFICER,
    actor: str = "officer:1",
    kind: str = "Step",
    payload: dict[str, Value] | None = None,
) -> SignedEvent:
    body = next_body(
        head,
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=1,
        payload=dict(payload or {}),
    )
    return sign_event(body, [signer])


def registry(head: SignedEvent | None, kind: str, payload: dict[str, Value]) -> SignedEvent:
    return event(
        head, REGISTRY_STREAM, signer=AUTHORITY, actor="authority:hanoi", kind=kind, payload=payload
    )


def open_store(backend: Backend, cache_size: int) -> tuple[EventStore, SignedEvent]:
    """A store with OFFICER and OTHER registered; returns it and the registry head."""
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={AUTHORITY.key_id: AUTHORITY.public_key},
        cache_size=cache_size,
    )
    head = None
    batch = []
    for signer, actor in ((OFFICER, "officer:1"), (OTHER, "officer:2")):
        payload = key_registered(
            signer.public_key, actor=actor, roles={"handler"}, agency="H26.50.01"
        )
        head = registry(head, "KeyRegistered", payload)
        batch.append(head.record)
    store.append(batch)
    assert head is not None
    return store, head


def stored_count(backend: Backend) -> int:
    return len(backend.recorder.select_notifications(start=None, limit=10_000))


@pytest.mark.parametrize("size", [1, 100])
def test_recorder_refuses_a_batch_signed_by_a_revoked_key_and_stores_nothing(
    backend: Backend, size: int
) -> None:
    store, head = open_store(backend, 0)
    store.append([registry(head, "KeyRevoked", key_revoked(OFFICER.key_id, reason="lost")).record])
    before = stored_count(backend)
    for attempt in range(20):  # the server's answer may arrive at any point of the pipeline
        stored = [
            StoredEvent(
                originator_id=f"R-{attempt}-{i}",
                originator_version=1,
                topic="Step",
                state=b"x" * 500,
            )
            for i in range(size)
        ]
        with pytest.raises(KeyRevokedConcurrently) as info:
            backend.recorder.insert_events(
                stored, hoso_statements=[], hoso_key_ids=sorted([OTHER.key_id, OFFICER.key_id])
            )
        assert info.value.found == OFFICER.key_id
        # not an error eventsourcing retries (ten times, 0.2 s apart) before giving up
        assert not isinstance(info.value.__cause__, OperationalError)
        assert stored_count(backend) == before
    # The connection is still usable, and unrevoked keys pass.
    ok = [StoredEvent(originator_id="R-ok", originator_version=1, topic="Step", state=b"x")]
    backend.recorder.insert_events(ok, hoso_statements=[], hoso_key_ids=[OTHER.key_id])
    assert stored_count(backend) == before + 1


@pytest.mark.parametrize("cache_size", [10_000, 0], ids=["cached", "uncached"])
def test_a_batch_may_revoke_a_key_it_used_earlier(backend: Backend, cache_size: int) -> None:
    store, head = open_store(backend, cache_size)
    first = event(None, "S-1")
    store.append([first.record])
    second = event(first, "S-1")  # signed by OFFICER, before the revocation below
    revocation = registry(head, "KeyRevoked", key_revoked(OFFICER.key_id, reason="left"))
    store.append([second.record, revocation.record])
    assert [e.record for e in store.read_stream("S-1")] == [first.record, second.record]
    assert store.keys([OFFICER.key_id])[OFFICER.key_id].revoked
