"""A Hypothesis state machine drives the store, the Merkle log and checkpoints
against a plain in-memory model, on SQLite and on PostgreSQL.

Rules: valid appends (batches over several streams, optionally co-signed),
stale-head appends (StreamConflict carrying the model's head), byte-identical
resubmissions (duplicates, never stored twice), appends signed by revoked or
unregistered keys (rejected whole, nothing stored), key registrations and
revocations by the authority, partial or full integration, and checkpoints.

After every step: each stream equals the model's; the notification log is the
model's order of successful appends; the tree's root at its size is the RFC 9162
root of those records' leaf hashes; sampled inclusion proofs, the consistency
proofs from every signed checkpoint and the checkpoints' signatures verify.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from eventsourcing.persistence import Notification
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.core import merkle
from ledger.core.chain import next_body
from ledger.core.checkpoint import Checkpoint, open_checkpoint
from ledger.core.event import EventBody, SignedEvent, sign_event
from ledger.core.hashing import GENESIS_PREV, Hash, leaf_hash
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.signing import Signer
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.database import open_backend
from ledger.storage.errors import KeyRevoked, KeyUnregistered, RegistryRejected, StreamConflict
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from tests.storage.procs.common import (
    ORIGIN,
    authority,
    log_key,
    next_event,
    registration,
    revocation,
    seed,
)
from tests.support.databases import private_postgres_url, reset_postgres

pytestmark = pytest.mark.integration

STREAMS = ("D-1", "D-2", "D-3", "D-4")
ACTORS = ("officer:0", "officer:1", "officer:2")
EVERY_STREAM = (*STREAMS, REGISTRY_STREAM)

MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class ModelKey:
    name: str
    signer: Signer
    actor: str
    revoked: bool = False


class LedgerMachine(RuleBasedStateMachine):
    """The store under test beside a model: streams, global order, keys, integrated size."""

    def __init__(self, fresh_url: Callable[[], str]) -> None:
        super().__init__()
        url = fresh_url()
        auth = authority()
        # Two stores on two connections to one database, as two processes would have:
        # each keeps its own caches, which the other's appends make stale.
        self.backends = [open_backend(url, pool_size=2) for _ in range(2)]
        self.stores = [
            EventStore(b, origin=ORIGIN, authorities={auth.key_id: auth.public_key})
            for b in self.backends
        ]
        self.backend, self.store = self.backends[0], self.stores[0]
        self.log = MerkleLog(self.backend)
        self.checkpoints = Checkpoints(self.log, signer=log_key())
        self.streams: dict[str, list[SignedEvent]] = {s: [] for s in EVERY_STREAM}
        self.order: list[SignedEvent] = []
        self.keys: list[ModelKey] = []
        self.integrated = 0
        self.signed: dict[int, Checkpoint] = {}
        self.clock = itertools.count(1_767_225_600_000_000)
        self.rivals = itertools.count()
        self.steps = 0
        self.checks = 0

    def teardown(self) -> None:
        for backend in self.backends:
            backend.close()

    # --- model helpers -------------------------------------------------------

    def head(self, stream: str) -> SignedEvent | None:
        events = self.streams[stream]
        return events[-1] if events else None

    def active(self) -> list[ModelKey]:
        return [k for k in self.keys if not k.revoked]

    def revoked(self) -> list[ModelKey]:
        return [k for k in self.keys if k.revoked]

    def commit(self, events: list[SignedEvent]) -> None:
        for event in events:
            self.streams[event.body.stream].append(event)
            self.order.append(event)

    def build(
        self,
        stream: str,
        signers: list[Signer],
        actor: str,
        heads: dict[str, SignedEvent | None],
    ) -> SignedEvent:
        head = heads[stream] if stream in heads else self.head(stream)
        body = next_body(
            head,
            origin=ORIGIN,
            stream=stream,
            event_type="Step",
            actor=actor,
            time_us=next(self.clock),
            payload={"step": self.steps},
        )
        event = sign_event(body, signers)
        heads[stream] = event
        return event

    def signers_for(self, data: st.DataObject, key: ModelKey, pool: list[ModelKey]) -> list[Signer]:
        """``key`` alone, or co-signed by another key of ``pool`` (an agency seal, say)."""
        others = [k for k in pool if k.signer.key_id != key.signer.key_id]
        cosigned: bool = data.draw(st.booleans(), label="co-signed")
        if others and cosigned:
            return [key.signer, data.draw(st.sampled_from(others), label="co-signer").signer]
        return [key.signer]

    def pick(self, data: st.DataObject) -> EventStore:
        return self.stores[data.draw(st.integers(0, len(self.stores) - 1), label="store")]

    def registry_append(self, store: EventStore, event: SignedEvent) -> None:
        result = store.append([event.record])
        assert [(r.n, r.duplicate) for r in result] == [(event.body.n, False)]
        self.commit([event])

    def leaf_hashes(self, size: int) -> list[Hash]:
        return [leaf_hash(e.record) for e in self.order[:size]]

    # --- rules -----------------------------------------------------------------

    @initialize()
    def register_initial_keys(self) -> None:
        for actor in (ACTORS[0], ACTORS[1], ACTORS[0]):
            self.register(actor, 0)

    @rule(actor=st.sampled_from(ACTORS), which=st.sampled_from([0, 1]))
    def register(self, actor: str, which: int) -> None:
        name = f"key-{len(self.keys)}"
        key = ModelKey(name, seed(name), actor)
        event = registration(self.head(REGISTRY_STREAM), key.signer, actor=actor)
        self.registry_append(self.stores[which], event)
        self.keys.append(key)

    @precondition(lambda self: self.active())
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.active()), label="revoked key")
        self.registry_append(self.pick(data), revocation(self.head(REGISTRY_STREAM), key.signer))
        key.revoked = True

    @precondition(lambda self: any(k.revoked for k in self.keys))
    @rule(data=st.data())
    def revoke_again_is_rejected(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.revoked()), label="already revoked")
        with pytest.raises(RegistryRejected):
            self.pick(data).append([revocation(self.head(REGISTRY_STREAM), key.signer).record])

    @precondition(lambda self: any(not k.revoked for k in self.keys))
    @rule(data=st.data(), streams=st.lists(st.sampled_from(STREAMS), min_size=1, max_size=4))
    def append(self, data: st.DataObject, streams: list[str]) -> None:
        self.steps += 1
        key = data.draw(st.sampled_from(self.active()), label="signing key")
        signers = self.signers_for(data, key, self.active())
        heads: dict[str, SignedEvent | None] = {}
        events = [self.build(s, signers, key.actor, heads) for s in streams]
        result = self.pick(data).append([e.record for e in events])
        assert [(r.stream, r.n, r.event_hash, r.duplicate) for r in result] == [
            (e.body.stream, e.body.n, e.event_hash, False) for e in events
        ]
        self.commit(events)

    @precondition(lambda self: any(self.streams[s] for s in STREAMS))
    @rule(data=st.data())
    def stale_head_conflicts(self, data: st.DataObject) -> None:
        self.steps += 1
        stream = data.draw(st.sampled_from([s for s in STREAMS if self.streams[s]]))
        events = self.streams[stream]
        n = data.draw(st.integers(1, len(events)), label="taken position")
        pool = self.active() or self.keys
        key = data.draw(st.sampled_from(pool), label="signing key")
        rival = sign_event(
            EventBody(
                origin=ORIGIN,
                stream=stream,
                n=n,
                prev=GENESIS_PREV if n == 1 else events[n - 2].event_hash,
                type="Rival",
                actor=key.actor,
                time_us=next(self.clock),
                payload={"rival": next(self.rivals)},
            ),
            [key.signer],
        )
        with pytest.raises(StreamConflict) as info:
            self.pick(data).append([rival.record])
        assert info.value.check == "append.conflict"
        assert info.value.stream == stream
        assert (info.value.head_n, info.value.head_hash) == (len(events), events[-1].event_hash)

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def resubmit_is_a_duplicate(self, data: st.DataObject) -> None:
        self.steps += 1
        again = data.draw(
            st.lists(st.sampled_from(self.order), min_size=1, max_size=3, unique_by=id),
            label="resubmitted",
        )
        fresh: list[SignedEvent] = []
        with_new: bool = data.draw(st.booleans(), label="with a new event")
        if self.active() and with_new:
            key = data.draw(st.sampled_from(self.active()), label="signing key")
            stream = data.draw(st.sampled_from(STREAMS), label="stream")
            fresh = [self.build(stream, [key.signer], key.actor, {})]
        result = self.pick(data).append([e.record for e in again + fresh])
        assert [(r.stream, r.n, r.event_hash, r.duplicate) for r in result] == [
            (e.body.stream, e.body.n, e.event_hash, True) for e in again
        ] + [(e.body.stream, e.body.n, e.event_hash, False) for e in fresh]
        self.commit(fresh)

    @precondition(lambda self: self.keys)
    @rule(data=st.data(), kind=st.sampled_from(["revoked", "unregistered"]))
    def bad_key_is_rejected(self, data: st.DataObject, kind: str) -> None:
        self.steps += 1
        if kind == "revoked" and self.revoked():
            bad = data.draw(st.sampled_from(self.revoked()), label="revoked key")
            expected: type[Exception] = KeyRevoked
        else:
            name = f"stranger-{self.steps}"
            bad = ModelKey(name, seed(name), data.draw(st.sampled_from(ACTORS)))
            expected = KeyUnregistered
        heads: dict[str, SignedEvent | None] = {}
        events: list[SignedEvent] = []
        if self.active():
            key = data.draw(st.sampled_from(self.active()), label="good key")
            streams = data.draw(st.lists(st.sampled_from(STREAMS), max_size=2), label="good first")
            events = [self.build(s, [key.signer], key.actor, heads) for s in streams]
        signers = self.signers_for(data, bad, self.active())
        actor = data.draw(
            st.sampled_from(
                sorted({bad.actor} | {k.actor for k in self.keys if k.signer in signers})
            )
        )
        events.append(self.build(data.draw(st.sampled_from(STREAMS)), signers, actor, heads))
        with pytest.raises(expected):
            self.pick(data).append([e.record for e in events])

    @rule(page=st.integers(1, 7), limit=st.none() | st.integers(1, 12))
    def integrate(self, page: int, limit: int | None) -> None:
        pending = len(self.order) - self.integrated
        expected = pending if limit is None else min(pending, limit)
        assert self.log.integrate(page=page, limit=limit) == expected
        self.integrated += expected

    @rule()
    def sign_checkpoint(self) -> None:
        note = self.checkpoints.sign(now_us=next(self.clock))
        checkpoint, _ = open_checkpoint(
            note.serialise(), origin=ORIGIN, log_keys=[log_key().verifier]
        )
        assert checkpoint.size == self.integrated
        assert checkpoint.root == merkle.root_from_leaves(self.leaf_hashes(self.integrated))
        latest = self.checkpoints.latest()
        assert latest is not None
        assert latest[0] == checkpoint
        self.signed[checkpoint.size] = checkpoint

    # --- invariants --------------------------------------------------------------
    # (One invariant, so the notification log is read once per step.)

    @invariant()
    def storage_equals_the_model(self) -> None:
        self.checks += 1
        notes = self.backend.recorder.select_notifications(start=1, limit=1_000_000)
        # The global order is the model's order of successful appends ...
        assert [n.state for n in notes] == [e.record for e in self.order]
        # ... so every stream holds exactly the model's events, n = 1..k.
        assert [(n.originator_id, n.originator_version) for n in notes] == [
            (e.body.stream, e.body.n) for e in self.order
        ]
        stream = EVERY_STREAM[self.checks % len(EVERY_STREAM)]
        store = self.stores[self.checks % len(self.stores)]
        assert [e.record for e in store.read_stream(stream)] == [
            e.record for e in self.streams[stream]
        ]
        head, expected = store.head(stream), self.head(stream)
        assert (head and head.record) == (expected and expected.record)
        stored_keys = self.store.keys([k.signer.key_id for k in self.keys])
        assert {k: (r.actor, r.revoked) for k, r in stored_keys.items()} == {
            k.signer.key_id: (k.actor, k.revoked) for k in self.keys
        }
        self.check_tree(notes)

    def check_tree(self, notes: Sequence[Notification]) -> None:
        size = self.log.size()
        assert size == self.integrated
        root = merkle.root_from_leaves([leaf_hash(n.state) for n in notes[:size]])
        assert self.log.root() == root
        assert self.log.position() == (notes[size - 1].id if size else 0)
        leaves = self.backend.sql.rows(
            "SELECT leaf_index, notification_id, event_hash, stream, n FROM hoso_leaves"
            " ORDER BY leaf_index"
        )
        assert [
            (r["leaf_index"], r["notification_id"], bytes(r["event_hash"]), r["stream"], r["n"])
            for r in leaves
        ] == [
            (i, n.id, e.event_hash, e.body.stream, e.body.n)
            for i, (n, e) in enumerate(zip(notes[:size], self.order[:size], strict=True))
        ]
        if size:
            for index in sorted({0, size - 1, self.checks % size}):
                event = self.order[index]
                assert self.log.leaf_index(event.event_hash) == index
                assert self.log.leaf_record(index) == event.record
                merkle.verify_inclusion(
                    index=index,
                    size=size,
                    leaf_hash=event.leaf_hash,
                    proof=self.log.inclusion_proof(index=index, size=size),
                    root=root,
                )
        # Every signed checkpoint: its stored note still verifies (one per step, in
        # turn; each was verified when signed) and the tree grew consistently from it.
        signed = sorted(self.signed)
        if signed:
            old = self.signed[signed[self.checks % len(signed)]]
            note = self.checkpoints.note_at(old.size)
            assert note is not None
            opened, _ = open_checkpoint(
                note.serialise(), origin=ORIGIN, log_keys=[log_key().verifier]
            )
            assert opened == old
        for old_size in signed:
            old = self.signed[old_size]
            if old_size == 0:
                assert old.root == merkle.root_from_leaves([])
                continue
            merkle.verify_consistency(
                size1=old_size,
                size2=size,
                root1=old.root,
                root2=root,
                proof=self.log.consistency_proof(size1=old_size, size2=size),
            )


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", BACKENDS)
def test_store_log_and_checkpoints_follow_the_model(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite":
        files = itertools.count()

        def fresh_url() -> str:
            return f"sqlite:///{tmp_path / f'example-{next(files)}.sqlite'}"

        chosen = settings(MACHINE_SETTINGS, max_examples=50)
    else:
        url = private_postgres_url("hoso_stateful")

        def fresh_url() -> str:
            reset_postgres(url)
            return url

        # An example costs ~0.5 s here, so shrinking a failure could take Hypothesis's
        # full five minutes: report it unshrunk (the SQLite run shrinks the same rules).
        chosen = settings(MACHINE_SETTINGS, phases=[p for p in Phase if p != Phase.shrink])
    run_state_machine_as_test(  # type: ignore[no-untyped-call]  # (untyped in Hypothesis)
        lambda: LedgerMachine(fresh_url), settings=chosen
    )


# --- regressions the machine found, as plain tests --------------------------------------


@pytest.fixture(params=BACKENDS)
def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[EventStore, EventStore]]:
    """Two stores on one database, as two processes have: each with its own caches."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = private_postgres_url("hoso_stateful")
    backends = [open_backend(url, pool_size=2) for _ in range(2)]
    auth = authority()
    a, b = (
        EventStore(x, origin=ORIGIN, authorities={auth.key_id: auth.public_key}) for x in backends
    )
    yield a, b
    for backend in backends:
        backend.close()


