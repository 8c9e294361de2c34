"""The README's commands and the docs' examples are executed, so they can't go stale."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ledger import __version__
from ledger.cli import app
from ledger.core import encoding

ROOT = Path(__file__).resolve().parents[2]


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    demo = "python3.11 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/hoso demo"
    assert demo in readme
    assert "bash tests/run.sh" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash tests/run.sh" in ci


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"hoso {__version__}"


PLANTED = [
    "rule.apology_misuse",
    "rule.fee_on_exempt_procedure",
    "rule.handover_late",
    "rule.late_without_apology",
    "rule.paper_copy_without_basis",
    "rule.revocation_overdue",
]


def test_demo_runs_dossiers_verifies_audits_and_catches_tampering(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    result = CliRunner().invoke(
        app, ["demo", "--db", db, "--dossiers", "30"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.stdout
    assert "✓ verified" in result.stdout
    # Exactly the planted violations (plus the planted out-of-scope read of personal data).
    assert "Post-audit rules: 7 finding(s)" in result.stdout
    for rule in [*PLANTED, "privacy.access_scope"]:
        assert re.search(rf"{re.escape(rule)}\s*│ 1\s*│ 1", result.stdout), rule
    assert "✓ tamper caught" in result.stdout
    # The failed check is named by its id (rich must not eat "[...]" as markup).
    assert re.search(
        r"tamper caught.*\[(signature\.invalid|encoding\.canonical|record\.shape)",
        result.stdout,
        re.S,
    )
    for where in ("report.html", "trust.txt", "results", "demo.env"):
        assert (tmp_path / where).exists(), where
    assert f"hoso verify --db {db} --trust {tmp_path / 'trust.txt'}" in result.stdout
    assert "hoso serve" in result.stdout
    assert "all checks passed" in result.stdout

    # The same database read back through the inspector-facing commands.
    audit = CliRunner().invoke(app, ["audit", "--json", "--db", db])
    assert audit.exit_code == 0, audit.stdout
    rules = sorted(json.loads(line)["rule"] for line in audit.stdout.splitlines())
    assert rules == PLANTED
    verified = CliRunner().invoke(
        app, ["verify", "--db", db, "--trust", str(tmp_path / "trust.txt"), "--json"]
    )
    assert verified.exit_code == 0, verified.stdout
    missing = CliRunner().invoke(app, ["dossier", "show", "NOPE", "--db", db])
    assert missing.exit_code == 1


def test_formats_doc_encoding_example() -> None:
    doc = (ROOT / "docs" / "formats.md").read_text()
    match = re.search(r"encodes as\n`([0-9a-f ]+)`", doc)
    assert match is not None
    value: encoding.Value = {"b": 1, "a": [1, -1, b"x", "s", None, True]}
    assert encoding.encode(value).hex(" ") == match.group(1)


def test_formats_doc_worked_example_matches_the_vectors() -> None:
    """Every hex value and the note quoted in docs/formats.md §7 is in the vector files."""
    doc = (ROOT / "docs" / "formats.md").read_text()
    section = doc[doc.index("A worked example") : doc.index("python -m tests.vectors.generate")]
    vectors = (ROOT / "tests" / "vectors" / "events.json").read_text() + (
        ROOT / "tests" / "vectors" / "checkpoints.json"
    ).read_text()
    quoted = re.findall(r"`([0-9a-f]{32,64})`", section)
    assert len(quoted) == 5
    for value in quoted:
        assert value in vectors, value
    for vkey in re.findall(r"`([a-z./0-9]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)`", section):
        assert vkey in vectors, vkey
    note = re.search(r"```\n(hoso\.example/hanoi\n3\n.*?)```", section, re.S)
    assert note is not None
    assert note.group(1).replace("\n", "\\n") in vectors


def test_readme_operator_session_runs(tmp_path: Path) -> None:
    """The README's 'Run a ledger' block, run by bash exactly as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Run a ledger") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(  # noqa: S603 (our own README, run in a temp dir)
        [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", block.group(1)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = done.stdout[done.stdout.index("Personal record") : done.stdout.index("logged 1")]
    proof = json.loads(done.stdout[done.stdout.index('{\n  "leaf_index"') :])
    # three key registrations, the dossier's two events, one access-log batch
    assert proof["leaf_index"] == 3
    assert proof["tree_size"] == 6
    assert "Nguyễn Văn Thử" in shown  # the officer sees the record ...
    assert "logged 1 read(s)" in done.stdout
    assert '"reader": "officer:hn-0001"' in done.stdout  # ... the citizen sees who read it,
    assert '"purpose": "reception"' in done.stdout
    assert "001099000001" not in done.stdout.replace(shown, "")  # and nothing else shows it
    assert "Nguyễn Văn Thử" not in done.stdout.replace(shown, "")
    assert "a long passphrase" not in done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_code"] == 0, report
    assert report["records"] == proof["tree_size"]
