"""The stream index on disk (ledger.storage.index_store) equals the reference fold
(domain.streams.fold_states into core.index.IndexTree) at every version built: over many
build chunks (rows of one version upserted more than once), incremental builds that both
add and update streams, and lookup proofs read a few depths per query, at old versions too.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import SignedEvent, parse_record, sign_event
from ledger.core.index import IndexTree, verify_lookup
from ledger.core.signing import Signer
from ledger.domain import lifecycle as ev
from ledger.domain.streams import fold_states
from ledger.storage import index_store
from ledger.storage.database import Backend
from ledger.storage.index_store import IndexStore
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.sql import EVENTS_TABLE, Cursor

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/hanoi"
SIGNER = Signer(hashlib.sha256(b"index store officer").digest())
STREAMS = 12


def _payload(stream: int, n: int) -> tuple[str, dict[str, Value]]:
    number = f"KQ-{stream}-1"
    if n == 2:
        return ev.RESULT_ISSUED, {"result_number": number}
    if n == 3 and stream % 3 == 0:
        return ev.REVOKED, {"result_number": number}
    if n == 3 and stream % 3 == 1:
        return ev.CORRECTED, {"result_number": f"KQ-{stream}-2", "supersedes": number}
    return "DossierUpdated", {"step": n}


def log_events() -> list[SignedEvent]:
    """Four events on each of twelve streams, interleaved by position, results among them."""
    heads: dict[int, SignedEvent | None] = dict.fromkeys(range(STREAMS))
    out = []
    for n in range(1, 5):
        for stream in range(STREAMS):
            kind, payload = _payload(stream, n)
            body = next_body(
                heads[stream],
                origin=ORIGIN,
                stream=f"000.00.10.H26-260101-{stream:04d}",
                event_type=kind,
                actor="officer:1",
                time_us=1,
                payload=payload,
            )
            event = sign_event(body, [SIGNER])
            heads[stream] = event
            out.append(event)
    return out


def load(backend: Backend, events: list[SignedEvent]) -> None:
    rows = [(e.body.stream, e.body.n, e.body.type, e.record) for e in events]
    with backend.sql.transaction() as curs:
        curs.insert_many(
            EVENTS_TABLE,
            ("originator_id", "originator_version", "topic", "state"),
            ("text", "int8", "text", "bytea"),
            rows,
        )
    MerkleLog(backend).integrate()


def reference(events: list[SignedEvent]) -> IndexTree:
    tree = IndexTree()
    parsed = [parse_record(e.record) for e in events]
    tree.set(fold_states((p.body, p.event_hash) for p in parsed).values())
    return tree


def test_builds_equal_the_reference_fold_at_every_version(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_store, "CHUNK", 7)  # several chunks (and upserts) per version
    monkeypatch.setattr(index_store, "PATH_BATCH", 2)  # proofs read their path in batches
    events = log_events()
    load(backend, events)
    store = IndexStore(backend)
    versions = [5, 20, 33, len(events)]
    for version in versions:
        built = store.build(end=version)
        expected = reference(events[:version])
        assert (built.version, built.root.hash) == (version, expected.root.hash)
        assert built.streams == len(expected.values)
        assert store.build(end=version) == built  # already built: nothing to do
    for version in versions:  # every version stays provable after later builds
        expected = reference(events[:version])
        root = store.built(version)
        assert root is not None
        assert root.root.hash == expected.root.hash
        for stream in range(STREAMS + 3):
            name = f"000.00.10.H26-260101-{stream:04d}"
            proof = store.prove(name, version=version)
            assert verify_lookup(proof, root=root.root.hash, stream=name) == expected.state(name)
            assert proof == expected.prove(name)
            assert store.state(name, version=version) == expected.state(name)


def _check_versions(store: IndexStore, events: list[SignedEvent], versions: list[int]) -> None:
    for version in versions:
        expected = reference(events[:version])
        built = store.built(version)
        assert built is not None, version
        assert built.root.hash == expected.root.hash, version
        assert built.streams == len(expected.values), version
        for stream in range(STREAMS + 2):
            name = f"000.00.10.H26-260101-{stream:04d}"
            proof = store.prove(name, version=version)
            assert verify_lookup(proof, root=built.root.hash, stream=name) == expected.state(name)


def test_an_interrupted_build_leaves_whole_versions_and_the_next_build_is_right(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk is one transaction at the version it ends at: a build killed in its
    second chunk leaves the first chunk's version whole (nothing above it), and the next
    build goes on from there to the right root and stream count."""
    monkeypatch.setattr(index_store, "CHUNK", 7)
    events = log_events()
    load(backend, events)
    store = IndexStore(backend)
    real = IndexStore._upsert
    calls = 0

    def dies_in_the_second_chunk(self: IndexStore, curs: Cursor, table: Any, rows: Any) -> None:
        nonlocal calls
        calls += 1
        real(self, curs, table, rows)
        if calls == 3:  # the second chunk's nodes are written, its values not yet
            raise RuntimeError("killed")

    monkeypatch.setattr(IndexStore, "_upsert", dies_in_the_second_chunk)
    with pytest.raises(RuntimeError, match="killed"):
        store.build(end=len(events))
    monkeypatch.setattr(IndexStore, "_upsert", real)
    latest = store.latest_built()
    assert latest is not None
    assert latest.version == 7
    orphans = backend.sql.rows("SELECT COUNT(*) AS c FROM hoso_index_nodes WHERE version > 7")
    assert int(orphans[0]["c"]) == 0  # the killed chunk left nothing
    again = IndexStore(backend).build(end=len(events))
    assert again.version == len(events)
    _check_versions(store, events, [7, 14, len(events)])


def test_two_builders_with_caches_take_turns_and_agree_with_the_reference(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower and a checkpoint signer (two stores, each keeping the trie's top in
    memory) build in turns, one sometimes below what the other built: each mends its cache
    from the paths the other changed, and every version equals the reference."""
    monkeypatch.setattr(index_store, "CHUNK", 5)
    events = log_events()
    load(backend, events)
    follower, signer = IndexStore(backend, cache_depth=3), IndexStore(backend, cache_depth=3)
    follower.build(end=9)
    signer.build(end=13)  # the tail, from the follower's version
    follower.build(end=30)  # from the signer's: the follower's cache is mended first
    signer.build(end=22)  # below the follower's latest: from 13, its own cache dropped
    signer.build(end=33)
    follower.build(end=len(events))
    _check_versions(follower, events, [9, 13, 22, 30, 33, len(events)])


def test_a_version_another_builder_wrote_first_stands(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = log_events()
    load(backend, events)
    first, second = IndexStore(backend), IndexStore(backend)
    base = first.build(end=10)
    changes = second._changes(10, 20)
    first.build(end=20)
    second._apply(changes, base=base, version=20)  # lost the race: writes nothing
    _check_versions(first, events, [10, 20])
