"""``hoso projections rebuild | follow | status``: build, follow and watch the views."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ledger.bootstrap import Ledger
from ledger.cli.common import DbOption, opened
from projections.engine import DEFAULT_PAGE, Engine
from projections.rule_findings import refresh_rule_findings

projections_app = typer.Typer(help="Projections: the views agencies and the API read.")


def _engine(ledger: Ledger) -> Engine:
    paths = (ledger.settings.catalogue_path, ledger.settings.calendar_path)
    return Engine(
        ledger.backend,
        book=ledger.catalogue,
        calendar=ledger.calendar,
        data_paths=(
            None if paths[0] is None else str(paths[0]),
            None if paths[1] is None else str(paths[1]),
        ),
    )


@projections_app.command("rebuild")
def rebuild_command(
    views: list[str] = typer.Argument(None, help="Views to rebuild (default: all)"),
    page: int = typer.Option(DEFAULT_PAGE, min=1, help="Events per page (one transaction each)"),
    workers: int = typer.Option(
        os.cpu_count() or 1, min=1, help="PostgreSQL: processes the dossier views are split over"
    ),
    db: str | None = DbOption,
) -> None:
    """Rebuild views from the log beside the live ones, then swap them in."""
    from projections.rebuild import rebuild  # noqa: PLC0415 (late: keeps the CLI start fast)

    with opened(db) as ledger:
        columns = (
            TextColumn("rebuild"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("rebuild", total=None)

            def progress(position: int, last: int) -> None:
                bar.update(task, completed=position, total=last)

            done = rebuild(
                _engine(ledger), views or None, page=page, progress=progress, workers=workers
            )
        typer.echo(
            f"rebuilt {', '.join(done.views)}: {done.events} events to position {done.position}"
            f" in {done.seconds:.2f} s ({done.events_per_second:,.0f} events/s)"
        )


@projections_app.command("follow")
def follow_command(
    views: list[str] = typer.Argument(None, help="Views to follow (default: all)"),
    poll: float = typer.Option(0.5, min=0.01, help="Seconds between polls (bounds the lag)"),
    page: int = typer.Option(DEFAULT_PAGE, min=1, help="Events per page (one transaction each)"),
    seconds: float = typer.Option(0.0, min=0.0, help="Stop after this long (0: run until killed)"),
    findings_every: float = typer.Option(
        0.0, min=0.0, help="Refresh the rule findings every S seconds (0: never)"
    ),
    db: str | None = DbOption,
) -> None:
    """Keep the views current as events commit (LISTEN/NOTIFY + polling on PostgreSQL)."""
    from projections.runner import Follower, select_views  # noqa: PLC0415

    with opened(db) as ledger:
        follower = Follower(_engine(ledger), select_views(views or None))
        typer.echo(f"FOLLOWING {json.dumps(follower.positions(), sort_keys=True)}")
        deadline = time.monotonic() + seconds if seconds else None

        refreshed = [time.monotonic()]

        def stop() -> bool:
            if findings_every and time.monotonic() - refreshed[0] >= findings_every:
                done = refresh_rule_findings(
                    ledger.backend, ledger.auditors(), now_us=ledger.clock_us()
                )
                typer.echo(f"FINDINGS {done.findings} ({done.dossiers} dossier(s) re-examined)")
                refreshed[0] = time.monotonic()
            return deadline is not None and time.monotonic() >= deadline

        def report(applied: int) -> None:
            positions = json.dumps(follower.positions(), sort_keys=True)
            typer.echo(f"APPLIED {applied} {positions}")

        follower.follow(poll=poll, page=page, stop=stop, on_progress=report)


@projections_app.command("refresh-findings")
def refresh_findings_command(db: str | None = DbOption) -> None:
    """Recompute the post-audit rule findings of changed and open dossiers."""
    with opened(db) as ledger:
        done = refresh_rule_findings(ledger.backend, ledger.auditors(), now_us=ledger.clock_us())
        typer.echo(
            f"{done.findings} rule finding(s); {done.dossiers} dossier(s) re-examined;"
            f" position {done.position}"
        )


@projections_app.command("status")
def status_command(
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table"),
    db: str | None = DbOption,
) -> None:
    """How far each view is behind the log (events, and seconds since it last moved)."""
    from projections.status import lag  # noqa: PLC0415

    with opened(db) as ledger:
        lags = lag(ledger.backend, now_us=ledger.clock_us())
    if as_json:
        typer.echo(json.dumps([asdict(item) for item in lags]))
        return
    table = Table("view", "position", "log", "behind", "age (s)", "note")
    for item in lags:
        note = "rebuild: other version" if item.stale_version else ""
        if item.position is None:
            note = "not built"
        table.add_row(
            item.view,
            "-" if item.position is None else str(item.position),
            str(item.log_position),
            str(item.behind),
            f"{item.age_s:.1f}",
            note,
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(projections_app, name="projections")
