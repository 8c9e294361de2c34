"""``hoso verify`` and ``hoso bundle export``.

``hoso verify`` reads raw stored bytes (``--db``) or an offline bundle
(``--bundle``) and re-derives everything with the pure core and domain
(:mod:`verify`). Exit codes: 0 verified, 1 integrity failure (or rule findings
under ``--strict``), 2 malformed input, 3 usage or I/O error.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledger.cli.common import fail, fetcher, read_bytes
from ledger.core.errors import HosoError, MalformedError
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.settings import Settings
from verify.findings import EXIT_INTEGRITY, EXIT_MALFORMED, EXIT_USAGE
from verify.peers import Peer, PeerReport, check_references, references
from verify.report import report_json, step_counts
from verify.run import Report
from verify.trust import TrustRoots, parse_trust, parse_trust_set

bundle_app = typer.Typer(help="Offline bundles: one dossier, verifiable with nothing else.")


def _trust(path: Path) -> TrustRoots:
    try:
        return parse_trust(read_bytes(path).decode("utf-8"))
    except (HosoError, UnicodeDecodeError) as err:
        fail(f"trust file {path}: {err}", EXIT_USAGE)


def _trust_set(path: Path) -> dict[str, TrustRoots]:
    try:
        return parse_trust_set(read_bytes(path).decode("utf-8"))
    except (HosoError, UnicodeDecodeError) as err:
        fail(f"trust file {path}: {err}", EXIT_USAGE)


def _own(logs: dict[str, TrustRoots], origin: str | None) -> TrustRoots:
    """The verified log's roots: the one log of the file, or the one ``--origin`` names."""
    if origin is None:
        if len(logs) != 1:
            fail(f"the trust file lists {len(logs)} logs: give --origin", EXIT_USAGE)
        return next(iter(logs.values()))
    if origin not in logs:
        fail(f"--origin {origin}: not in the trust file ({', '.join(sorted(logs))})", EXIT_USAGE)
    return logs[origin]


def _peers(values: list[str], logs: dict[str, TrustRoots]) -> dict[str, Peer]:
    peers: dict[str, Peer] = {}
    for value in values:
        origin, eq, where = value.partition("=")
        if not eq or origin not in logs:
            fail(f"--peer {value!r}: ORIGIN=URL|DIR with ORIGIN in the trust file", EXIT_USAGE)
        peers[origin] = Peer(fetcher(where, token=None, timeout_s=30.0), logs[origin])
    return peers


def _now(value: str | None) -> int:
    if value is None:
        return time.time_ns() // 1000
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO 8601 time", EXIT_USAGE)
    if moment.tzinfo is None:
        fail("--now needs a time zone (e.g. 2026-06-01T00:00+07:00)", EXIT_USAGE)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def verify(
    db: str | None = typer.Option(
        None, "--db", help="Database URL of the ledger (default: HOSO_DATABASE_URL)"
    ),
    bundle: Path | None = typer.Option(None, "--bundle", help="An offline bundle file"),
    trust: Path = typer.Option(..., "--trust", help="Trust roots file (docs/verify.md)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object"),
    html: Path | None = typer.Option(None, "--html", help="Also write an HTML report here"),
    strict: bool = typer.Option(False, "--strict", help="Rule findings fail the run (exit 1)"),
    workers: int = typer.Option(
        os.cpu_count() or 1, "--workers", min=1, help="Processes for signature checks"
    ),
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="Further signed checkpoints obtained elsewhere (repeatable)"
    ),
    now: str | None = typer.Option(
        None, "--now", help="The audit's 'now' for time rules, ISO 8601 (default: the clock)"
    ),
    rules: bool = typer.Option(True, "--rules/--no-rules", help="Run steps 8-9"),
    origin: str | None = typer.Option(
        None, "--origin", help="Which log of a several-log trust file this ledger is"
    ),
    peer: list[str] = typer.Option(
        [],
        "--peer",
        help="ORIGIN=URL|DIR: another log's tlog-tiles, to check the transfers that name"
        " its entries (repeatable; ORIGIN must be in the trust file)",
    ),
) -> None:
    """Verify a whole ledger (--db, default HOSO_DATABASE_URL) or one dossier's bundle
    (--bundle), offline."""
    if db is not None and bundle is not None:
        fail("give one of --db URL and --bundle FILE, not both", EXIT_USAGE)
    logs = _trust_set(trust)
    roots = _own(logs, origin)
    peers = _peers(peer, logs)
    if peers and bundle is not None:
        fail("--peer checks a whole ledger's transfers: give --db, not --bundle", EXIT_USAGE)
    checked = PeerReport()
    now_us = _now(now)
    console = Console(stderr=as_json)
    catalogue, calendar = load_catalogue(), load_calendar()
    try:
        if bundle is not None:
            from verify.bundle import verify_bundle  # noqa: PLC0415 (late: fast --help)

            report = verify_bundle(
                read_bytes(bundle), roots, catalogue=catalogue, calendar=calendar, now_us=now_us
            )
        else:
            url = db or Settings().database_url
            report = _verify_db(
                url, roots, [read_bytes(p) for p in checkpoint], workers, now_us, rules, console
            )
            if peers:
                from ledger.services.verify_source import DatabaseSource  # noqa: PLC0415

                refs = references(DatabaseSource(url).log())
                checked = check_references(refs, peers, report.findings)
    except HosoError as err:
        fail(str(err), EXIT_MALFORMED if isinstance(err, MalformedError) else EXIT_INTEGRITY)
    except OSError as err:
        fail(f"I/O: {err}", EXIT_USAGE)
    if html is not None:
        from verify.html import render_html  # noqa: PLC0415

        try:
            html.write_text(render_html(report, strict=strict), encoding="utf-8")
        except OSError as err:
            fail(f"can't write {html}: {err.strerror}", EXIT_USAGE)
    _output(report, checked, sorted(peers), console, as_json=as_json, strict=strict)
    raise typer.Exit(report.exit_code(strict=strict))


