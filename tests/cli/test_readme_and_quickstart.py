"""The README's commands and the docs' examples are executed, so they can't go stale."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ledger import __version__
from ledger.cli import app
from ledger.core import encoding

pytestmark = pytest.mark.integration

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


# --- every runnable shell block of the README and the quickstart is run ------------------

RUN_DOCS = ("README.md", "docs/quickstart.md")
"""Docs whose ``sh`` blocks run, in order, in one empty directory per doc."""

NOT_RUN = {
    "README.md": {
        "python3.11 -m venv .venv": "creates a virtualenv",  # the demo: test_demo_runs_...
        "bash tests/run.sh": "the gates",  # this very test is one of them
    },
    "docs/quickstart.md": {
        "cd hoso": "virtualenv",
        "set -a; . hoso-data/demo.env": "server",
        "createdb": "PostgreSQL",
    },
}
"""The only blocks allowed to skip: doc → {first command line prefix: a word of the reason}."""

CHECKED_DOCS = (
    "README.md",
    "docs/quickstart.md",
    "docs/architecture.md",
    "docs/operations.md",
    "docs/inspectors.md",
    "docs/integrators.md",
    "docs/citizens.md",
)
"""Docs whose every ``hoso ...`` command and ``--flag`` in code must exist in the CLI."""

FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN_MARK = re.compile(r"# not run: (?P<reason>\S.*)")


@dataclass(frozen=True)
class ShellBlock:
    doc: str
    line: int
    body: str

    @property
    def not_run(self) -> str | None:
        """The reason given on the block's first line, or None (the block runs)."""
        first = self.body.splitlines()[0] if self.body else ""
        mark = NOT_RUN_MARK.fullmatch(first.strip())
        return None if mark is None else mark.group("reason")

    @property
    def first_command(self) -> str:
        lines = [ln for ln in self.body.splitlines() if ln.strip() and not ln.startswith("#")]
        return lines[0] if lines else ""


def shell_blocks(doc: str) -> list[ShellBlock]:
    text = (ROOT / doc).read_text()
    return [
        ShellBlock(doc, text.count("\n", 0, m.start()) + 1, m.group("body"))
        for m in FENCE.finditer(text)
        if m.group("lang") == "sh"
    ]


@dataclass(frozen=True)
class BlockRun:
    block: ShellBlock
    cwd: Path
    stdout: str
    stderr: str
    returncode: int


