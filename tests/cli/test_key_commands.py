"""``hoso keys register --public-key`` (a key made in the official's own client: the
server never holds its private half) and authority rotation from the command line: a new
authority key registered, the trust-root one revoked through the ledger, the old one then
refused by the store, and ``hoso verify`` with the original trust file still verifying."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.core.chain import next_body
from ledger.core.event import sign_event
from ledger.core.note import format_vkey
from ledger.core.signing import Signer
from tests.cli.test_ledger_commands import env, initialised, key_for, run

pytestmark = pytest.mark.integration

__all__ = ["env"]

CLIENT = Signer(hashlib.sha256(b"an official's own client key").digest())


def test_register_a_public_key_and_append_what_it_signs(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initialised(monkeypatch)
    forms = {
        "portal:hex": CLIENT.public_key.hex(),
        "officer:b64": base64.b64encode(
            Signer(hashlib.sha256(b"second").digest()).public_key
        ).decode(),
        "officer:vkey": format_vkey(
            "officer.example/3", 0x01, Signer(hashlib.sha256(b"third").digest()).public_key
        ),
    }
    for actor, text in forms.items():
        role, agency = ("portal", "NATIONAL") if actor == "portal:hex" else ("handler", "H26")
        out = run(
            "keys",
            "register",
            "--public-key",
            text,
            "--actor",
            actor,
            "--role",
            role,
            "--agency",
            agency,
        )
        assert f"for {actor}" in out
    listed = run("keys", "list")
    assert "portal:hex  portal  NATIONAL  valid" in listed
    assert all(
        f"{actor}  handler  H26  valid" in listed for actor in forms if actor != "portal:hex"
    )
    body = next_body(
        None,
        origin=env["HOSO_ORIGIN"],
        stream="000.00.10.H26-260101-0001",
        event_type="DossierSubmitted",
        actor="portal:hex",
        time_us=1_780_000_000_000_000,
        payload={
            "procedure": "1.001193",
            "agency": "H26.50.01",
            "channel": "online",
            "applicant_kind": 1,
            "applicant": b"\xab" * 32,
            "legal_basis": "state_duty",
        },
    )
    record = tmp_path / "x.rec"
    record.write_bytes(sign_event(body, [CLIENT]).record)
    assert "000.00.10.H26-260101-0001 n=1" in run("append", str(record))

    for bad, code in (
        ("01" + "00" * 31, 2),  # the identity point: small order, nobody holds its key
        ("not a key", 2),
        (CLIENT.public_key.hex(), 1),  # already registered
    ):
        refused = CliRunner().invoke(
            app,
            [
                "keys",
                "register",
                "--public-key",
                bad,
                "--actor",
                "x:y",
                "--role",
                "handler",
                "--agency",
                "H26",
            ],
        )
        assert refused.exit_code == code, (bad, refused.stderr)
    both = CliRunner().invoke(
        app,
        [
            "keys",
            "register",
            "officer",
            "--public-key",
            CLIENT.public_key.hex(),
            "--actor",
            "x:y",
            "--role",
            "handler",
            "--agency",
            "H26",
        ],
    )
    assert both.exit_code == 3
    assert run("keys", "list") == listed


def test_authority_rotation_through_the_ledger(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initialised(monkeypatch)
    key_for(name="officer1", actor="officer:1", role="handler", agency="H26")
    trust = tmp_path / "trust.txt"
    trust.write_text(run("keys", "trust-file"))  # names the original authority key only
    run("keys", "add", "authority2")
    run(
        "keys",
        "register",
        "authority2",
        "--actor",
        "authority:authority2",
        "--role",
        "authority",
        "--agency",
        "H26",
    )
    run("keys", "revoke", "authority", "--reason", "rotated", "--authority", "authority2")
    run("keys", "add", "officer2")
    old = CliRunner().invoke(
        app,
        [
            "keys",
            "register",
            "officer2",
            "--actor",
            "officer:2",
            "--role",
            "handler",
            "--agency",
            "H26",
        ],
    )
    assert old.exit_code == 1
    assert "[registry.rejected]" in old.stderr
    assert "revoked authority key" in old.stderr
    run(
        "keys",
        "register",
        "officer2",
        "--actor",
        "officer:2",
        "--role",
        "handler",
        "--agency",
        "H26",
        "--authority",
        "authority2",
    )
    run("checkpoint", "sign")
    verified = CliRunner().invoke(app, ["verify", "--trust", str(trust), "--json"])
    assert verified.exit_code == 0, verified.stdout
    assert json.loads(verified.stdout)["verified"] is True
