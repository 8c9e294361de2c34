"""The ``hoso`` command line. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import typer

from ledger import __version__
from ledger.cli_api import register as register_api_commands
from ledger.cli_dossier import register as register_dossier_commands
from ledger.cli_ledger import register as register_ledger_commands
from ledger.cli_privacy import register as register_privacy_commands
from ledger.cli_projections import register as register_projection_commands
from ledger.cli_seal import register as register_seal_commands
from ledger.cli_verify import register as register_verify_commands

app = typer.Typer(
    name="hoso",
    help="hoso: a signed, verifiable ledger for electronic administrative dossiers.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hoso {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """hoso: a signed, verifiable ledger for electronic administrative dossiers."""


@app.command()
def demo(
    dossiers: int = typer.Option(
        1000, "--dossiers", min=1, max=1_000_000, help="How many dossiers to generate."
    ),
    db: str = typer.Option(
        "sqlite:///hoso-data/demo.sqlite",
        help="Database URL: the SQLite file is started afresh; a PostgreSQL one must be empty.",
    ),
    seed: int = typer.Option(1, "--seed", min=0, help="Seed of every key and choice."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary, no tables."),
) -> None:
    """A realistic Hanoi ledger end to end: generate, checkpoint, cosign, project, seal
    results, verify offline, catch a flipped bit; print where everything is."""
    from ledger.demo import DemoError, run_demo  # noqa: PLC0415 (late: keeps `hoso --version` fast)

    try:
        code = run_demo(dossiers=dossiers, db=db, seed=seed, as_json=as_json)
    except DemoError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(3) from err
    raise typer.Exit(code)


register_ledger_commands(app)
register_dossier_commands(app)
register_privacy_commands(app)
register_projection_commands(app)
register_verify_commands(app)
register_seal_commands(app)
register_api_commands(app)


def main() -> None:
    app()
