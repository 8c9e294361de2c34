"""The ``hoso`` command line. Thin: parse arguments, call the library, print.

One module per command group, each with a ``register(app)``; the options and error
handling they share are :mod:`ledger.cli.common`. Others use :data:`app` and
:func:`main` (the console script) only.
"""

from __future__ import annotations

import typer

from ledger import __version__
from ledger.cli import (
    api,
    audit,
    demo,
    dossier,
    keys,
    log,
    monitor,
    privacy,
    projections,
    seal,
    tiles,
    verify,
    witness,
)

__all__ = ["app", "main"]

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


_GROUPS = (
    demo,
    keys,
    log,
    dossier,
    audit,
    privacy,
    projections,
    verify,
    seal,
    api,
    witness,
    tiles,
    monitor,
)
for group in _GROUPS:
    group.register(app)


def main() -> None:
    app()