def run_blocks(doc: str, cwd: Path) -> list[BlockRun]:
    """Run the doc's runnable blocks in order by bash in ``cwd``, exactly as written."""
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "120"}
    runs: list[BlockRun] = []
    for block in shell_blocks(doc):
        if block.not_run is not None:
            continue
        done = subprocess.run(  # noqa: S603 (our own docs, run in a temp dir)
            [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", block.body],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        runs.append(BlockRun(block, cwd, done.stdout, done.stderr, done.returncode))
        if done.returncode != 0:
            break  # later blocks build on this one
    return runs


class DocRuns(dict[str, list[BlockRun]]):
    """Each doc's blocks run once per module, on first use."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        super().__init__()
        self.tmp = tmp

    def __missing__(self, doc: str) -> list[BlockRun]:
        self[doc] = run_blocks(doc, self.tmp.mktemp(doc.replace("/", "-")))
        return self[doc]


@pytest.fixture(scope="module")
def doc_runs(tmp_path_factory: pytest.TempPathFactory) -> DocRuns:
    return DocRuns(tmp_path_factory)


@pytest.mark.parametrize("doc", RUN_DOCS)
def test_every_runnable_shell_block_runs(doc: str, doc_runs: DocRuns) -> None:
    runs = doc_runs[doc]
    runnable = [b for b in shell_blocks(doc) if b.not_run is None]
    for run in runs:
        assert run.returncode == 0, (
            f"{doc}:{run.block.line} failed ({run.returncode}):\n{run.block.body}\n"
            f"--- stdout\n{run.stdout[-3000:]}\n--- stderr\n{run.stderr[-3000:]}"
        )
    assert [r.block for r in runs] == runnable


@pytest.mark.parametrize("doc", RUN_DOCS)
def test_only_the_listed_blocks_are_not_run(doc: str) -> None:
    """A block may skip only if it is listed here, with its reason: nothing goes stale quietly."""
    text = (ROOT / doc).read_text()
    langs = {m.group("lang") for m in FENCE.finditer(text)}
    assert langs <= {"sh", "", "text", "json", "python", "mermaid"}, langs  # no hidden shells
    skipped = {b.first_command: b.not_run for b in shell_blocks(doc) if b.not_run is not None}
    expected = NOT_RUN[doc]
    assert len(skipped) == len(expected), skipped
    for prefix, word in expected.items():
        match = [cmd for cmd in skipped if cmd.startswith(prefix)]
        assert len(match) == 1, (prefix, skipped)
        reason = skipped[match[0]]
        assert reason is not None
        assert word.lower() in reason.lower(), (prefix, reason)


def test_readme_operator_session_runs(doc_runs: DocRuns) -> None:
    """The README's 'Run a ledger' block, run by bash exactly as written."""
    readme = (ROOT / "README.md").read_text()
    line = readme.count("\n", 0, readme.index("## Run a ledger"))
    session = [r for r in doc_runs["README.md"] if r.block.line > line]
    assert session, "the operator session block was not run"
    done = session[0]
    assert done.returncode == 0, done.stderr
    shown = done.stdout[done.stdout.index("Personal record") : done.stdout.index("logged 1")]
    proof = json.loads(done.stdout[done.stdout.index('{\n  "leaf_index"') :])
    # three key registrations, the dossier's two events, one access-log batch, and the
    # index commit that ends the checkpoint
    assert proof["leaf_index"] == 3
    assert proof["tree_size"] == 7
    assert "Nguyễn Văn Thử" in shown  # the officer sees the record ...
    assert "logged 1 read(s)" in done.stdout
    assert '"reader": "officer:hn-0001"' in done.stdout  # ... the citizen sees who read it,
    assert '"purpose": "reception"' in done.stdout
    assert "001099000001" not in done.stdout.replace(shown, "")  # and nothing else shows it
    assert "Nguyễn Văn Thử" not in done.stdout.replace(shown, "")
    assert "a long passphrase" not in done.stdout + done.stderr
    report = json.loads((done.cwd / "report.json").read_text())
    assert report["exit_code"] == 0, report
    assert report["records"] == proof["tree_size"]


def test_quickstart_outputs_are_what_it_says(doc_runs: DocRuns) -> None:
    runs = doc_runs["docs/quickstart.md"]
    out = {
        r.block.first_command.split()[0] + " " + r.block.first_command.split()[1]: r.stdout
        for r in runs
    }
    for claim in ("Where things are", "hoso verify", "hoso seal verify", "hoso serve"):
        assert claim in out["hoso demo"], claim
    assert "all checks passed" in out["hoso demo"]
    verified = next(ln for ln in out["hoso verify"].splitlines() if ln.startswith("verified:"))
    assert verified.startswith("verified: 0 integrity, 0 malformed, "), verified
    assert verified.endswith("exit 0"), verified
    bundle = out["hoso audit"].strip().splitlines()[-1]  # the block that exports and verifies
    assert bundle.startswith("verified: 0 integrity, 0 malformed, "), bundle
    assert bundle.endswith("exit 0"), bundle


# --- every documented command and flag exists ---------------------------------------------

HOSO_COMMAND = re.compile(r"(?<![\w/.-])hoso((?: [a-z][a-z0-9-]*)+)(?P<rest>[^\n`|;&>#]*)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def documented_commands(doc: str) -> Iterator[tuple[list[str], list[str]]]:
    """(command words, flags) of every ``hoso ...`` in the doc's code spans and blocks."""
    text = (ROOT / doc).read_text()
    code = [m.group("body").replace("\\\n", " ") for m in FENCE.finditer(text)]
    code += INLINE_CODE.findall(FENCE.sub("", text))
    for chunk in code:
        for match in HOSO_COMMAND.finditer(chunk):
            words = match.group(1).split()
            rest = " ".join(words) + match.group("rest")
            yield words, re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest)


@pytest.mark.parametrize("doc", CHECKED_DOCS)
def test_documented_commands_and_flags_exist(doc: str) -> None:
    root = typer.main.get_command(app)
    seen = 0
    for words, flags in documented_commands(doc):
        command = root
        for word in words:
            subcommands: dict[str, Any] = getattr(command, "commands", {})
            if word not in subcommands:
                break
            command = subcommands[word]
        assert command is not root, f"{doc}: no command `hoso {' '.join(words)}`"
        options = {"--help"} | {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        unknown = [f for f in flags if f not in options]
        assert not unknown, f"{doc}: `hoso {' '.join(words)}` has no {unknown}"
        seen += 1
    assert seen > 0, doc
