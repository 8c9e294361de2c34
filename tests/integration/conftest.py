"""Backends for the storage contract suite: a fresh SQLite file and a clean PostgreSQL.

PostgreSQL tests use the real server at HOSO_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). If it can't be reached the tests
FAIL; HOSO_SKIP_POSTGRES=1 is the only way to skip them, and the skip says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from ledger.storage.database import Backend, open_backend

PG_URL = os.environ.get("HOSO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def reset_postgres(url: str) -> None:
    try:
        conn = psycopg.connect(url.replace("postgresql://", "postgresql://", 1), autocommit=True)
    except psycopg.OperationalError as err:
        if os.environ.get("HOSO_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL skipped: HOSO_SKIP_POSTGRES=1")
        pytest.fail(f"PostgreSQL is required at {PG_URL} (set HOSO_SKIP_POSTGRES=1 to skip): {err}")
    with conn:
        # every table of the test database: the ledger's, the vault's, the views'
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))
        conn.execute("DROP TYPE IF EXISTS stored_event_text CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def backend(backend_url: str) -> Iterator[Backend]:
    opened = open_backend(backend_url)
    yield opened
    opened.close()


def private_postgres_url(dbname: str) -> str:
    """A clean database ``dbname`` on the test server, created if missing.

    Tests that run subprocesses or many examples use their own database so they
    can't collide with other suites resetting ``test`` at the same time. Like
    :func:`reset_postgres`, a server that can't be reached FAILS the test.
    """
    parts = urlsplit(PG_URL)
    base = parts.path.lstrip("/")
    if base != "test":  # a second checkout on its own database gets its own private ones too
        dbname = f"{base}_{dbname}"
    url = urlunsplit(parts._replace(path=f"/{dbname}"))
    try:
        conn = psycopg.connect(PG_URL, autocommit=True)
    except psycopg.OperationalError as err:
        if os.environ.get("HOSO_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL skipped: HOSO_SKIP_POSTGRES=1")
        pytest.fail(f"PostgreSQL is required at {PG_URL} (set HOSO_SKIP_POSTGRES=1 to skip): {err}")
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if exists is None:
            # (another run may have created it a moment ago)
            with suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    reset_postgres(url)
    return url
