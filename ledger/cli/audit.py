"""``hoso audit``: run the post-audit rules over dossiers and report them, in Vietnamese by
default (``--lang en``); ``--report DIR`` writes the inspector's ``audit.json`` and
``audit.html`` with the legal basis, proving events and Decision 766 indicators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ledger.cli.common import EXIT_USAGE, DbOption, fail, opened, read_bytes
from ledger.services.audit_report import LANGS, RULE_TITLES, Lang, audit_html, audit_report

_HEADS = {
    "vi": ("quy tắc", "hồ sơ", "sự kiện", "cơ quan", "văn bản", "yêu cầu", "thực tế"),
    "en": ("rule", "dossier", "event", "agency", "law", "expected", "found"),
}


def _names(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data: Any = json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        fail(f"{path}: not a JSON object of agency code → name ({err})", EXIT_USAGE)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        fail(f"{path}: expected a JSON object of agency code → name", EXIT_USAGE)
    return data


def audit(
    code: list[str] = typer.Argument(None, help="Dossier codes (default: every dossier)"),
    as_json: bool = typer.Option(False, "--json", help="Findings as JSON lines"),
    report: Path | None = typer.Option(
        None, "--report", help="Write audit.json and audit.html (findings and indicators) here"
    ),
    lang: str = typer.Option("vi", "--lang", help="vi (default) or en"),
    agencies: Path | None = typer.Option(
        None,
        "--agencies",
        help="JSON object of agency code → name: names agencies, and transfers to others are"
        " findings",
    ),
    db: str | None = DbOption,
) -> None:
    """Run the post-audit rules over dossiers; exit 0 even with findings (they are a report)."""
    if lang not in LANGS:
        fail(f"--lang must be one of {', '.join(LANGS)}", EXIT_USAGE)
    language: Lang = "vi" if lang == "vi" else "en"
    names = _names(agencies)
    with opened(db) as ledger:
        codes = code or ledger.dossiers.codes()
        now = ledger.clock_us()
        if report is not None:
            data = audit_report(ledger.dossiers, now_us=now, codes=codes, agency_names=names)
            report.mkdir(parents=True, exist_ok=True)
            (report / "audit.json").write_text(
                json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            (report / "audit.html").write_text(audit_html(data, lang=language), encoding="utf-8")
            typer.echo(
                f"{len(data['findings'])} finding(s), {len(data['indicators'])} indicator row(s)"
                f" → {report / 'audit.json'}, {report / 'audit.html'}"
            )
            return
        known = frozenset(names) if names else None
        findings = ledger.dossiers.audit(codes, now_us=now, agencies=known)
        if as_json:
            for finding in findings:
                typer.echo(json.dumps(finding.as_dict(), ensure_ascii=False))
            return
        title = (
            f"{len(findings)} phát hiện trên {len(codes)} hồ sơ"
            if language == "vi"
            else f"{len(findings)} finding(s) over {len(codes)} dossier(s)"
        )
        table = Table(*_HEADS[language], title=title)
        for f in findings:
            name = RULE_TITLES.get(f.rule, (f.rule, f.rule))[0 if language == "vi" else 1]
            table.add_row(
                f"{name} ({f.rule})",
                f.stream,
                "" if f.n is None else str(f.n),
                f.agency + (f" {names[f.agency]}" if f.agency in names else ""),
                f.law,
                f.expected,
                f.found,
            )
        Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(audit)
