"""The storage commands as an operator runs them: init, keys, act, checkpoint, proof."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.cli import app
from ledger.core import merkle
from ledger.core.checkpoint import open_checkpoint
from ledger.core.hashing import leaf_hash
from ledger.core.note import parse_ed25519_vkey
from ledger.settings import DEV_INDEX_KEY, DEV_VAULT_KEY
from ledger.storage.database import open_backend

pytestmark = pytest.mark.integration

PASSPHRASE = "correct horse battery staple"  # noqa: S105 (a test keystore)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    values = {
        "HOSO_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        "HOSO_KEYSTORE_PATH": str(tmp_path / "keystore.json"),
        "HOSO_KEYSTORE_PASSPHRASE": PASSPHRASE,
        "HOSO_ORIGIN": "test.hoso.example/cli",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def initialised(monkeypatch: pytest.MonkeyPatch) -> str:
    """``hoso init``, then trust the authority key it printed, as the README says."""
    out = run("init")
    authority = re.search(r"HOSO_AUTHORITY_KEYS='(.*)'", out)
    assert authority is not None
    monkeypatch.setenv("HOSO_AUTHORITY_KEYS", authority.group(1))
    return out


def key_for(*, name: str, actor: str, role: str, agency: str) -> None:
    """A custodial key in the keystore, registered for an actor by the authority."""
    run("keys", "add", name)
    run("keys", "register", name, "--actor", actor, "--role", role, "--agency", agency)


def act_x(payload: str) -> Result:
    """``hoso act`` of an event of type X on stream S by officer:1 with ``payload``."""
    return CliRunner().invoke(
        app,
        [
            "act",
            "--stream",
            "S",
            "--type",
            "X",
            "--actor",
            "officer:1",
            "--key",
            "officer1",
            "--payload",
            payload,
        ],
    )


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def test_operator_flow(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = initialised(monkeypatch)
    assert PASSPHRASE not in out
    log_vkey = re.search(r"log key \(checkpoints\), vkey: (\S+)", out)
    assert log_vkey is not None

    key_for(name="portal", actor="portal:dvc", role="portal", agency="NATIONAL")
    key_for(name="officer1", actor="officer:1", role="reception", agency="H26.50.01")
    assert "officer:1  reception  H26.50.01  valid" in run("keys", "list")
    stream = "000.00.10.H26-260101-0001"
    submitted = {
        "procedure": "1.001193",
        "agency": "H26.50.01",
        "channel": "online",
        "applicant_kind": 1,
        "applicant": {"$hex": "ab" * 32},
        "legal_basis": "state_duty",
    }
    run(
        "act",
        "--stream",
        stream,
        "--type",
        "DossierSubmitted",
        "--actor",
        "portal:dvc",
        "--key",
        "portal",
        "--payload",
        json.dumps(submitted),
    )
    digitized = {
        "component": "TO_KHAI_KHAI_SINH",
        "source": "scanned",
        "document_hash": {"$hex": "cd" * 32},
    }
    run(
        "act",
        "--stream",
        stream,
        "--type",
        "InputDigitized",
        "--actor",
        "officer:1",
        "--key",
        "officer1",
        "--payload",
        json.dumps(digitized),
    )
    note = run("checkpoint", "sign")
    checkpoint, _ = open_checkpoint(
        note.encode(), origin=env["HOSO_ORIGIN"], log_keys=[parse_ed25519_vkey(log_vkey.group(1))]
    )
    assert checkpoint.size == 5  # two registry events, two dossier events, the index commit
    assert run("checkpoint", "show") == note

    backend = open_backend(env["HOSO_DATABASE_URL"])
    records = [n.state for n in backend.recorder.select_notifications(start=1, limit=100)]
    backend.close()
    proof = json.loads(run("proof", "inclusion", "--index", "3"))
    merkle.verify_inclusion(
        index=3,
        size=5,
        leaf_hash=leaf_hash(records[3]),
        proof=[base64.b64decode(p) for p in proof["proof"]],
        root=checkpoint.root,
    )

    illegal = CliRunner().invoke(
        app,
        [
            "act",
            "--stream",
            stream,
            "--type",
            "ResultIssued",
            "--actor",
            "officer:1",
            "--key",
            "officer1",
        ],
    )
    assert illegal.exit_code == 2  # the lifecycle's payload schema refuses it first
    assert "[domain.payload]" in illegal.stderr
    run("keys", "revoke", "officer1", "--reason", "device lost")
    refused = CliRunner().invoke(
        app, ["act", "--stream", stream, "--type", "X", "--actor", "officer:1", "--key", "officer1"]
    )
    assert refused.exit_code == 1
    assert "[key.revoked]" in refused.stderr


def test_bad_input_is_a_clear_error_and_stores_nothing(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    initialised(monkeypatch)
    key_for(name="officer1", actor="officer:1", role="handler", agency="H26")
    floats = act_x('{"a": 1.5}')
    assert floats.exit_code == 2
    assert "[encoding.canonical]" in floats.stderr
    wrong_actor = CliRunner().invoke(
        app, ["act", "--stream", "S", "--type", "X", "--actor", "officer:2", "--key", "officer1"]
    )
    assert wrong_actor.exit_code == 1
    assert "[signature.actor]" in wrong_actor.stderr
    garbage = Path("garbage.bin")
    garbage.write_bytes(b"\x81\xa1x\x01")
    bad = CliRunner().invoke(app, ["append", str(garbage)])
    assert bad.exit_code == 2
    assert "[record.shape]" in bad.stderr
    backend = open_backend(env["HOSO_DATABASE_URL"])
    stored = backend.recorder.select_notifications(start=1, limit=100)
    backend.close()
    assert [n.originator_id for n in stored] == ["system/keys"]
    bytes_payload = act_x('{"h": {"$hex": "zz"}}')
    assert bytes_payload.exit_code == 2
    assert "--payload is not valid" in bytes_payload.stderr


def test_follow_integrates_and_checkpoints_periodically(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    initialised(monkeypatch)
    key_for(name="officer1", actor="officer:1", role="handler", agency="H26")
    followed = run(
        "integrate",
        "--follow",
        "--poll",
        "0.05",
        "--checkpoint-every",
        "0.1",
        "--max-seconds",
        "0.4",
    )
    assert "integrated 1 leaves; tree size 1" in followed
    assert "checkpoint at size 2" in followed  # the registry event and the index commit
    assert run("checkpoint", "show", "--size", "2").startswith(f"{env['HOSO_ORIGIN']}\n2\n")


def test_init_makes_fresh_secrets_only_the_owner_reads(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = initialised(monkeypatch)
    secrets_env = tmp_path / "secrets.env"
    assert str(secrets_env) in out
    assert secrets_env.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keystore.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ledger.sqlite").stat().st_mode & 0o777 == 0o600
    values = dict(
        line.split("=", 1) for line in secrets_env.read_text().splitlines() if "=" in line
    )
    assert set(values) == {"HOSO_VAULT_KEY", "HOSO_INDEX_KEY"}
    assert values["HOSO_VAULT_KEY"] not in (DEV_VAULT_KEY, values["HOSO_INDEX_KEY"])
    assert values["HOSO_INDEX_KEY"] != DEV_INDEX_KEY
    assert values["HOSO_VAULT_KEY"] not in out  # the secrets are in the file, not printed
    again = CliRunner().invoke(app, ["init"])
    assert again.exit_code == 3  # never overwritten


def test_serve_refuses_the_development_keys(env: dict[str, str]) -> None:
    refused = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert refused.exit_code == 3
    assert "HOSO_VAULT_KEY and HOSO_INDEX_KEY" in refused.output
    assert "--dev" in refused.output


def test_the_index_follower_builds_ahead_and_the_checkpoint_commits_its_version(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    initialised(monkeypatch)
    key_for(name="officer1", actor="officer:1", role="handler", agency="H26")
    assert run("index", "build") == "index: the log is empty\n"
    run("integrate")
    followed = run("index", "follow", "--poll", "0.05", "--max-seconds", "0.3")
    assert followed == "index built at size 1: 1 streams\n"  # the registry stream
    run("checkpoint", "sign")  # commits the version the follower built, at leaf 1
    assert run("index", "build") == "index built at size 2: 2 streams\n"  # + system/index
    assert run("checkpoint", "show", "--size", "2").startswith(f"{env['HOSO_ORIGIN']}\n2\n")
