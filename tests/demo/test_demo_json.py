"""``hoso demo --json`` on PostgreSQL: one JSON object, every check passed, no tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from tests.support.databases import private_postgres_url

pytestmark = pytest.mark.integration


@pytest.mark.postgres
def test_demo_json_on_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a PostgreSQL demo writes its files to ./hoso-data
    db = private_postgres_url("hoso_demo_json")
    result = CliRunner().invoke(app, ["demo", "--db", db, "--dossiers", "30", "--json"])
    assert result.exit_code == 0, result.stdout
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["dossiers"] == 30
    assert summary["findings"] == summary["planted"]
    assert summary["planted"]["privacy.access_scope"] == 1
    assert sum(summary["planted"].values()) == 7
    assert sum(summary["states"].values()) == 30
    assert summary["verification"]["integrity_findings"] == 0
    assert summary["verification"]["records"] == summary["events"]
    assert summary["personal_data"]["erased"] == 2
    assert (tmp_path / "hoso-data" / "report.html").exists()
    assert summary["tamper_caught"].startswith("one bit flipped")
    assert set(summary["files"]) >= {"report", "results", "trust", "serve_env"}
    assert summary["commands"]["verify"].startswith(f"hoso verify --db {db}")
    # a non-empty database is refused
    again = CliRunner().invoke(app, ["demo", "--db", db, "--dossiers", "5", "--json"])
    assert again.exit_code == 3
