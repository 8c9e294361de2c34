"""The ledger as a tlog-witness client (ledger.services.witnessing), on SQLite and
PostgreSQL, over real HTTP on loopback: against hoso's own witness server, and against a
witness written in the test suite from the C2SP texts alone (tests/services/spec_witness.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.core.checkpoint import (
    AnyCosignatureVerifier,
    Cosigner,
    parse_cosignature_vkey,
    verify_cosignatures,
)
from ledger.core.errors import CosignatureInvalid
from ledger.core.note import Ed25519NoteSigner
from ledger.services.witnessing import (
    Outcome,
    WitnessAhead,
    WitnessClient,
    WitnessEndpoint,
    WitnessPool,
    WitnessRefused,
    WitnessUnreachable,
    witness_once,
)
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.database import Backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from ledger.witness.server import create_app
from ledger.witness.service import Witness
from ledger.witness.state import WitnessState
from tests.services.spec_witness import SpecWitness, serving_spec_witness
from tests.storage.test_storage_contract import ORIGIN, World, seed
from tests.support.toy_log import free_port, serving

pytestmark = pytest.mark.integration

NOW_US = 1_767_225_600_000_000


@dataclass
class LedgerKit:
    world: World
    checkpoints: Checkpoints
    log_key: Ed25519NoteSigner
    witnesses: list[AnyCosignatureVerifier]

    def grow_and_sign(self, events: int) -> int:
        officer = seed("officer")
        for _ in range(events):
            n = len(self.world.heads)
            self.world.store.append(
                [self.world.event(f"W-{n}", "Step", "officer:1", [officer]).record]
            )
        self.checkpoints.log.integrate()
        note = self.checkpoints.sign(now_us=NOW_US)
        return int(note.text.split("\n")[1])


HOSO_WITNESS = Cosigner("witness.test/hoso", seed("hoso witness"))
SPEC_NAME = "witness.test/spec"


def spec_witness(kit: LedgerKit) -> SpecWitness:
    return SpecWitness(name=SPEC_NAME, seed=b"\x05" * 32, log_vkey=kit.log_key.verifier.vkey)


@pytest.fixture
def kit(backend: Backend) -> LedgerKit:
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
    probe = SpecWitness(name=SPEC_NAME, seed=b"\x05" * 32, log_vkey=log_key.verifier.vkey)
    witnesses = [HOSO_WITNESS.verifier, parse_cosignature_vkey(probe.vkey)]
    checkpoints = Checkpoints(
        log, signer=log_key, witnesses=witnesses, commits=IndexCommits(store, log)
    )
    return LedgerKit(world, checkpoints, log_key, witnesses)


@pytest.fixture
def hoso_witness(kit: LedgerKit, tmp_path: Path) -> Iterator[tuple[str, Witness]]:
    state = WitnessState(tmp_path / "witness.json")
    witness = Witness(cosigner=HOSO_WITNESS, logs={ORIGIN: [kit.log_key.verifier]}, state=state)
    with serving(create_app(witness)) as base:
        yield base, witness
    state.close()


def cosigners(kit: LedgerKit, size: int) -> set[str]:
    note = kit.checkpoints.stored_note(size)
    return set(verify_cosignatures(note, kit.witnesses))


def test_against_hoso_witness(kit: LedgerKit, hoso_witness: tuple[str, Witness]) -> None:
    url, witness = hoso_witness
    client = WitnessClient(WitnessEndpoint(url, HOSO_WITNESS.verifier), kit.checkpoints)
    first = kit.grow_and_sign(3)
    assert client.sync() == first
    assert cosigners(kit, first) == {HOSO_WITNESS.name}
    assert kit.checkpoints.last_cosigned(HOSO_WITNESS.name) == first
    second = kit.grow_and_sign(5)
    assert second > first
    assert client.sync() == second  # old = first, with a consistency proof
    assert cosigners(kit, second) == {HOSO_WITNESS.name}
    held = witness.state.get(ORIGIN)
    assert held is not None
    assert held.head.size == second
    # nothing new: no request
    assert client.sync() == second
    # a client that forgot what the witness holds starts from the database's knowledge
    fresh = WitnessClient(WitnessEndpoint(url, HOSO_WITNESS.verifier), kit.checkpoints)
    third = kit.grow_and_sign(2)
    assert fresh.sync() == third
    # one that believes the witness holds nothing gets a 409 and resends from its size
    wrong = WitnessClient(WitnessEndpoint(url, HOSO_WITNESS.verifier), kit.checkpoints)
    wrong.known_size = 0
    fourth = kit.grow_and_sign(1)
    assert wrong.sync() == fourth
    assert wrong.known_size == fourth
    client.close()
    fresh.close()
    wrong.close()


def test_against_a_witness_written_from_the_spec(kit: LedgerKit) -> None:
    spec = spec_witness(kit)
    with serving_spec_witness(spec) as url:
        endpoint = WitnessEndpoint(url, parse_cosignature_vkey(spec.vkey))
        client = WitnessClient(endpoint, kit.checkpoints)
        sizes = []
        for events in (1, 4, 7, 16):
            sizes.append(kit.grow_and_sign(events))
            assert client.sync() == sizes[-1]
            assert cosigners(kit, sizes[-1]) == {SPEC_NAME}
        assert spec.state[ORIGIN][0] == sizes[-1]
        assert spec.requests == 4  # keep-alive connection, one request each
        # it forgets nothing, the client does: 409 then resend
        client.known_size = 0
        sizes.append(kit.grow_and_sign(3))
        assert client.sync() == sizes[-1]
        assert spec.requests == 6
        # a witness ahead of the ledger (the ledger lost history): refused, not resent
        spec.state[ORIGIN] = (10**6, b"\x00" * 32)
        sizes.append(kit.grow_and_sign(1))
        with pytest.raises(WitnessAhead):
            client.sync()
        # a witness whose view forked from the ledger's: 422 refused
        spec.state[ORIGIN] = (sizes[0], b"\x00" * 32)
        client.known_size = sizes[0]
        with pytest.raises(WitnessRefused) as refused:
            client.sync()
        assert refused.value.status == 422
        # a bad cosignature is checked and never stored
        spec.misbehave = True
        del spec.state[ORIGIN]
        client.known_size = 0
        with pytest.raises(CosignatureInvalid):
            client.sync()
        assert cosigners(kit, sizes[-1]) == set()
        client.close()


def test_an_unknown_log_and_an_unreachable_witness(kit: LedgerKit, tmp_path: Path) -> None:
    kit.grow_and_sign(2)
    state = WitnessState(tmp_path / "other.json")
    other = Witness(
        cosigner=HOSO_WITNESS,
        logs={"another.test/log": [Ed25519NoteSigner("another.test/log", seed("x")).verifier]},
        state=state,
    )
    with serving(create_app(other)) as url:
        client = WitnessClient(WitnessEndpoint(url, HOSO_WITNESS.verifier), kit.checkpoints)
        with pytest.raises(WitnessRefused) as refused:
            client.sync()
        assert refused.value.status == 404
    state.close()
    gone = WitnessClient(
        WitnessEndpoint(f"http://127.0.0.1:{free_port()}", HOSO_WITNESS.verifier),
        kit.checkpoints,
        timeout_s=2,
    )
    with pytest.raises(WitnessUnreachable):
        gone.sync()
    outcomes = witness_once([gone])
    assert outcomes[0].error is not None
    assert outcomes[0].error.check == "witness.unreachable"


def test_a_slow_witness_delays_only_its_own_cosignature(
    kit: LedgerKit, hoso_witness: tuple[str, Witness]
) -> None:
    url, _ = hoso_witness
    spec = spec_witness(kit)
    spec.delay_s = 2.0
    seen: list[tuple[float, Outcome]] = []
    with serving_spec_witness(spec) as slow_url:
        clients = [
            WitnessClient(WitnessEndpoint(url, HOSO_WITNESS.verifier), kit.checkpoints),
            WitnessClient(
                WitnessEndpoint(slow_url, parse_cosignature_vkey(spec.vkey)), kit.checkpoints
            ),
            WitnessClient(
                WitnessEndpoint(f"http://127.0.0.1:{free_port()}", HOSO_WITNESS.verifier),
                kit.checkpoints,
                timeout_s=1,
            ),
        ]
        started = time.monotonic()
        pool = WitnessPool(
            clients,
            report=lambda o: seen.append((time.monotonic() - started, o)),
            backoff_first_s=0.2,
            backoff_max_s=0.4,
        ).start()
        size = kit.grow_and_sign(4)
        started = time.monotonic()
        pool.notify()  # returns at once
        assert time.monotonic() - started < 0.1
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and cosigners(kit, size) != {
            HOSO_WITNESS.name,
            SPEC_NAME,
        }:
            time.sleep(0.05)
        pool.stop()
    assert cosigners(kit, size) == {HOSO_WITNESS.name, SPEC_NAME}
    fast = [t for t, o in seen if o.witness == HOSO_WITNESS.name and o.size == size]
    slow = [t for t, o in seen if o.witness == SPEC_NAME and o.size == size]
    failures = [o for _, o in seen if o.error is not None]
    assert fast[0] < 1.5 < slow[0]  # the fast witness did not wait for the slow one
    assert len(failures) >= 2  # the unreachable one was retried, backing off
    assert {o.error.check for o in failures if o.error is not None} == {"witness.unreachable"}


def test_checkpoint_witness_command(
    kit: LedgerKit, backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = kit.grow_and_sign(3)
    spec = spec_witness(kit)
    with serving_spec_witness(spec) as url:
        monkeypatch.setenv("HOSO_ORIGIN", ORIGIN)
        monkeypatch.setenv("HOSO_WITNESS_URLS", f'[{{"url": "{url}", "vkey": "{spec.vkey}"}}]')
        result = CliRunner().invoke(app, ["checkpoint", "witness", "--db", backend_url])
        assert result.exit_code == 0, result.output
        assert f"witness {SPEC_NAME}: cosigned size {size}" in result.stdout
    assert cosigners(kit, size) == {SPEC_NAME}
    kit.grow_and_sign(1)
    monkeypatch.setenv(
        "HOSO_WITNESS_URLS",
        f'[{{"url": "http://127.0.0.1:{free_port()}", "vkey": "{spec.vkey}"}}]',
    )
    result = CliRunner().invoke(
        app, ["checkpoint", "witness", "--db", backend_url, "--attempts", "2", "--backoff", "0"]
    )
    assert result.exit_code == 1
    assert "witness.unreachable" in result.output
