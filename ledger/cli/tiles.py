"""``hoso tiles export DIR``: the log as C2SP tlog-tiles files, for a static mirror."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ledger.cli.common import DbOption, opened
from ledger.services import tiles as tile_service

tiles_app = typer.Typer(help="C2SP tlog-tiles: the log as static files (docs/operations.md).")


@tiles_app.command("export")
def export(
    directory: Path = typer.Argument(..., help="Directory to write (created if missing)"),
    entries: bool = typer.Option(
        True,
        "--entries/--no-entries",
        help="Write the entry bundles (the signed records: they name dossier codes, so a"
        " public mirror is exported --no-entries)",
    ),
    db: str | None = DbOption,
) -> None:
    """Write checkpoint, tile/… and tile/entries/… of the latest signed tree under DIR.

    Run it again after each checkpoint: files already there are kept (immutable), new
    ones written, the checkpoint last. Serve DIR with any web server as the log's mirror.
    """
    with opened(db) as ledger:
        report = tile_service.export(ledger.log, ledger.checkpoints, directory, entries=entries)
    typer.echo(
        json.dumps(
            {
                "size": report.size,
                "written": report.written,
                "kept": report.kept,
                "bytes": report.bytes,
                "directory": str(directory),
            }
        )
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tiles_app, name="tiles")
