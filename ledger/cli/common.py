"""What every ``hoso`` command group shares: the ``--db`` option, settings, the keystore
passphrase, failing with an exit code, and one bootstrapped ledger per command.

Exit codes (docs/verify.md §Exit codes): 0 done, 1 a check failed, 2 malformed input,
3 usage or I/O. :func:`opened` translates hoso's typed errors into them once.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
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


MAX_FETCH = 4 << 20  # a bundle of 256 records of at most 64 KiB each, and then some


class FetchFailed(OSError):
    """A tile, bundle or checkpoint could not be read from the mirror."""


def fetcher(url: str, *, token: str | None, timeout_s: float) -> Callable[[str], bytes]:
    """A fetch of tlog-tiles paths under ``url`` (http(s) prefix, or a directory)."""
    if not url.startswith(("http://", "https://")):
        root = Path(url.removeprefix("file://"))

        def read_file(path: str) -> bytes:
            try:
                return (root / path).read_bytes()
            except OSError as err:
                raise FetchFailed(f"{root / path}: {err.strerror}") from err

        return read_file
    prefix = url.rstrip("/")
    headers = {"Accept-Encoding": "identity", "User-Agent": "hoso-monitor"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def read_url(path: str) -> bytes:
        request = urllib.request.Request(f"{prefix}/{path}", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                data: bytes = response.read(MAX_FETCH + 1)
        except urllib.error.HTTPError as err:
            raise FetchFailed(f"GET {prefix}/{path}: HTTP {err.code}") from err
        except (urllib.error.URLError, TimeoutError) as err:
            raise FetchFailed(f"GET {prefix}/{path}: {err}") from err
        if len(data) > MAX_FETCH:
            raise FetchFailed(f"GET {prefix}/{path}: more than {MAX_FETCH} bytes")
        return data

    return read_url
