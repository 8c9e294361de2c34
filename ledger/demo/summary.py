"""What ``hoso demo`` prints at the end: rich tables, or one JSON object with ``--json``."""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.bootstrap import Ledger
from ledger.demo.generate import GeneratedLedger
from ledger.demo.generator.hanoi import AGENCY_NAMES
from ledger.demo.generator.plan import TET
from ledger.demo.steps import Sheets
from ledger.domain.calendar import VN_TZ, instant
from verify.run import Report

TET_START = instant(datetime(TET[0].year, TET[0].month, TET[0].day, tzinfo=VN_TZ))
TET_END = instant(datetime(TET[1].year, TET[1].month, TET[1].day, 23, 59, tzinfo=VN_TZ))


@dataclass
class DemoRun:
    """What the demo did, for the summary (rich or ``--json``)."""

    db: str
    folder: Path
    generated: GeneratedLedger
    seconds: dict[str, float]
    findings_table: int
    sheets: Sheets
    report: Report
    tamper: str
    env: Path
    token: str
    states: Counter[str] = field(default_factory=Counter)
    by_agency: dict[str, Counter[str]] = field(default_factory=dict)
    on_time: dict[str, tuple[int, int]] = field(default_factory=dict)  # agency → (on time, all)
    tet_pushed: int = 0


def tally(run: DemoRun, ledger: Ledger) -> None:
    """Dossiers by state and agency, on-time rates, due dates pushed over Tết."""
    for case in run.generated.cases:
        state = ledger.dossiers.existing(case.code)
        label = f"{state.portal_code} {state.state.label}"
        run.states[label] += 1
        run.by_agency.setdefault(state.agency, Counter())[label] += 1
        if state.resolved_us is not None and state.legal_due_us is not None:
            done, total = run.on_time.get(state.agency, (0, 0))
            run.on_time[state.agency] = (
                done + (state.resolved_us <= state.legal_due_us),
                total + 1,
            )
        received, due = state.received_us, state.legal_due_us
        if received is not None and due is not None and received < TET_START and due > TET_END:
            run.tet_pushed += 1


def rule_counts(run: DemoRun) -> dict[str, int]:
    families = run.report.findings.families
    return {c: n for c, n in sorted(run.report.findings.counts.items()) if families[c] == "rule"}


def passed(run: DemoRun) -> bool:
    """Verified, tamper caught, and exactly the planted findings (no more, no fewer)."""
    report = run.report
    if not run.tamper:
        return False
    clean = report.findings.total("integrity") == 0 and report.findings.total("malformed") == 0
    return clean and rule_counts(run) == run.generated.planted


def summary_json(run: DemoRun, *, ok: bool) -> dict[str, object]:
    g, report, sheets = run.generated, run.report, run.sheets
    return {
        "ok": ok,
        "database": str(run.db),
        "seed": g.seed,
        "dossiers": g.dossiers,
        "events": run.report.records,  # generated, plus the status lists published
        "agencies": {code: AGENCY_NAMES[code] for code in sorted(run.by_agency)},
        "states": dict(sorted(run.states.items())),
        "lifecycles": g.lifecycles,
        "on_time": {a: {"on_time": d, "resolved": t} for a, (d, t) in sorted(run.on_time.items())},
        "due_dates_over_tet": run.tet_pushed,
        "planted": g.planted,
        "findings": rule_counts(run),
        "personal_data": {"subjects": g.subjects, "reads_logged": g.reads, "erased": len(g.erased)},
        "verification": {
            "records": report.records,
            "checkpoints": [a.checkpoint.size for a in report.checkpoints],
            "integrity_findings": report.findings.total("integrity"),
            "malformed": report.findings.total("malformed"),
        },
        "tamper_caught": run.tamper,
        "seconds": {k: round(v, 2) for k, v in run.seconds.items()},
        "files": {
            "report": str(run.folder / "report.html"),
            "results": str(sheets.folder),
            "result_sheets": sheets.count,
            "trust": str(run.folder / "trust.txt"),
            "trust_list": str(sheets.trust_list),
            "serve_env": str(run.env),
        },
        "commands": commands(run),
    }


