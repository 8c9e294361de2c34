"""``hoso projections rebuild | follow | status`` on a demo ledger (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app

pytestmark = pytest.mark.integration


def test_rebuild_follow_and_status(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    runner = CliRunner()
    demo = runner.invoke(app, ["demo", "--db", db, "--dossiers", "30"], env={"COLUMNS": "200"})
    assert demo.exit_code == 0, demo.stdout

    # the demo built every view up to the log's end
    status = runner.invoke(app, ["projections", "status", "--json", "--db", db])
    assert status.exit_code == 0, status.stdout
    before = {v["view"]: v for v in json.loads(status.stdout)}
    assert before["dossiers"]["position"] == before["dossiers"]["log_position"] > 0
    assert before["dossiers"]["behind"] == 0

    built = runner.invoke(app, ["projections", "rebuild", "dossiers", "results", "--db", db])
    assert built.exit_code == 0, built.stdout
    assert "rebuilt dossiers, results" in built.stdout

    followed = runner.invoke(app, ["projections", "follow", "--seconds", "0.3", "--db", db])
    assert followed.exit_code == 0, followed.stdout
    assert followed.stdout.startswith("FOLLOWING")

    after = json.loads(runner.invoke(app, ["projections", "status", "--json", "--db", db]).stdout)
    log = after[0]["log_position"]
    assert [(v["position"], v["behind"]) for v in after] == [(log, 0)] * len(after)

    bad = runner.invoke(app, ["projections", "rebuild", "nonsense", "--db", db])
    assert bad.exit_code == 2  # malformed input
    assert "[projection.view]" in bad.output
    assert "nonsense" in bad.output
