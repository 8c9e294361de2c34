"""The store takes on each system stream only that stream's types and payload shapes, and
index commits only by the trusted log key — refused before anything is stored, on SQLite
and PostgreSQL alike."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.errors import HosoError
from ledger.core.event import sign_event
from ledger.core.signing import Signer
from ledger.domain.privacy import ACCESS_STREAM, DATA_ACCESSED, PRIVACY_STREAM
from ledger.domain.streams import INDEX_COMMITTED, INDEX_STREAM, IndexCommit, index_payload
from ledger.storage.database import Backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from tests.storage.test_storage_contract import ORIGIN, World, seed

pytestmark = pytest.mark.integration

LOG = seed("log")


@pytest.fixture
def world(backend: Backend) -> World:
    authority = seed("authority")
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={authority.key_id: authority.public_key},
        log_keys={LOG.key_id: LOG.public_key},
    )
    w = World(store)
    w.register(seed("system"), "system:access", {"system"})
    return w


def refused(
    world: World,
    stream: str,
    kind: str,
    payload: dict[str, Value],
    signer: Signer,
    *,
    actor: str = "system:access",
) -> str:
    body = next_body(
        world.store.head(stream),
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=1_767_225_600_000_000,
        payload=payload,
    )
    before = MerkleLog(world.store.backend).backend.recorder.max_notification_id()
    with pytest.raises(HosoError) as caught:
        world.store.append([sign_event(body, [signer]).record])
    assert world.store.head(stream) is None  # nothing stored
    after = MerkleLog(world.store.backend).backend.recorder.max_notification_id()
    assert after == before
    return caught.value.check


def test_a_dossier_event_on_the_erasure_stream_is_stream_type(world: World) -> None:
    submitted: dict[str, Value] = {"procedure": "1.001193", "agency": "H26"}
    assert refused(world, PRIVACY_STREAM, "DossierSubmitted", submitted, seed("system")) == (
        "stream.type"
    )


def test_a_malformed_access_batch_is_domain_payload(world: World) -> None:
    assert refused(world, ACCESS_STREAM, DATA_ACCESSED, {"queue": [1]}, seed("system")) == (
        "domain.payload"
    )


def test_an_unknown_system_stream_is_stream_type(world: World) -> None:
    assert refused(world, "system/other", DATA_ACCESSED, {}, seed("system")) == "stream.type"


def test_an_index_commit_by_another_key_than_the_log_key_is_refused(world: World) -> None:
    payload = index_payload(IndexCommit(1, hashlib.sha256(b"r").digest(), 1))
    check = refused(world, INDEX_STREAM, INDEX_COMMITTED, payload, seed("system"), actor=ORIGIN)
    assert check == "append.log_key"


def test_an_index_commit_by_the_log_key_is_taken(world: World) -> None:
    payload = index_payload(IndexCommit(1, hashlib.sha256(b"r").digest(), 1))
    body = next_body(
        None,
        origin=ORIGIN,
        stream=INDEX_STREAM,
        event_type=INDEX_COMMITTED,
        actor=ORIGIN,
        time_us=1,
        payload=payload,
    )
    world.store.append([sign_event(body, [LOG]).record])
    head = world.store.head(INDEX_STREAM)
    assert head is not None
    assert head.body.payload == payload