def commands(run: DemoRun) -> dict[str, str]:
    hoso = hoso_command()
    return {
        "verify": f"{hoso} verify --db {run.db} --trust {run.folder / 'trust.txt'}",
        "seal_verify": run.sheets.command.replace("hoso ", f"{hoso} ", 1),
        "serve": f"set -a; . {run.env}; set +a; {hoso} serve --port 8000",
        "audit": f"{hoso} audit --db {run.db}",
    }


def hoso_command() -> str:
    """How to call ``hoso`` from here: by name when it is on the PATH, else the path of the
    console script that is running (e.g. ``.venv/bin/hoso`` right after the README's install)."""
    if shutil.which("hoso") is not None:
        return "hoso"
    script = Path(sys.argv[0])
    if script.name == "hoso" and script.exists():
        return os.path.relpath(script) if not script.is_absolute() else str(script)
    return "hoso"


def print_summary(out: Console, run: DemoRun, *, ok: bool) -> None:
    g, report, sheets = run.generated, run.report, run.sheets
    out.rule("[bold]hoso demo[/]: Hanoi dossiers on a signed, verifiable ledger")
    table = Table("agency", "dossiers", "states", "on time", title=f"{g.dossiers} dossiers")
    for agency, states in sorted(run.by_agency.items()):
        done, total = run.on_time.get(agency, (0, 0))
        rate = f"{done}/{total} ({100 * done / total:.0f}%)" if total else "–"
        shown = ", ".join(f"{label}: {n}" for label, n in sorted(states.items()))
        table.add_row(f"{agency}\n{AGENCY_NAMES[agency]}", str(sum(states.values())), shown, rate)
    out.print(table)
    lives = ", ".join(f"{k} {v}" for k, v in sorted(g.lifecycles.items(), key=lambda kv: -kv[1]))
    out.print(f"lifecycles: {lives}")
    out.print(
        f"{run.tet_pushed} due date(s) received before Tết (16–20 Feb 2026) fall after it: "
        "the holiday is not counted as working time."
    )
    found = rule_counts(run)
    rules = Table(
        "rule", "planted", "found", title=f"Post-audit rules: {sum(found.values())} finding(s)"
    )
    for rule in sorted(set(found) | set(g.planted)):
        rules.add_row(rule, str(g.planted.get(rule, 0)), str(found.get(rule, 0)))
    out.print(rules)
    out.print(
        f"[bold]Personal data[/]: {g.subjects} applicants in the vault (each under its own key; "
        f"the ledger holds only salted commitments), {g.reads} reads by officials logged as "
        f"signed DataAccessed batches, {len(g.erased)} applicant(s) erased after retention."
    )
    if report.findings.total("integrity") == 0 and report.findings.total("malformed") == 0:
        sizes = ", ".join(str(a.checkpoint.size) for a in report.checkpoints)
        out.print(
            f"[green]✓ verified[/]: {report.records} records, {report.streams} streams, "
            f"{report.signatures} signatures, checkpoints at {sizes} cosigned by the witness"
        )
    else:
        out.print("[red]✗ verification found integrity problems[/] (see the report)")
    out.print(f"[green]✓ tamper caught[/]: {escape(run.tamper)}", soft_wrap=True)
    where = Table("what", "where", title="Where things are", show_lines=False)
    where.add_row("inspector report", str(run.folder / "report.html"))
    where.add_row(
        "result sheets + QR",
        f"{sheets.folder}/ ({sheets.count} sheets{', PNG' if sheets.pngs else ''})",
    )
    where.add_row("trust file", str(run.folder / "trust.txt"))
    out.print(where)
    for name, command in commands(run).items():
        out.print(f"  {name}: {escape(command)}", soft_wrap=True, highlight=False)
    out.print(
        f"Browse with the API: the settings are in {run.env}; DEMO-ONLY inspector token "
        f"(shown once): {run.token}\n"
        "  curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8000/v1/dossiers",
        soft_wrap=True,
        highlight=False,
    )
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in run.seconds.items())
    out.print(f"{'[green]all checks passed[/]' if ok else '[red]some checks failed[/]'} ({timing})")
