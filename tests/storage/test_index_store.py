"""The stream index on disk (ledger.storage.index_store) equals the reference fold
(domain.streams.fold_states into core.index.IndexTree) at every version built: over many
build chunks (rows of one version upserted more than once), incremental builds that both
add and update streams, and lookup proofs read a few depths per query, at old versions too.
"""

from __future__ import annotations

import hashlib

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
from ledger.storage.sql import EVENTS_TABLE

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
