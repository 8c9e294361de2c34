"""``hoso demo``: a realistic Hanoi ledger end to end on a real database (SQLite by default).

The generator (:mod:`ledger.demo.generate`, ``mix="hanoi"``, personal data on) writes
the key registry and the dossiers of seven Hanoi agencies over four months
across Tết, integrates them into the Merkle log, signs checkpoints and has the
witness cosign; then the demo rebuilds the projections and the rule findings,
writes result sheets with QR seals, runs the offline verifier over the whole
database (with its HTML report), shows one flipped bit caught, and prepares
what ``hoso serve`` needs to browse it (:mod:`ledger.demo.steps`). The output
goes to ``hoso-data/`` (beside the SQLite file). Every key is derived from
``--seed``: demo-only keys, never for real use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.demo.generate import generate_ledger
from ledger.demo.office import DAY
from ledger.demo.steps import (
    open_ledger,
    projections_and_findings,
    result_sheets,
    serve_files,
    tamper,
    verify,
)
from ledger.demo.summary import DemoRun, passed, print_summary, summary_json, tally
from ledger.privacy.records import PersonalRecord
from ledger.settings import Settings
from ledger.storage.database import open_backend, parse_database_url

ORIGIN = "demo.hoso.example/hanoi"
DEFAULT_DB = "sqlite:///hoso-data/demo.sqlite"
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
# the default retention of a resultless dossier (what `hoso privacy audit` applies)
DEMO_RETENTION_US = Settings.model_fields["retention_days_without_result"].default * DAY


class DemoError(Exception):
    """The demo can't run here (e.g. a non-empty PostgreSQL database)."""


def prepare_database(url: str) -> None:
    """Start the demo's SQLite file afresh (a PostgreSQL database must already be empty)."""
    parsed = parse_database_url(url)
    if parsed.kind == "sqlite" and parsed.path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.path + suffix).unlink(missing_ok=True)


def run_demo(
    *,
    dossiers: int = 1000,
    db: str = DEFAULT_DB,
    seed: int = 1,
    console: Console | None = None,
    applicants: dict[str, PersonalRecord] | None = None,
    as_json: bool = False,
) -> int:
    """Run the demo; return the process exit code (0 when every check passed).

    ``applicants`` (if given) receives each dossier's synthetic personal record, so a
    test can search the stored bytes for every personal value the run used."""
    out = console or Console()
    prepare_database(db)
    backend = open_backend(db)
    try:
        if backend.recorder.max_notification_id():
            raise DemoError(f"{parse_database_url(db)} already holds a ledger; use an empty one")
    finally:
        backend.close()
    parsed = parse_database_url(db)
    folder = Path(parsed.path).parent if parsed.kind == "sqlite" else Path("hoso-data")
    folder.mkdir(parents=True, exist_ok=True)
    run = _run(out, db=db, folder=folder, dossiers=dossiers, seed=seed, quiet=as_json)
    if applicants is not None:
        applicants.update(run.generated.applicants)
    ok = passed(run)
    if as_json:
        out.print_json(data=summary_json(run, ok=ok))
    else:
        print_summary(out, run, ok=ok)
    return 0 if ok else 1


def _run(out: Console, *, db: str, folder: Path, dossiers: int, seed: int, quiet: bool) -> DemoRun:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=out, disable=quiet) as bars:

        def step(label: str, total: int) -> Callable[[int, int], None]:
            task = bars.add_task(label, total=total)

            def tick(done: int, of: int) -> None:
                bars.update(task, completed=done, total=of)

            return tick

        seconds: dict[str, float] = {}
        began = time.perf_counter()
        generated = generate_ledger(
            db,
            dossiers=dossiers,
            seed=seed,
            origin=ORIGIN,
            privacy=True,
            progress=step("registry, keys, dossiers, checkpoints, cosignatures", dossiers),
        )
        seconds["generate"] = time.perf_counter() - began
        ledger = open_ledger(db, generated)
        try:
            began = time.perf_counter()  # sheets first: they publish the status lists
            sheets = result_sheets(ledger, generated, folder / "results")
            seconds["result_sheets"] = time.perf_counter() - began
            began = time.perf_counter()
            tick = step("projections and rule findings", 1)
            findings_table = projections_and_findings(ledger, tick)
            seconds["projections"] = time.perf_counter() - began
            began = time.perf_counter()
            tick = step("offline verifier", generated.events)
            report = verify(
                ledger, db, generated, folder / "trust.txt", folder / "report.html", tick
            )
            seconds["verify"] = time.perf_counter() - began
            caught = tamper(ledger, generated)
            env, token = serve_files(ledger, generated, folder, db)
            run = DemoRun(
                db,
                folder,
                generated,
                seconds,
                findings_table,
                sheets,
                report,
                caught,
                env,
                token,
            )
            tally(run, ledger)
        finally:
            ledger.close()
    return run
