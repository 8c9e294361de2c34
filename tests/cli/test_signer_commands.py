"""``hoso checkpoint sign`` after the database was put back to an earlier copy: the
signer's state file (beside the keystore) makes it refuse, with the check id, and sign
nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from tests.cli.test_ledger_commands import env, initialised, key_for, run

pytestmark = pytest.mark.integration

__all__ = ["env"]  # the fixture, shared with the ledger commands' suite


def test_sign_after_a_rollback_is_refused(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initialised(monkeypatch)
    key_for(name="officer1", actor="officer:1", role="handler", agency="H26")
    run("checkpoint", "sign")
    db = Path(env["HOSO_DATABASE_URL"].removeprefix("sqlite:///"))
    with sqlite3.connect(db) as src, sqlite3.connect(tmp_path / "copy.sqlite") as dst:
        src.backup(dst)
    key_for(name="officer2", actor="officer:2", role="handler", agency="H26")
    signed = run("checkpoint", "sign")
    state = tmp_path / "checkpoint-signer.note"
    assert state.read_text() == signed  # the last checkpoint, beside the keystore
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "copy.sqlite", db)
    key_for(name="officer3", actor="officer:3", role="leader", agency="H26")  # another history
    refused = CliRunner().invoke(app, ["checkpoint", "sign"])
    assert refused.exit_code == 1
    assert "checkpoint.fork_refused" in refused.stderr
    assert state.read_text() == signed
    shown = run("checkpoint", "show")
    assert shown != signed
    assert int(shown.split("\n")[1]) < int(signed.split("\n")[1])
