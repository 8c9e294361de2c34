"""``hoso monitor`` over a real ledger: followed over HTTP on loopback (the API's tiles)
and from a static mirror, incrementally (the state after several runs is the state of one
run over the whole log), with every refusal leaving the state file as it was: a tampered
bundle, a rolled-back log, a checkpoint under another key, a quorum not met, an
unreachable mirror, entry bundles without a token, a malformed state file."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.core.checkpoint import parse_checkpoint_text
from ledger.core.note import format_vkey
from ledger.demo.office import WARD
from ledger.services import tiles as tile_service
from tests.api.api_world import ORIGIN, World, make_app, witness_cosigner
from tests.support.toy_log import serving
from verify.follow import FollowState

pytestmark = pytest.mark.integration
runner = CliRunner()


def trust_text(world: World, *, quorum: bool = False, log_vkey: str | None = None) -> str:
    ledger = world.ledger
    signer = ledger.checkpoints.signer
    assert signer is not None
    authority = world.keystore.signer("authority").public_key
    lines = [
        f"origin {ORIGIN}",
        f"log {log_vkey or signer.verifier.vkey}",
        f"authority {format_vkey(f'{ORIGIN}/authority', 0x01, authority)}",
    ]
    if quorum:
        lines += [f"witness w1 {witness_cosigner().verifier.vkey}", "quorum w1"]
    return "\n".join(lines) + "\n"


def run(url: str, state: Path, trust: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        app, ["monitor", url, "--state", str(state), "--trust", str(trust), "--json", *extra]
    )
    body = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.exit_code, body


_NUMBERS = itertools.count(20)


def grow(world: World, count: int) -> int:
    """``count`` new dossiers, then a checkpoint; return its size."""
    base = world.codes["ward_open"][:-4]
    for n in range(count):
        code = f"{base}{next(_NUMBERS):04d}"
        world.office.open(code, "1.001193", WARD, "x", at=world.clock.now + n)
    world.clock.now += 60_000_000
    return world.checkpoint()


def without_time(state: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state.read_bytes())
    data.pop("verified_us")
    return data


def test_follows_over_http_incrementally(world: World, tmp_path: Path) -> None:
    trust = tmp_path / "trust.txt"
    trust.write_text(trust_text(world))
    state = tmp_path / "state.json"
    token = ["--token", world.tokens["inspector"]]
    with serving(make_app(world)) as url:
        code, first = run(url, state, trust, *token)
        assert code == 0, first
        assert first["verified"] is True
        assert first["monitor"]["from_size"] == 0
        size = first["monitor"]["to_size"]
        assert first["monitor"]["new_records"] == size > 0
        assert first["dossiers"] >= 3
        grown = grow(world, 3)
        code, second = run(url, state, trust, *token)
        assert code == 0, second
        assert second["monitor"]["from_size"] == size
        assert second["monitor"]["to_size"] == grown
        assert second["monitor"]["new_records"] == grown - size
        assert second["dossiers"] == 3  # only the touched dossiers are audited again
        assert second["monitor"]["fetched"]["bundles"] == 1
        code, third = run(url, state, trust, *token)
        assert code == 0
        assert third["monitor"]["new_records"] == 0
        # one run over the whole log reaches the same state as the three runs
        fresh = tmp_path / "fresh.json"
        assert run(url, fresh, trust, *token)[0] == 0
        assert without_time(fresh) == without_time(state)
        # entry bundles need an inspector's token: an I/O error, the state unchanged
        before = state.read_bytes()
        grow(world, 1)
        code, _ = run(url, state, trust)
        assert code == 3
        assert state.read_bytes() == before


def test_follows_a_static_mirror_and_refuses_what_is_wrong(world: World, tmp_path: Path) -> None:
    trust = tmp_path / "trust.txt"
    trust.write_text(trust_text(world))
    old_mirror = tmp_path / "old"
    tile_service.export(world.ledger.log, world.ledger.checkpoints, old_mirror)
    grow(world, 2)
    mirror = tmp_path / "mirror"
    shutil.copytree(old_mirror, mirror)
    tile_service.export(world.ledger.log, world.ledger.checkpoints, mirror)
    state = tmp_path / "state.json"
    assert run(str(old_mirror), state, trust)[0] == 0
    code, body = run(str(mirror), state, trust)
    assert code == 0, body
    verified = state.read_bytes()
    assert FollowState.from_json(verified).size == body["monitor"]["to_size"]

    # a rolled-back log (the older mirror) is refused
    code, body = run(str(old_mirror), state, trust)
    assert code == 1
    assert body["counts"]["by_check"] == {"monitor.rollback": 1}
    assert state.read_bytes() == verified

    # a record changed in a bundle the monitor has not verified yet
    grow(world, 1)
    tampered = tmp_path / "tampered"
    shutil.copytree(mirror, tampered)
    tile_service.export(world.ledger.log, world.ledger.checkpoints, tampered)
    bundle = sorted((tampered / "tile" / "entries").glob("*.p"))[-1]
    last = max(bundle.iterdir(), key=lambda p: int(p.name))
    data = bytearray(last.read_bytes())
    data[-5] ^= 1
    last.write_bytes(bytes(data))
    code, body = run(str(tampered), state, trust)
    assert code == 1
    assert "tiles.mismatch" in body["counts"]["by_check"]
    assert state.read_bytes() == verified

    # unreachable, or a state file that is not one
    assert run(str(tmp_path / "nowhere"), state, trust)[0] == 3
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "hoso-monitor/1"}')
    assert run(str(mirror), bad, trust)[0] == 2
    assert bad.read_text() == '{"format": "hoso-monitor/1"}'


def test_the_trust_file_decides(world: World, tmp_path: Path) -> None:
    trust = tmp_path / "trust.txt"
    trust.write_text(trust_text(world))
    mirror = tmp_path / "mirror"
    tile_service.export(world.ledger.log, world.ledger.checkpoints, mirror)
    state = tmp_path / "state.json"
    assert run(str(mirror), state, trust)[0] == 0
    grow(world, 1)
    tile_service.export(world.ledger.log, world.ledger.checkpoints, mirror)
    verified = state.read_bytes()

    # another log key; a quorum the checkpoint does not meet
    other = trust.with_name("other.txt")
    stranger = format_vkey(ORIGIN, 0x01, bytes(32))
    other.write_text(trust_text(world, log_vkey=stranger))
    assert run(str(mirror), state, other)[0] != 0
    quorum = trust.with_name("quorum.txt")
    quorum.write_text(trust_text(world, quorum=True))
    code, body = run(str(mirror), state, quorum)
    assert code == 1
    assert "cosignature.quorum" in body["counts"]["by_check"]
    assert state.read_bytes() == verified

    # the witness cosigns: the quorum is met
    latest = world.ledger.checkpoints.latest()
    assert latest is not None
    size = latest[0].size
    note = world.ledger.checkpoints.stored_note(size)
    signature = witness_cosigner().cosign(parse_checkpoint_text(note.text), timestamp=1_780_000_000)
    world.ledger.checkpoints.add_cosignature(size=size, signature=signature)
    tile_service.export(world.ledger.log, world.ledger.checkpoints, mirror)
    code, body = run(str(mirror), state, quorum)
    assert code == 0, body
    assert body["checkpoints"][0]["witnesses"] == ["w1"]
