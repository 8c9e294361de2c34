"""``hoso privacy`` as officials and operators use it: keygen, register, find (id asked,
never an argument), erase (refused under retention), audit, access log."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from tests.cli.test_ledger_commands import env, initialised, key_for, run

pytestmark = pytest.mark.integration

__all__ = ["env"]  # the fixture, re-used

CODE = "000.00.10.H26-260101-0001"
PERSON = {
    "id_number": "001 099 000 002",
    "full_name": "Trần Thị Thử",
    "birth_date": "1998-02-03",
    "address": "Số 2 phố Thử Nghiệm, phường Mẫu, Hà Nội",
}


def test_keygen_writes_secrets_only_to_a_private_file(tmp_path: Path) -> None:
    out = tmp_path / "secrets.env"
    printed = run("privacy", "keygen", "--out", str(out))
    lines = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert sorted(lines) == ["HOSO_INDEX_KEY", "HOSO_VAULT_KEY"]
    assert lines["HOSO_INDEX_KEY"] != lines["HOSO_VAULT_KEY"]
    assert all(v not in printed for v in lines.values())
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    again = CliRunner().invoke(app, ["privacy", "keygen", "--out", str(out)])
    assert again.exit_code == 3
    assert "not overwriting" in again.stderr


def test_find_erase_audit(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    initialised(monkeypatch)
    key_for(name="portal", actor="portal:dvc", role="portal", agency="NATIONAL")
    key_for(name="officer1", actor="officer:1", role="reception", agency="H26.50.01")
    key_for(name="police1", actor="officer:police-1", role="reception", agency="H26.60.02")
    key_for(name="leader1", actor="leader:1", role="leader", agency="H26.50.01")
    key_for(name="access-log", actor="system:access", role="system", agency="H26.50.01")
    record = tmp_path / "person.json"
    record.write_text(json.dumps(PERSON, ensure_ascii=False))
    commitments = tmp_path / "c.json"
    commitments.write_text(run("privacy", "register", "--dossier", CODE, "--record", str(record)))
    submitted = {
        "procedure": "1.001193",
        "agency": "H26.50.01",
        "channel": "online",
        "applicant_kind": 1,
        "legal_basis": "state_duty",
    }
    run(
        "act",
        "--stream",
        CODE,
        "--type",
        "DossierSubmitted",
        "--actor",
        "portal:dvc",
        "--key",
        "portal",
        "--payload",
        f"@{commitments}",
        "--payload",
        json.dumps(submitted),
    )
    # the police officer searches by id number (typed at the prompt, here stdin)
    found = CliRunner().invoke(
        app, ["privacy", "find", "--as", "officer:police-1"], input="001099000002\n"
    )
    assert found.exit_code == 0, found.stderr
    assert CODE in found.stdout
    assert "001099000002" not in found.stdout + found.stderr
    # a portal is not an official reader
    refused = CliRunner().invoke(
        app, ["privacy", "show", "--dossier", CODE, "--as", "portal:dvc", "--purpose", "reception"]
    )
    assert refused.exit_code == 1
    assert "privacy.access_refused" in refused.stderr
    assert "Trần" not in refused.stdout + refused.stderr
    run("privacy", "flush")
    audit = json.loads(run("privacy", "audit", "--json"))
    assert [(f["rule"], f["found"]) for f in audit] == [("privacy.access_scope", "H26.60.02")]
    request = tmp_path / "request.txt"
    request.write_text("Tôi đề nghị xoá dữ liệu")
    erase = CliRunner().invoke(
        app,
        [
            "privacy",
            "erase",
            "--dossier",
            CODE,
            "--basis",
            "withdrawn_consent",
            "--request",
            str(request),
            "--actor",
            "leader:1",
            "--key",
            "leader1",
        ],
    )
    assert erase.exit_code == 1
    assert "privacy.retention" in erase.stderr
    assert CODE in erase.stderr  # which dossier is under retention
    accesses = json.loads(run("privacy", "accesses", "--dossier", CODE, "--json"))
    assert [(a["reader"], a["purpose"]) for a in accesses] == [("officer:police-1", "search")]
