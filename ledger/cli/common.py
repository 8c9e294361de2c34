"""What every ``hoso`` command group shares: the ``--db`` option, settings, the keystore
passphrase, failing with an exit code, and one bootstrapped ledger per command.

Exit codes (docs/verify.md §Exit codes): 0 done, 1 a check failed, 2 malformed input,
3 usage or I/O. :func:`opened` translates hoso's typed errors into them once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer

from ledger.bootstrap import Ledger, bootstrap
from ledger.core.errors import HosoError, MalformedError
from ledger.settings import Settings
from ledger.storage.keystore import Keystore

EXIT_CHECK = 1
EXIT_MALFORMED = 2
EXIT_USAGE = 3

DbOption = typer.Option(None, "--db", help="Database URL (default: HOSO_DATABASE_URL)")


def settings_for(db: str | None) -> Settings:
    return Settings(database_url=db) if db else Settings()


def fail(message: str, code: int) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def exit_code(err: HosoError) -> int:
    """2 for malformed input, 1 for everything else hoso refuses."""
    return EXIT_MALFORMED if isinstance(err, MalformedError) else EXIT_CHECK


def passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.keystore_passphrase is not None:
        return settings.keystore_passphrase.get_secret_value()
    if not sys.stdin.isatty():
        fail("no keystore passphrase: set HOSO_KEYSTORE_PASSPHRASE or run in a terminal", 3)
    secret: str = typer.prompt("Keystore passphrase", hide_input=True, confirmation_prompt=confirm)
    return secret


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or exit 3 naming the file."""
    try:
        return path.read_bytes()
    except OSError as err:
        fail(f"can't read {path}: {err.strerror}", EXIT_USAGE)


@contextmanager
def opened(db: str | None, *, keystore: bool = False) -> Iterator[Ledger]:
    """Bootstrap the ledger for one command; translate errors to exit codes."""
    settings = settings_for(db)
    ledger: Ledger | None = None
    try:
        store = None
        if keystore:
            if not settings.keystore_path.exists():
                fail(f"no keystore at {settings.keystore_path}: run `hoso init` first", 3)
            store = Keystore.open(settings.keystore_path, passphrase(settings))
        ledger = bootstrap(settings, keystore=store)
        yield ledger
    except HosoError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(exit_code(err)) from err
    except OSError as err:
        fail(str(err), 3)
    finally:
        if ledger is not None:
            ledger.close()
