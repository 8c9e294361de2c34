"""``hoso serve`` (the API under uvicorn) and ``hoso tokens issue | list | revoke``.

A token is printed once, when issued; only its SHA-256 is stored. A citizen's token is
bound to the data subject found by their id number, asked at a hidden prompt (read
from stdin when it is not a terminal) and never stored or printed.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, cast

import typer

from ledger.cli.common import DbOption, fail, opened, settings_for
from ledger.settings import development_secrets

if TYPE_CHECKING:
    from api.tokens import Kind

tokens_app = typer.Typer(help="API tokens: issue (shown once), list, revoke.")
KINDS = ("officer", "system", "inspector", "citizen", "witness")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


def parse_duration_us(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise typer.BadParameter("use a number and a unit: 90s, 30m, 12h, 30d")
    return int(match.group(1)) * _UNIT_US[match.group(2)]


def _id_number() -> str:
    if sys.stdin.isatty():
        value: str = typer.prompt("Citizen id number", hide_input=True)
        return value
    return sys.stdin.readline().strip()


@tokens_app.command("issue")
def issue(
    kind: str = typer.Option(..., "--kind", help=f"One of {', '.join(KINDS)}"),
    actor: str = typer.Option("", "--actor", help="Registered actor (officials), witness name"),
    agency: str = typer.Option("", "--agency", help="Agency (officials: must match the registry)"),
    key: str = typer.Option("", "--key", help="Keystore name of the officer's custodial key"),
    expires: str = typer.Option("", "--expires", help="Lifetime, e.g. 30d (default: none)"),
    id_kind: str = typer.Option("cccd", "--id-kind", help="Citizens: kind of id number"),
    db: str | None = DbOption,
) -> None:
    """Issue a token and print it once (it is the holder's credential: keep it secret)."""
    from api.tokens import TokenStore  # noqa: PLC0415 (late: keeps the CLI start fast)

    if kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}", 2)
    lifetime = parse_duration_us(expires) if expires else None
    with opened(db) as ledger:
        store = TokenStore(ledger.backend.sql, clock_us=ledger.clock_us)
        store.create_table()
        subject = None
        if kind == "citizen":
            subject = ledger.privacy.vault.lookup(_id_number(), id_kind)
            if subject is None:
                fail("no data subject has this id number", 1)
            actor, agency = "citizen", ""
        elif kind == "witness":
            names = {w.name for w in ledger.checkpoints.witnesses.values()}
            if actor not in names:
                fail(f"{actor!r} is not a configured witness (HOSO_WITNESS_KEYS)", 1)
        else:
            listings = [
                k.registration
                for k in ledger.keys.list()
                if k.registration.actor == actor and k.revoked_n is None
            ]
            if not listings:
                fail(f"{actor!r} has no registered, unrevoked key", 1)
            registered = listings[-1].agency
            if agency and agency != registered:
                fail(f"{actor!r} is registered for agency {registered}, not {agency}", 1)
            agency = registered
        now = ledger.clock_us()
        issued = store.issue(
            kind=cast("Kind", kind),  # checked against KINDS above
            actor=actor,
            agency=agency,
            subject=subject,
            key_name=key or None,
            expires_us=None if lifetime is None else now + lifetime,
        )
    typer.echo(f"token id {issued.record.token_id} ({kind} {actor} {agency})".rstrip())
    typer.echo(issued.token)


@tokens_app.command("list")
def list_tokens(db: str | None = DbOption) -> None:
    """Every token: id, kind, actor, agency, expiry, revocation (never a secret)."""
    from api.tokens import TokenStore  # noqa: PLC0415

    with opened(db) as ledger:
        store = TokenStore(ledger.backend.sql, clock_us=ledger.clock_us)
        store.create_table()
        for r in store.list():
            state = "revoked" if r.revoked_us else "active"
            if state == "active" and not r.active(ledger.clock_us()):
                state = "expired"
            typer.echo(
                f"{r.token_id}\t{r.kind}\t{r.actor}\t{r.agency or '-'}\t{state}"
                f"\texpires_us={r.expires_us or '-'}"
            )


@tokens_app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., help="The token id"), db: str | None = DbOption
) -> None:
    """Revoke a token (running APIs stop accepting it within HOSO_API_TOKEN_CACHE_S)."""
    from api.tokens import TokenStore  # noqa: PLC0415

    with opened(db) as ledger:
        store = TokenStore(ledger.backend.sql, clock_us=ledger.clock_us)
        store.create_table()
        record = store.revoke(token_id)
    typer.echo(f"revoked {record.token_id}")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="Port"),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes"),
    server: str = typer.Option(
        "uvicorn", help="ASGI server: uvicorn (uvloop, httptools) or granian (docs/benchmarks.md)"
    ),
    dev: bool = typer.Option(
        False, "--dev", help="Development only: run on the public development vault/index keys"
    ),
    db: str | None = DbOption,
) -> None:
    """Serve the API. Settings come from HOSO_* variables and .env."""
    import os  # noqa: PLC0415

    if server not in ("uvicorn", "granian"):
        fail("--server must be uvicorn or granian", 2)
    if db:
        os.environ["HOSO_DATABASE_URL"] = db  # the workers build their settings from it
    settings = settings_for(db)  # fail early on bad settings
    public = development_secrets(settings)
    if public and not (dev or settings.allow_dev_keys):
        fail(
            f"{' and '.join(public)} hold the public development secrets: set the keys"
            " `hoso init` wrote (secrets.env beside the keystore), or pass --dev",
            3,
        )
    if dev:
        os.environ["HOSO_ALLOW_DEV_KEYS"] = "true"  # the workers check it too
    if server == "granian":
        from granian import Granian  # noqa: PLC0415
        from granian.constants import Interfaces, Loops  # noqa: PLC0415
        from granian.log import LogLevels  # noqa: PLC0415

        Granian(
            "api.server:app",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            loop=Loops.uvloop,
            log_access=False,
            log_level=LogLevels.warning,
        ).serve()
        return
    import uvicorn  # noqa: PLC0415

    uvicorn.run(
        "api.server:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
    app.command()(serve)
