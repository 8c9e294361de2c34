"""The ``hoso`` command line. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import typer

from ledger import __version__

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
    events: int = typer.Option(6, min=1, max=100_000, help="How many signed events to build."),
) -> None:
    """Build signed events, a Merkle tree and a witnessed checkpoint in memory; verify them."""
    from ledger.demo import run_demo  # noqa: PLC0415 (late: keeps `hoso --version` fast)

    raise typer.Exit(run_demo(events=events))


def main() -> None:
    app()