def test_resubmission_is_a_duplicate_even_past_a_stale_head_hint(
    two_stores: tuple[EventStore, EventStore],
) -> None:
    """A resubmitted event is a duplicate (docs/storage.md §Append) whichever store gets it.

    Store ``a`` last appended e1, so it hints e1 as the head of S; ``b`` then appends
    e2 and ``a`` revokes the key that signed it. Resubmitting e2 to ``a``: e2 links to
    the stale hint, so ``a`` must not take it for a new event (and reject its key).
    """
    a, b = two_stores
    key = seed("officer")
    registered = registration(None, key, actor="officer:1")
    a.append([registered.record])
    e1 = next_event(None, stream="S", kind="Step", actor="officer:1", signers=[key], time_us=1)
    a.append([e1.record])
    e2 = next_event(e1, stream="S", kind="Step", actor="officer:1", signers=[key], time_us=2)
    b.append([e2.record])
    a.append([revocation(registered, key).record])
    assert [r.duplicate for r in b.append([e2.record])] == [True]
    assert [r.duplicate for r in a.append([e2.record])] == [True]


def test_registry_resubmission_is_a_duplicate_even_past_a_stale_head_hint(
    two_stores: tuple[EventStore, EventStore],
) -> None:
    """Same for the registry: ``a`` hints r1 as the registry's head, ``b`` appends r2;
    resubmitting r2 to ``a`` is a duplicate, not a second registration of its key."""
    a, b = two_stores
    r1 = registration(None, seed("k1"), actor="officer:1")
    a.append([r1.record])
    r2 = registration(r1, seed("k2"), actor="officer:2")
    b.append([r2.record])
    assert [r.duplicate for r in b.append([r2.record])] == [True]
    assert [r.duplicate for r in a.append([r2.record])] == [True]


