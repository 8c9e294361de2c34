"""The test databases: a clean PostgreSQL (shared or private per suite), for every folder.

PostgreSQL tests use the real server at HOSO_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). If it can't be reached the tests
FAIL; HOSO_SKIP_POSTGRES=1 is the only way to skip them, and the skip says so.
"""

from __future__ import annotations

import os
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

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
