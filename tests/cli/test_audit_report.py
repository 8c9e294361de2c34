"""``hoso audit --report``: the inspector's report (issue 16 §4–§5), Vietnamese by default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.demo.generate import generate_ledger
from ledger.domain.law import shipped_law
from ledger.services.verify_source import DatabaseSource

pytestmark = pytest.mark.integration


def test_the_report_cites_the_law_proves_each_finding_and_scores_agencies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    generated = generate_ledger(url, dossiers=300, seed=2)
    names = tmp_path / "agencies.json"
    names.write_text(json.dumps({c.agency: f"Cơ quan {c.agency}" for c in generated.cases}))
    out = tmp_path / "report"
    run = CliRunner().invoke(
        app, ["audit", "--db", url, "--report", str(out), "--agencies", str(names)]
    )
    assert run.exit_code == 0, run.stdout
    report = json.loads((out / "audit.json").read_text())
    assert report["findings"], "the generator plants violations"
    streams = dict(DatabaseSource(url).dossiers())
    law = shipped_law()
    for finding in report["findings"]:
        assert finding["law"] in {v.id for v in law.versions}
        assert finding["basis"] == law.cite(finding["rule"], finding["law"])
        assert finding["title_vi"]
        assert finding["title_en"]
        assert finding["procedure"]["name_vi"]
        assert finding["agency"]["name"] == f"Cơ quan {finding['agency']['code']}"
        assert finding["events"], finding["rule"]
        for event in finding["events"]:
            assert re.fullmatch(r"[0-9a-f]{64}", event["hash"])
            assert 1 <= event["n"] <= len(streams[finding["dossier"]])
    ids = {row["indicator"] for row in report["indicators"]}
    assert {"on_time_rate", "online_submission_rate", "digitised_results_rate"} <= ids
    for row in report["indicators"]:
        assert 0 <= row["numerator"] <= row["denominator"]
    assert {item["group"] for item in report["not_computed"]} == {1, 4, 5}
    html = (out / "audit.html").read_text()
    assert '<html lang="vi">' in html
    assert "Báo cáo hậu kiểm" in html
    assert "Căn cứ pháp lý" in html
    english = CliRunner().invoke(
        app, ["audit", "--db", url, "--report", str(tmp_path / "en"), "--lang", "en"]
    )
    assert english.exit_code == 0, english.stdout
    assert "Post-audit report" in (tmp_path / "en" / "audit.html").read_text()
    table = CliRunner().invoke(app, ["audit", "--db", url], env={"COLUMNS": "250"})
    assert "phát hiện trên" in table.stdout
    bad = CliRunner().invoke(app, ["audit", "--db", url, "--lang", "fr"])
    assert bad.exit_code == 3
