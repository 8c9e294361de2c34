"""``hoso monitor URL --state FILE --trust FILE``: follow a log from its tlog-tiles alone.

URL is the log's tiles prefix (the API's base URL, or a static mirror's) or a mirror
directory. Each run fetches the checkpoint, the tiles and the entry bundles it needs,
verifies what is new since the state (verify.follow) and, if all of it verified, writes
the new state atomically. Exit codes and ``--json`` as ``hoso verify``: 0 verified, 1 a
check failed (or rule findings under ``--strict``), 2 malformed input, 3 usage or I/O
(an unreachable mirror: the state is left as it was).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from ledger.cli.common import fail, fetcher, read_bytes
from ledger.cli.verify import _now, _trust
from ledger.core.errors import HosoError, MalformedError
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from verify.findings import EXIT_INTEGRITY, EXIT_MALFORMED, EXIT_USAGE
from verify.follow import FollowState, follow
from verify.report import report_json


def write_state(path: Path, data: bytes) -> None:
    """Write the state atomically: a temporary file, fsync'd, renamed over the old one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def monitor(
    url: str = typer.Argument(..., help="The log's tiles prefix (https://…) or a mirror directory"),
    state: Path = typer.Option(
        ..., "--state", help="The monitor's state file (created if missing)"
    ),
    trust: Path = typer.Option(..., "--trust", help="Trust roots file (docs/verify.md)"),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="HOSO_MONITOR_TOKEN",
        help="An inspector's bearer token, for the API's entry bundles",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object"),
    strict: bool = typer.Option(False, "--strict", help="Rule findings fail the run (exit 1)"),
    rules: bool = typer.Option(
        True, "--rules/--no-rules", help="Run steps 8-9 on touched dossiers"
    ),
    now: str | None = typer.Option(None, "--now", help="The audit's 'now', ISO 8601"),
    timeout_s: float = typer.Option(30.0, "--timeout", help="Seconds per HTTP request"),
) -> None:
    """Verify what a log added since the last run, from its tiles alone; store the new state."""
    roots = _trust(trust)
    previous = None
    if state.exists():
        try:
            previous = FollowState.from_json(read_bytes(state))
        except HosoError as err:
            fail(f"state file {state}: {err}", EXIT_MALFORMED)
    before = 0 if previous is None else previous.size
    try:
        result = follow(
            previous,
            fetcher(url, token=token, timeout_s=timeout_s),
            roots,
            catalogue=load_catalogue(),
            calendar=load_calendar(),
            now_us=_now(now),
            rules=rules,
        )
    except HosoError as err:
        fail(str(err), EXIT_MALFORMED if isinstance(err, MalformedError) else EXIT_INTEGRITY)
    except OSError as err:
        fail(f"I/O: {err} (state unchanged)", EXIT_USAGE)
    report = result.report
    written = False
    if result.state is not None:
        try:
            write_state(state, result.state.to_json())
        except OSError as err:
            fail(f"can't write {state}: {err.strerror}", EXIT_USAGE)
        written = True
    after = result.state.size if result.state is not None else before
    if as_json:
        out = report_json(report, strict=strict)
        out["monitor"] = {
            "from_size": before,
            "to_size": after,
            "new_records": result.new_records,
            "fetched": result.fetched,
            "state_written": written,
        }
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        code = report.exit_code(strict=strict)
        verdict = "verified" if code == 0 else "NOT verified"
        typer.echo(
            f"{report.origin}: {verdict} {before} → {after}, {result.new_records} new records,"
            f" {report.findings.total('integrity')} integrity and"
            f" {report.findings.total('rule')} rule findings"
            f"{'' if written else ' (state unchanged)'} — exit {code}"
        )
        for finding in report.findings.kept[:20]:
            typer.echo(f"  [{finding.check}] {finding.where or ''}: {finding.detail}", err=True)
    raise typer.Exit(report.exit_code(strict=strict))


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)
