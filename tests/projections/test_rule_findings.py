"""The automatic post-audit rule findings, refreshed into a table beside the views."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ledger.cli import app
from ledger.demo.run import run_demo
from ledger.storage.database import open_backend
from projections.queries import findings
from tests.support.databases import private_postgres_url

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (
        f"sqlite:///{tmp_path / 'demo.sqlite'}"
        if request.param == "sqlite"
        else private_postgres_url("hoso_rule_findings")
    )
    assert run_demo(dossiers=30, db=url, console=Console(file=io.StringIO())) == 0
    return url


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def test_refresh_puts_the_demo_findings_beside_the_views(demo_db: str) -> None:
    cli("projections", "rebuild", "--db", demo_db)
    first = cli("projections", "refresh-findings", "--db", demo_db)
    assert first.startswith("7 rule finding(s)")
    backend = open_backend(demo_db)
    try:
        rows = [r for r in findings(backend.sql) if r["source"] == "rule"]
        assert sorted(r["rule"] for r in rows) == [
            "privacy.access_scope",
            "rule.apology_misuse",
            "rule.fee_on_exempt_procedure",
            "rule.handover_late",
            "rule.late_without_apology",
            "rule.paper_copy_without_basis",
            "rule.revocation_overdue",
        ]
        by_rule = {r["rule"]: r for r in rows}
        assert by_rule["rule.late_without_apology"]["code"].startswith("000.25.11.H26")
        assert by_rule["privacy.access_scope"]["code"] == "system/privacy-rules"
        only = findings(backend.sql, rule="rule.handover_late")
        assert [r["rule"] for r in only] == ["rule.handover_late"]
    finally:
        backend.close()
    # nothing changed: only the open dossiers are re-examined, the findings are the same
    second = cli("projections", "refresh-findings", "--db", demo_db)
    # the demo refreshed them itself: the CLI finds nothing new, the same 7 findings
    assert first.startswith("7 rule finding(s); 0 dossier(s) re-examined")
    assert second.startswith("7 rule finding(s); 0 dossier(s) re-examined")
