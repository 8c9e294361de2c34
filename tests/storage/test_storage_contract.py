"""One storage contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import pytest

from ledger.core import merkle
from ledger.core.chain import next_body
from ledger.core.checkpoint import Cosigner, open_checkpoint, verify_cosignatures
from ledger.core.encoding import Value
from ledger.core.errors import ChainLinkBroken, ChainPositionBroken, CosignatureInvalid, HosoError
from ledger.core.event import EventBody, SignedEvent, sign_event
from ledger.core.hashing import GENESIS_PREV, leaf_hash
from ledger.core.note import Ed25519NoteSigner, NoteSignature
from ledger.core.registry import REGISTRY_STREAM, key_registered, key_revoked
from ledger.core.signing import Signer
from ledger.storage.checkpoints import Checkpoints, WitnessUnknown
from ledger.storage.database import Backend
from ledger.storage.errors import (
    ActorSignatureMissing,
    KeyRevoked,
    KeyUnregistered,
    OriginMismatch,
    RegistryRejected,
    StreamConflict,
)
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/hanoi"


def seed(name: str) -> Signer:
    return Signer(hashlib.sha256(name.encode()).digest())


@dataclass
class World:
    store: EventStore
    authority: Signer = field(default_factory=lambda: seed("authority"))
    heads: dict[str, SignedEvent] = field(default_factory=dict)

    def event(
        self, stream: str, kind: str, actor: str, signers: list[Signer], **payload: str
    ) -> SignedEvent:
        head = self.heads.get(stream) or self.store.head(stream)
        body = next_body(
            head,
            origin=ORIGIN,
            stream=stream,
            event_type=kind,
            actor=actor,
            time_us=1_767_225_600_000_000,
            payload=dict(payload),
        )
        event = sign_event(body, signers)
        self.heads[stream] = event
        return event

    def register(self, signer: Signer, actor: str, roles: set[str]) -> SignedEvent:
        payload = key_registered(signer.public_key, actor=actor, roles=roles, agency="H26.50.01")
        event = self._registry("KeyRegistered", payload)
        self.store.append([event.record])
        return event

    def revoke(self, signer: Signer) -> None:
        self.store.append(
            [self._registry("KeyRevoked", key_revoked(signer.key_id, reason="lost")).record]
        )

    def _registry(self, kind: str, payload: dict[str, Value]) -> SignedEvent:
        head = self.store.head(REGISTRY_STREAM)
        body = next_body(
            head,
            origin=ORIGIN,
            stream=REGISTRY_STREAM,
            event_type=kind,
            actor="authority:hanoi",
            time_us=1,
            payload=payload,
        )
        return sign_event(body, [self.authority])


@pytest.fixture
def world(backend: Backend) -> World:
    authority = seed("authority")
    store = EventStore(backend, origin=ORIGIN, authorities={authority.key_id: authority.public_key})
    w = World(store)
    w.register(seed("officer"), "officer:1", {"reception", "handler"})
    w.register(seed("leader"), "leader:1", {"leader"})
    w.register(seed("seal"), "agency:H26.50.01", {"agency_seal"})
    return w


def test_append_read_and_idempotent_resubmission(world: World) -> None:
    officer = seed("officer")
    e1 = world.event("D-1", "DossierReceived", "officer:1", [officer])
    e2 = world.event("D-1", "DossierAssigned", "officer:1", [officer])
    first = world.store.append([e1.record, e2.record])
    assert [(a.n, a.duplicate) for a in first] == [(1, False), (2, False)]
    again = world.store.append([e2.record])
    assert again[0].duplicate
    stored = world.store.read_stream("D-1")
    assert [e.record for e in stored] == [e1.record, e2.record]
    head = world.store.head("D-1")
    assert head is not None
    assert head.event_hash == e2.event_hash


def test_conflict_carries_the_current_head(world: World) -> None:
    officer = seed("officer")
    e1 = world.event("D-2", "DossierReceived", "officer:1", [officer])
    world.store.append([e1.record])
    rival = sign_event(
        EventBody(
            origin=ORIGIN,
            stream="D-2",
            n=1,
            prev=GENESIS_PREV,
            type="DossierReceived",
            actor="officer:1",
            time_us=2,
            payload={"note": "other"},
        ),
        [officer],
    )
    with pytest.raises(StreamConflict) as info:
        world.store.append([rival.record])
    assert info.value.check == "append.conflict"
    assert (info.value.head_n, info.value.head_hash) == (1, e1.event_hash)


def test_chain_gaps_and_bad_links_are_rejected_and_nothing_is_stored(world: World) -> None:
    officer = seed("officer")
    e1 = world.event("D-3", "DossierReceived", "officer:1", [officer])
    e2 = world.event("D-3", "DossierAssigned", "officer:1", [officer])
    with pytest.raises(ChainPositionBroken):
        world.store.append([e2.record])
    other = world.event("D-4", "DossierReceived", "officer:1", [officer])
    forged = sign_event(
        EventBody(
            origin=ORIGIN,
            stream="D-3",
            n=2,
            prev=other.event_hash,
            type="X",
            actor="officer:1",
            time_us=1,
            payload={},
        ),
        [officer],
    )
    with pytest.raises(ChainLinkBroken):
        world.store.append([e1.record, forged.record])
    assert world.store.read_stream("D-3") == []


def test_batch_over_many_streams_is_one_transaction(world: World) -> None:
    officer = seed("officer")
    good = [world.event(f"B-{i}", "DossierReceived", "officer:1", [officer]) for i in range(20)]
    stranger = seed("stranger")
    bad = world.event("B-bad", "DossierReceived", "officer:1", [stranger])
    with pytest.raises(KeyUnregistered):
        world.store.append([e.record for e in good] + [bad.record])
    assert all(world.store.head(f"B-{i}") is None for i in range(20))
    world.store.append([e.record for e in good])
    assert all(world.store.head(f"B-{i}") is not None for i in range(20))


def test_signature_rules(world: World) -> None:
    officer, leader, seal = seed("officer"), seed("leader"), seed("seal")
    result = world.event("R-1", "ResultIssued", "leader:1", [leader, seal])
    world.store.append([result.record])
    not_actor = world.event("R-2", "ResultIssued", "leader:1", [officer])
    with pytest.raises(ActorSignatureMissing):
        world.store.append([not_actor.record])
    foreign = sign_event(
        EventBody(
            origin="elsewhere.example/log",
            stream="R-3",
            n=1,
            prev=GENESIS_PREV,
            type="X",
            actor="officer:1",
            time_us=1,
            payload={},
        ),
        [officer],
    )
    with pytest.raises(OriginMismatch):
        world.store.append([foreign.record])
    rogue = World(world.store, authority=seed("not an authority"))
    with pytest.raises(RegistryRejected):
        rogue.register(seed("mallory"), "officer:9", {"leader"})


def test_revoked_key_cannot_sign(world: World) -> None:
    officer = seed("officer")
    before = world.event("K-1", "DossierReceived", "officer:1", [officer])
    world.store.append([before.record])
    world.revoke(officer)
    after = world.event("K-1", "DossierAssigned", "officer:1", [officer])
    with pytest.raises(KeyRevoked):
        world.store.append([after.record])
    with pytest.raises(RegistryRejected):
        world.revoke(officer)


def test_integration_proofs_and_resume(world: World, backend: Backend) -> None:
    officer = seed("officer")
    for i in range(37):
        world.store.append([world.event(f"M-{i % 5}", "Step", "officer:1", [officer]).record])
    log = MerkleLog(backend)
    assert log.integrate(page=10, limit=25) == 25
    assert log.integrate(page=10) > 0
    assert log.integrate() == 0
    notes = backend.recorder.select_notifications(start=1, limit=10_000)
    expected = merkle.root_from_leaves([leaf_hash(n.state) for n in notes])
    size = log.size()
    assert size == len(notes)
    assert log.root() == expected
    for index in range(size):
        proof = log.inclusion_proof(index=index, size=size)
        merkle.verify_inclusion(
            index=index,
            size=size,
            leaf_hash=leaf_hash(log.leaf_record(index)),
            proof=proof,
            root=expected,
        )
    for size1 in range(1, size):
        merkle.verify_consistency(
            size1=size1,
            size2=size,
            root1=log.root(size1),
            root2=expected,
            proof=log.consistency_proof(size1=size1, size2=size),
        )
    last = world.store.head("M-4")
    assert last is not None
    assert log.leaf_index(last.event_hash) < size


def test_checkpoints_and_cosignatures(world: World, backend: Backend) -> None:
    officer = seed("officer")
    log_key = Ed25519NoteSigner(ORIGIN, seed("log"))
    witness = Cosigner("witness.test/so-tttt", seed("witness"))
    checkpoints = Checkpoints(MerkleLog(backend), signer=log_key, witnesses=[witness.verifier])
    log = checkpoints.log
    log.integrate()
    first = checkpoints.sign(now_us=1)
    cp1, _ = open_checkpoint(first.serialise(), origin=ORIGIN, log_keys=[log_key.verifier])
    checkpoints.add_cosignature(size=cp1.size, signature=witness.cosign(cp1, timestamp=10))
    for i in range(9):
        world.store.append([world.event(f"C-{i}", "Step", "officer:1", [officer]).record])
    log.integrate()
    second = checkpoints.sign(now_us=2)
    cp2, _ = open_checkpoint(second.serialise(), origin=ORIGIN, log_keys=[log_key.verifier])
    assert cp2.size == cp1.size + 9
    assert checkpoints.sign(now_us=3) == second
    cosigned = checkpoints.add_cosignature(
        size=cp2.size, signature=witness.cosign(cp2, timestamp=20)
    )
    assert verify_cosignatures(cosigned, [witness.verifier]) == {witness.name: 20}
    latest = checkpoints.latest()
    assert latest is not None
    assert latest[0] == cp2
    assert verify_cosignatures(latest[1], [witness.verifier]) == {witness.name: 20}
    again = checkpoints.add_cosignature(size=cp2.size, signature=witness.cosign(cp2, timestamp=21))
    assert verify_cosignatures(again, [witness.verifier]) == {witness.name: 21}
    assert sum(s.name == witness.name for s in again.signatures) == 1  # replaced, not added
    stranger = Cosigner("witness.test/unknown", seed("x"))
    with pytest.raises(WitnessUnknown):
        checkpoints.add_cosignature(size=cp2.size, signature=stranger.cosign(cp2, timestamp=1))
    forged = witness.cosign(cp1, timestamp=30)
    with pytest.raises(CosignatureInvalid):
        checkpoints.add_cosignature(
            size=cp2.size, signature=NoteSignature(forged.name, forged.key_id, forged.signature)
        )


def test_racing_writers_one_wins(world: World) -> None:
    officer = seed("officer")
    base = world.event("RACE", "DossierReceived", "officer:1", [officer])
    world.store.append([base.record])
    rivals = [
        sign_event(
            EventBody(
                origin=ORIGIN,
                stream="RACE",
                n=2,
                prev=base.event_hash,
                type="DossierAssigned",
                actor="officer:1",
                time_us=i,
                payload={},
            ),
            [officer],
        )
        for i in range(6)
    ]
    outcomes: list[str] = []

    def submit(event: SignedEvent) -> None:
        try:
            world.store.append([event.record])
            outcomes.append("ok")
        except HosoError as err:
            outcomes.append(err.check)

    threads = [threading.Thread(target=submit, args=(e,)) for e in rivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "append.conflict"}
    assert len(world.store.read_stream("RACE")) == 2
