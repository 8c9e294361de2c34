"""The witness's key file and state file: formats, refusals, and nothing half-written."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.core.checkpoint import parse_cosignature_vkey
from ledger.core.errors import MalformedKey
from ledger.core.witness import TreeHead
from ledger.storage.durable import StateFileLocked, write_durably
from ledger.witness.keyfile import create_key_file, format_key_file, parse_key_file, read_key_file
from ledger.witness.state import (
    FORMAT,
    MalformedWitnessState,
    Witnessed,
    WitnessState,
    decode_state,
    encode_state,
)
from tests.support.toy_log import ToyLog


def test_key_file_round_trip_mode_and_no_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "w.key"
    cosigner = create_key_file(path, name="witness.test/w1", seed=b"\x07" * 32)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("PRIVATE+KEY+witness.test/w1+")
    assert read_key_file(path).verifier == cosigner.verifier
    assert parse_cosignature_vkey(cosigner.verifier.vkey) == cosigner.verifier
    with pytest.raises(FileExistsError):
        create_key_file(path, name="witness.test/w1", seed=b"\x08" * 32)
    assert "07" * 8 not in repr(cosigner)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "PRIVATE+KEY+witness.test/w1",
        format_key_file("witness.test/w1", b"\x07" * 32).replace("+witness.test/w1+", "+w2+"),
        format_key_file("witness.test/w1", b"\x07" * 32)[:-6] + "AAAA\n",
        "PRIVATE+KEY+witness.test/w1+00000000+AQ==\n",
    ],
)
def test_bad_key_files_never_echo_the_key(text: str) -> None:
    with pytest.raises(MalformedKey) as raised:
        parse_key_file(text, where="w.key")
    assert text.strip() not in str(raised.value) or not text.strip()


def test_keygen_command(tmp_path: Path) -> None:
    path = tmp_path / "k"
    result = CliRunner().invoke(
        app, ["witness", "keygen", "--name", "w.test/a", "--key", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert parse_cosignature_vkey(result.stdout.strip()).name == "w.test/a"
    again = CliRunner().invoke(app, ["witness", "vkey", "--key", str(path)])
    assert again.stdout == result.stdout
    refused = CliRunner().invoke(
        app, ["witness", "keygen", "--name", "w.test/a", "--key", str(path)]
    )
    assert refused.exit_code == 3


def test_state_round_trip_and_lock(tmp_path: Path) -> None:
    log = ToyLog()
    note = log.note(7).serialise()
    witnessed = Witnessed(TreeHead(size=7, root=log.tree.root(7)), note)
    data = encode_state({log.origin: witnessed})
    doc = json.loads(data)
    assert doc["format"] == FORMAT
    assert doc["logs"][log.origin]["size"] == 7
    assert decode_state(data) == {log.origin: witnessed}
    path = tmp_path / "state.json"
    state = WitnessState(path)
    state.record(log.origin, witnessed)
    with pytest.raises(StateFileLocked):
        WitnessState(path)
    state.close()
    reopened = WitnessState(path)
    assert reopened.get(log.origin) == witnessed
    reopened.close()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="other/v1"),
        lambda d: d.update(logs=[]),
        lambda d: d["logs"]["log.test/toy"].update(size=8),
        lambda d: d["logs"]["log.test/toy"].update(size="7"),
        lambda d: d["logs"]["log.test/toy"].update(root="AAAA"),
        lambda d: d["logs"]["log.test/toy"].pop("checkpoint"),
        lambda d: d["logs"].update({"other.test/log": d["logs"]["log.test/toy"]}),
    ],
)
def test_state_file_refusals(mutate: Callable[[dict[str, Any]], None]) -> None:
    log = ToyLog()
    note = log.note(7).serialise()
    witnessed = Witnessed(TreeHead(size=7, root=log.tree.root(7)), note)
    doc = json.loads(encode_state({log.origin: witnessed}))
    mutate(doc)
    with pytest.raises(MalformedWitnessState):
        decode_state(json.dumps(doc).encode())


def test_a_failed_write_leaves_the_old_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_durably(path, b"old")
    with pytest.raises(TypeError):
        write_durably(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_serve_refuses_a_bad_configuration_before_listening(tmp_path: Path) -> None:
    key = tmp_path / "w.key"
    create_key_file(key, name="witness.test/w1", seed=b"\x07" * 32)
    base = ["witness", "serve", "--key", str(key), "--state", str(tmp_path / "s.json")]
    none = CliRunner().invoke(app, base)
    assert none.exit_code == 3
    assert "no log to witness" in none.output
    bad = tmp_path / "logs.policy"
    bad.write_text("log not-a-vkey\n")
    malformed = CliRunner().invoke(app, [*base, "--logs", str(bad)])
    assert malformed.exit_code == 2
    assert "policy.syntax" in malformed.output
    (tmp_path / "s.json").write_text("{}")
    log = ToyLog()
    broken = CliRunner().invoke(app, [*base, "--log", log.key.verifier.vkey])
    assert broken.exit_code == 2
    assert "witness.state_file" in broken.output
    missing = CliRunner().invoke(
        app, ["witness", "serve", "--key", str(tmp_path / "nope"), "--state", "s", "--log", "x"]
    )
    assert missing.exit_code == 3
