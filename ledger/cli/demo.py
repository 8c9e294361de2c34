"""``hoso demo`` and ``hoso generate``: a realistic synthetic ledger (:mod:`ledger.demo`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ledger.cli.common import EXIT_USAGE, fail


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
    from ledger.demo.run import DemoError, run_demo  # noqa: PLC0415 (late: keeps `hoso --version` fast)

    try:
        code = run_demo(dossiers=dossiers, db=db, seed=seed, as_json=as_json)
    except DemoError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(3) from err
    raise typer.Exit(code)


def generate(
    db: str = typer.Option(..., "--db", help="Database URL (must hold no ledger yet)"),
    dossiers: int = typer.Option(1000, "--dossiers", min=0, help="How many dossiers"),
    seed: int = typer.Option(1, "--seed", min=0, help="Seed of every key and choice"),
    trust_out: Path | None = typer.Option(None, "--trust-out", help="Write the trust file here"),
) -> None:
    """Generate a deterministic test ledger (demo scenarios, derived test keys)."""
    from ledger.demo.generate import generate_ledger  # noqa: PLC0415

    try:
        generated = generate_ledger(db, dossiers=dossiers, seed=seed)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    if trust_out is not None:
        trust_out.write_text(generated.trust_lines(), encoding="utf-8")
    typer.echo(
        f"generated {generated.events} events, {generated.dossiers} dossiers; "
        f"checkpoints at {', '.join(map(str, generated.checkpoint_sizes))}"
    )
    if trust_out is None:
        typer.echo(generated.trust_lines(), nl=False)


def register(app: typer.Typer) -> None:
    app.command()(demo)
    app.command()(generate)
