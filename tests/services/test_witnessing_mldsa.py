"""A post-quantum witness: ``hoso witness`` with an ML-DSA-44 key (type 0x06) cosigns the
ledger's checkpoints over real HTTP on loopback, the ledger stores the cosignature lines
and the verifier counts them toward the trust file's quorum, beside an Ed25519 witness."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.core.checkpoint import (
    AnyCosignatureVerifier,
    AnyCosigner,
    Cosigner,
    MLDSACosigner,
    verify_cosignatures,
)
from ledger.core.note import Ed25519NoteSigner
from ledger.services.witnessing import WitnessClient, WitnessEndpoint
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.database import Backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from ledger.witness.keyfile import create_key_file, read_key_file
from ledger.witness.server import create_app
from ledger.witness.service import Witness
from ledger.witness.state import WitnessState
from tests.services.test_witnessing import LedgerKit
from tests.storage.test_storage_contract import ORIGIN, World, seed
from tests.support.toy_log import serving
from verify.anchors import open_checkpoints
from verify.findings import Findings
from verify.trust import parse_trust

pytestmark = pytest.mark.integration


def test_an_mldsa_witness_over_http(backend: Backend, tmp_path: Path) -> None:
    pq = create_key_file(tmp_path / "pq.key", name="witness.test/pq", seed=b"\x07" * 32, sig_type=6)
    assert isinstance(pq, MLDSACosigner)
    assert read_key_file(tmp_path / "pq.key").verifier == pq.verifier
    classic = Cosigner("witness.test/ed", seed("ed witness"))
    log_key = Ed25519NoteSigner(ORIGIN, seed("log"))
    authority = seed("authority")
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={authority.key_id: authority.public_key},
        log_keys={log_key.signer.key_id: log_key.signer.public_key},
    )
    world = World(store)
    world.register(seed("officer"), "officer:1", {"reception", "handler"})
    log = MerkleLog(backend)
    verifiers: list[AnyCosignatureVerifier] = [pq.verifier, classic.verifier]
    checkpoints = Checkpoints(
        log, signer=log_key, witnesses=verifiers, commits=IndexCommits(store, log)
    )
    kit = LedgerKit(world, checkpoints, log_key, list(verifiers))
    states = [WitnessState(tmp_path / f"{n}.json") for n in ("pq", "ed")]
    cosigners: list[AnyCosigner] = [pq, classic]
    witnesses = [
        Witness(cosigner=c, logs={ORIGIN: [log_key.verifier]}, state=s)
        for c, s in zip(cosigners, states, strict=True)
    ]
    with serving(create_app(witnesses[0])) as pq_url, serving(create_app(witnesses[1])) as ed_url:
        clients = [
            WitnessClient(WitnessEndpoint(url, key), checkpoints)
            for url, key in ((pq_url, pq.verifier), (ed_url, classic.verifier))
        ]
        first = kit.grow_and_sign(3)
        assert [c.sync() for c in clients] == [first, first]
        second = kit.grow_and_sign(4)  # then with a consistency proof from the first
        assert [c.sync() for c in clients] == [second, second]
        for client in clients:
            client.close()
    for state in states:
        state.close()
    note = checkpoints.stored_note(second)
    assert set(verify_cosignatures(note, verifiers)) == {"witness.test/pq", "witness.test/ed"}
    pq_line = next(s for s in note.signatures if s.name == "witness.test/pq")
    assert len(pq_line.signature) == 8 + 2420
    trust = parse_trust(
        f"log {log_key.verifier.vkey}\n"
        f"authority {authority_vkey(authority)}\n"
        f"witness pq {pq.verifier.vkey}\n"
        f"witness ed {classic.verifier.vkey}\n"
        "group both all pq ed\nquorum both\n"
    )
    findings = Findings()
    (anchor,) = open_checkpoints([note.serialise()], trust, findings)
    assert not findings.counts
    assert anchor.witnesses == ("ed", "pq")


def authority_vkey(signer: object) -> str:
    from ledger.core.note import format_vkey  # noqa: PLC0415

    return format_vkey(f"{ORIGIN}/authority", 0x01, signer.public_key)  # type: ignore[attr-defined]