def test_batch_of_a_resubmission_and_a_new_event_past_a_stale_head_hint(
    two_stores: tuple[EventStore, EventStore],
) -> None:
    """``a`` hints e1 as the head of S; ``b`` appends e2 and e3. The batch [e2, e4] to
    ``a`` is a duplicate then a new event continuing e3, not a broken chain."""
    a, b = two_stores
    key = seed("officer")
    a.append([registration(None, key, actor="officer:1").record])
    chain: list[SignedEvent] = []
    for n in range(4):
        head = chain[-1] if chain else None
        chain.append(
            next_event(head, stream="S", kind="Step", actor="officer:1", signers=[key], time_us=n)
        )
    e1, e2, e3, e4 = chain
    a.append([e1.record])
    b.append([e2.record, e3.record])
    result = a.append([e2.record, e4.record])
    assert [(r.n, r.duplicate) for r in result] == [(2, True), (4, False)]
    assert [e.record for e in b.read_stream("S")] == [e.record for e in chain]


def test_stale_head_is_reported_as_a_conflict_before_any_key_check(
    two_stores: tuple[EventStore, EventStore],
) -> None:
    """The checks run in order (ledger/storage/store.py): a rival for a taken position
    is ``append.conflict`` with the current head, even when its key is revoked and
    the store that gets it still hints an older head."""
    a, b = two_stores
    key = seed("officer")
    registered = registration(None, key, actor="officer:1")
    a.append([registered.record])
    e1 = next_event(None, stream="S", kind="Step", actor="officer:1", signers=[key], time_us=1)
    a.append([e1.record])
    e2 = next_event(e1, stream="S", kind="Step", actor="officer:1", signers=[key], time_us=2)
    b.append([e2.record])
    a.append([revocation(registered, key).record])
    rival = next_event(e1, stream="S", kind="Rival", actor="officer:1", signers=[key], time_us=3)
    for store in (b, a):
        with pytest.raises(StreamConflict) as info:
            store.append([rival.record])
        assert (info.value.head_n, info.value.head_hash) == (2, e2.event_hash)