def _output(
    report: Report,
    checked: PeerReport,
    peers: list[str],
    console: Console,
    *,
    as_json: bool,
    strict: bool,
) -> None:
    if as_json:
        out = report_json(report, strict=strict)
        if peers:
            out["references"] = {"checked": checked.checked, "unchecked": checked.unchecked}
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    _print_summary(console, report, strict=strict)
    if peers:
        console.print(
            f"inter-log references: {checked.checked} checked against {', '.join(peers)};"
            f" not judged: {checked.unchecked or 'none'}"
        )


def _verify_db(
    db: str,
    roots: TrustRoots,
    extra: list[bytes],
    workers: int,
    now_us: int,
    rules: bool,
    console: Console,
) -> Report:
    import sqlite3  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from ledger.services.verify_source import DatabaseSource  # noqa: PLC0415
    from verify.run import verify_ledger  # noqa: PLC0415

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                label = "records (steps 1-5)" if phase == "log" else "dossiers (steps 8-9)"
                tasks[phase] = int(bar.add_task(label, total=total))
            bar.update(tasks[phase], completed=done)  # type: ignore[arg-type]

        try:
            return verify_ledger(
                DatabaseSource(db, extra_notes=extra),
                roots,
                catalogue=load_catalogue(),
                calendar=load_calendar(),
                now_us=now_us,
                workers=workers,
                rules=rules,
                retention_us=Settings().retention_days_without_result * 86_400_000_000,
                progress=progress,
            )
        except (psycopg.Error, sqlite3.Error, ValueError) as err:
            fail(f"can't read the database: {err}", EXIT_USAGE)


def _print_summary(console: Console, report: Report, *, strict: bool) -> None:
    steps = Table("step", "check", "findings", title=f"hoso verify — {escape(report.origin)}")
    for step in step_counts(report):
        mark = "[green]✓[/]" if step["findings"] == 0 else "[red]✗[/]"
        steps.add_row(
            f"{step['number']} {step['name']}", step["title"], f"{mark} {step['findings']}"
        )
    console.print(steps)
    kept = report.findings.kept
    if kept:
        table = Table("check", "where", "expected", "found", title="Findings (first 30)")
        for f in kept[:30]:
            table.add_row(
                f.check, escape(f.position()), escape(f.expected or ""), escape(f.found or "")
            )
        console.print(table)
    sizes = ", ".join(
        f"{a.checkpoint.size} ({len(a.witnesses)} witness)" for a in report.checkpoints
    )
    console.print(
        f"{report.records} records, {report.streams} streams, {report.signatures} signatures; "
        f"checkpoints: {sizes or 'none'}; {report.stats.dossiers} dossiers audited"
    )
    code = report.exit_code(strict=strict)
    counts = report.findings
    verdict = {0: "[green]verified[/]", 1: "[red]integrity failure[/]", 2: "[red]malformed[/]"}
    console.print(
        f"{verdict.get(code, '')}: {counts.total('integrity')} integrity, "
        f"{counts.total('malformed')} malformed, {counts.total('rule')} rule finding(s)"
        f" — exit {code}"
    )


@bundle_app.command("export")
def bundle_export(
    db: str | None = typer.Option(None, "--db", help="Database URL (default: HOSO_DATABASE_URL)"),
    dossier: str | None = typer.Option(None, "--dossier", help="Dossier code"),
    result: str | None = typer.Option(None, "--result", help="Result number"),
    out: Path = typer.Option(..., "--out", "-o", help="Bundle file to write"),
) -> None:
    """Write one dossier's offline bundle (docs/formats.md §10)."""
    from ledger.services.bundles import export_bundle  # noqa: PLC0415
    from ledger.settings import Settings  # noqa: PLC0415

    if (dossier is None) == (result is None):
        fail("give exactly one of --dossier CODE and --result NUMBER", EXIT_USAGE)
    url = db or Settings().database_url
    try:
        data = export_bundle(url, dossier=dossier, result=result).encode()
        out.write_bytes(data)
    except HosoError as err:
        fail(str(err), EXIT_INTEGRITY)
    except OSError as err:
        fail(f"I/O: {err}", EXIT_USAGE)
    typer.echo(f"bundle: {out} ({len(data)} bytes)")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.add_typer(bundle_app, name="bundle")
