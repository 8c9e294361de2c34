"""``hoso verify`` / ``hoso bundle export`` / ``hoso generate`` end to end: exit codes,
JSON, the HTML report, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from tests.support.tamperable import Tamperable
from tests.verify.test_tamper import delete_event

pytestmark = pytest.mark.integration

runner = CliRunner()
NOW = "2026-05-28T00:00+07:00"


def _trust(t: Tamperable, tmp_path: Path) -> Path:
    path = tmp_path / "trust.txt"
    path.write_text(t.ledger.trust_lines(), encoding="utf-8")
    return path


def test_clean_ledger_exit_0_json_and_strict_exit_1(tamperable: Tamperable, tmp_path: Path) -> None:
    trust = _trust(tamperable, tmp_path)
    args = ["verify", "--db", tamperable.url, "--trust", str(trust), "--now", NOW, "--workers", "1"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["verified"] is True
    assert report["records"] == tamperable.ledger.events
    assert report["counts"]["integrity"] == 0
    assert report["counts"]["rule"] == 6
    assert [s["number"] for s in report["steps"]] == list(range(1, 11))
    finding = report["findings"][0]
    assert set(finding) >= {"check", "stream", "n", "expected", "found"}
    assert runner.invoke(app, [*args, "--strict"]).exit_code == 1
    summary = runner.invoke(app, args)
    assert "exit 0" in summary.output
    assert "9 post-audit rules" in summary.output


def test_tampered_ledger_exit_1_and_html_report(tamperable: Tamperable, tmp_path: Path) -> None:
    delete_event(tamperable)
    html = tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "verify",
            "--db",
            tamperable.url,
            "--trust",
            str(_trust(tamperable, tmp_path)),
            "--now",
            NOW,
            "--html",
            str(html),
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 1, result.output
    page = html.read_text(encoding="utf-8")
    assert "chain.position" in page
    assert "<svg" in page
    assert "On time, by agency" in page
    assert "http://" not in page  # self-contained: nothing to fetch, no script
    assert "https://" not in page
    assert "<script" not in page


def test_malformed_record_exit_2(tamperable: Tamperable, tmp_path: Path) -> None:
    code = tamperable.ledger.codes[0]
    tamperable.raw.set_record(code, 1, b"\xc1")
    result = runner.invoke(
        app,
        [
            "verify",
            "--db",
            tamperable.url,
            "--trust",
            str(_trust(tamperable, tmp_path)),
            "--now",
            NOW,
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 2, result.output


def test_usage_and_io_errors_exit_3(tamperable: Tamperable, tmp_path: Path) -> None:
    trust = _trust(tamperable, tmp_path)
    assert runner.invoke(app, ["verify", "--trust", str(trust)]).exit_code == 3
    missing = runner.invoke(app, ["verify", "--db", tamperable.url, "--trust", "/nonexistent"])
    assert missing.exit_code == 3
    bad_trust = tmp_path / "bad.txt"
    bad_trust.write_text("log not-a-key\n", encoding="utf-8")
    assert (
        runner.invoke(app, ["verify", "--db", tamperable.url, "--trust", str(bad_trust)]).exit_code
        == 3
    )
    no_bundle = runner.invoke(
        app, ["verify", "--bundle", str(tmp_path / "none.bin"), "--trust", str(trust)]
    )
    assert no_bundle.exit_code == 3


def test_bundle_export_and_verify_by_result(tamperable: Tamperable, tmp_path: Path) -> None:
    code = tamperable.ledger.codes[0]
    out = tmp_path / "b.hoso"
    exported = runner.invoke(
        app,
        ["bundle", "export", "--db", tamperable.url, "--result", f"KS-{code[-4:]}", "-o", str(out)],
    )
    assert exported.exit_code == 0, exported.output
    result = runner.invoke(
        app,
        [
            "verify",
            "--bundle",
            str(out),
            "--trust",
            str(_trust(tamperable, tmp_path)),
            "--now",
            NOW,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["counts"]["integrity"] == 0


def test_generate_command_writes_a_verifiable_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    trust = tmp_path / "trust.txt"
    made = runner.invoke(
        app, ["generate", "--db", url, "--dossiers", "9", "--trust-out", str(trust)]
    )
    assert made.exit_code == 0, made.output
    assert "generated" in made.output
    checked = runner.invoke(
        app, ["verify", "--db", url, "--trust", str(trust), "--now", NOW, "--workers", "1"]
    )
    assert checked.exit_code == 0, checked.output
