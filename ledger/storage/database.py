"""Open a database from one URL: ``sqlite:///path`` or ``postgresql://user@host:port/db``.

Both backends use eventsourcing's application recorder with text originator
ids (a stream id is the dossier code itself) and its notification log for
global order. PostgreSQL's ``POSTGRES_ENABLE_DB_FUNCTIONS`` stays off: its insert
function takes no table lock and interleaves notification ids.
"""

from __future__ import annotations

import fcntl
import math
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from ledger.core.errors import MalformedError
from ledger.storage.errors import KeyRevokedConcurrently
from ledger.storage.sql import EVENTS_TABLE, KEY_REVOKED_SQLSTATE, TRACKING_TABLE, Sql


class MalformedDatabaseUrl(MalformedError):
    """The database URL is neither ``sqlite:///path`` nor ``postgresql://...``."""

    check = "settings.database_url"


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A parsed database URL. Its repr never shows a password."""

    kind: Literal["sqlite", "postgresql"]
    path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""

    def __repr__(self) -> str:
        if self.kind == "sqlite":
            return f"DatabaseUrl(sqlite:///{self.path})"
        return f"DatabaseUrl(postgresql://{self.user}@{self.host}:{self.port}/{self.dbname})"

    __str__ = __repr__


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``url``; raise MalformedDatabaseUrl saying what is wrong (never echoing a password)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise MalformedDatabaseUrl("sqlite URLs have three slashes: sqlite:///path/to/file")
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise MalformedDatabaseUrl("sqlite URL names no file: sqlite:///path/to/file")
        if path != ":memory:":
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return DatabaseUrl(kind="sqlite", path=path)
    if parts.scheme in ("postgresql", "postgres"):
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise MalformedDatabaseUrl(
                "PostgreSQL URLs name a host and a database: postgresql://user@host:5432/db"
            )
        try:
            port = parts.port or 5432
        except ValueError as err:
            raise MalformedDatabaseUrl("PostgreSQL URL has a bad port") from err
        return DatabaseUrl(
            kind="postgresql",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(dbname),
        )
    raise MalformedDatabaseUrl(
        f"unsupported scheme {parts.scheme!r}: use sqlite:///path or postgresql://user@host/db"
    )


# --- backends ---------------------------------------------------------------


@dataclass
class Backend:
    """One database: eventsourcing's recorders plus hoso's own tables."""

    url: DatabaseUrl
    recorder: Any  # HosoPostgresRecorder | HosoSQLiteRecorder
    tracking: Any  # PostgresTrackingRecorder | SQLiteTrackingRecorder
    sql: Sql

    def close(self) -> None:
        self.recorder.datastore.close()

    def drop_broken_connections(self) -> None:
        """After an outage: the pool's idle connections that the server's restart broke
        are checked and replaced now, not handed out one by one to fail (PostgreSQL)."""
        if self.url.kind == "postgresql":
            self.recorder.datastore.pool.check()


def open_backend(
    url: str,
    *,
    pool_size: int = 5,
    timeout_s: float = 30.0,
    attempts: int = 10,
    create: bool = True,
) -> Backend:
    """Open (and create the tables of) the database at ``url``.

    ``timeout_s`` bounds every wait: for a pooled connection (PostgreSQL's pool, SQLite's),
    for SQLite's write lock and PostgreSQL's table lock. ``attempts`` is how often a
    read or an append of events is tried on a broken connection (the library's 10 by
    default; the API gives 1, so a request answers 503 at once instead of retrying).
    ``create=False`` opens a read-only standby: no table is created.
    """
    parsed = parse_database_url(url)
    lock_s = max(1, math.ceil(timeout_s))
    if parsed.kind == "sqlite":
        sqlite_store = SQLiteDatastore(
            parsed.path,
            pool_size=pool_size,
            originator_id_type="text",
            lock_timeout=lock_s,
            pool_timeout=timeout_s,
        )
        recorder: Any = HosoSQLiteRecorder(sqlite_store, events_table_name=EVENTS_TABLE)
        tracking: Any = SQLiteTrackingRecorder(sqlite_store)  # its table is always "tracking"
        sql = Sql(dialect="sqlite", datastore=sqlite_store)
    else:
        pg_store = PostgresDatastore(
            parsed.dbname,
            parsed.host,
            parsed.port,
            parsed.user,
            parsed.password,
            pool_size=pool_size,
            originator_id_type="text",
            lock_timeout=lock_s,
            connect_timeout=timeout_s,  # the pool's wait for a connection
        )
        recorder = HosoPostgresRecorder(pg_store, events_table_name=EVENTS_TABLE, attempts=attempts)
        tracking = PostgresTrackingRecorder(pg_store, tracking_table_name=TRACKING_TABLE)
        sql = Sql(dialect="postgresql", datastore=pg_store)
    if create:
        with _schema_lock(parsed):
            recorder.create_table()
            tracking.create_table()
            sql.create_tables()
    if parsed.kind == "sqlite" and parsed.path != ":memory:":
        _owner_only(Path(parsed.path))
    return Backend(url=parsed, recorder=recorder, tracking=tracking, sql=sql)


def _owner_only(path: Path) -> None:
    """The SQLite file and its WAL companions: readable by their owner alone (0600)."""
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.schema-lock")):
        if file.exists():
            with suppress(OSError):  # (a file another user owns stays as it is)
                file.chmod(0o600)


SCHEMA_LOCK_ID = 0x686F736F  # "hoso": the advisory lock that serialises schema creation


@contextmanager
def _schema_lock(url: DatabaseUrl) -> Iterator[None]:
    """Serialise table creation across processes: the library's is check-then-create,
    and concurrent opens of one database otherwise collide (pg_type unique violations,
    "tuple concurrently updated", SQLite's tracking migration row)."""
    if url.kind == "sqlite":
        if url.path == ":memory:":
            yield
            return
        with Path(url.path + ".schema-lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.user,
        password=url.password,
        dbname=url.dbname,
        autocommit=True,
    ) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [SCHEMA_LOCK_ID])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [SCHEMA_LOCK_ID])


_REVOKED = "SELECT key_id FROM hoso_keys WHERE revoked_n IS NOT NULL AND key_id IN ({})"

_UNREVOKED = (
    # Both parameters are the key ids. The plain EXISTS answers the common case
    # (nothing revoked) cheaply; the PL/pgSQL function, a costlier call, runs only
    # when it says otherwise, to raise the error naming the key. (Either order of
    # evaluation gives the same: true, or that error.)
    "SELECT NOT EXISTS (SELECT FROM hoso_keys"
    " WHERE revoked_n IS NOT NULL AND key_id = ANY(%b::bytea[]))"
    " OR hoso_unrevoked(%b::bytea[])"
)


class HosoPostgresRecorder(PostgresApplicationRecorder):
    """The library's recorder, plus: after the table lock, re-check the batch's keys
    against revocations committed meanwhile, and write key-registry rows in the
    same transaction as the registry events.

    Its transaction is the library's (table lock, NOTIFY, insert returning the
    notification ids), sent differently:

    * in two round trips: ``BEGIN`` and every statement in one, ``COMMIT`` in the
      other once they all succeeded (the library's makes five). An error makes the
      server skip the statements after it; the transaction is rolled back before
      the error is raised;
    * the revocation re-check is a statement that raises on the server
      (``hoso_unrevoked``), so it needs no answer of its own;
    * the events go in as four plain arrays rather than the library's
      composite-type array, which psycopg dumps slowly (and the states in binary,
      not hex): same rows, same order.
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str, attempts: int = 10
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.attempts = attempts
        self.insert_arrays = (
            SQL(
                "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
                " SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %b::bytea[])"
                " RETURNING notification_id"
            )
            .format(schema=Identifier(datastore.schema), table=Identifier(events_table_name))
            .as_string()
        )

    # The library's reads retry 10 times (0.2 s apart) on a broken connection; these try
    # ``attempts`` times, the same way.
    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        return _attempt(
            self.attempts,
            _library(PostgresApplicationRecorder.select_events),
            self,
            *args,
            **kwargs,
        )

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        return _attempt(
            self.attempts,
            _library(PostgresApplicationRecorder.select_notifications),
            self,
            *args,
            **kwargs,
        )

    def max_notification_id(self) -> Any:
        return _attempt(
            self.attempts, _library(PostgresApplicationRecorder.max_notification_id), self
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        result: Sequence[int] | None = _attempt(
            self.attempts, HosoPostgresRecorder._insert_once, self, stored_events, **kwargs
        )
        return result

    def _insert_once(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        try:
            with self.datastore.get_connection() as conn:
                return self._insert_in_two_round_trips(conn, stored_events, **kwargs)
        except DatabaseError as err:
            cause = err.__cause__
            if getattr(cause, "sqlstate", None) != KEY_REVOKED_SQLSTATE:
                raise
            raise KeyRevokedConcurrently(
                "a signing key was revoked before this append committed",
                found=bytes.fromhex(cause.diag.message_detail or ""),  # type: ignore[union-attr]
            ) from err

    def _insert_in_two_round_trips(
        self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> list[int]:
        with conn.cursor() as curs:
            try:
                with conn.pipeline() as pipeline:
                    conn.execute("BEGIN")
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    pipeline.sync()  # round trip 1: raises the first error, if any
                    conn.execute("COMMIT")  # round trip 2, as the pipeline ends
            except psycopg.Error:
                conn.rollback()  # the failed transaction (a no-op if COMMIT failed)
                raise
            return [row["notification_id"] for row in curs.fetchall()]

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        key_ids: Sequence[bytes] = kwargs.get("hoso_key_ids", ())
        if key_ids:
            curs.execute(_UNREVOKED, [list(key_ids), list(key_ids)], prepare=True)
        for statement, params in kwargs.get("hoso_statements", ()):
            curs.execute(statement, params)
        self._notify_channel(curs)
        columns = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        curs.execute(self.insert_arrays, columns, prepare=True)


def _library(method: Any) -> Any:
    """The library's method without its retry decorator (``functools.wraps`` keeps it)."""
    return getattr(method, "__wrapped__", method)


def _attempt(attempts: int, func: Any, *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``, tried up to ``attempts`` times on a broken connection."""
    for tried in range(1, attempts + 1):
        try:
            return func(*args, **kwargs)
        except (InterfaceError, OperationalError):
            if tried >= attempts:
                raise
            time.sleep(0.2 * (1 + 0.1 * (random.random() - 0.5)))  # noqa: S311 (jitter)
    raise InterfaceError("no attempt was made")  # attempts < 1


class HosoSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite has one writer at a time; the same checks run inside its transaction."""

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Write first: the library's BEGIN is deferred, and a transaction that reads
        # first can't wait for the write lock in WAL mode (if another process commits
        # in between, SQLite answers SQLITE_BUSY at once, ignoring the timeout). After
        # the insert this transaction holds the write lock, so the reads below see
        # every committed revocation.
        returning = super()._insert_events(c, stored_events, **kwargs)
        key_ids: Sequence[bytes] = kwargs.get("hoso_key_ids", ())
        if key_ids:
            c.execute(_REVOKED.format(", ".join(["?"] * len(key_ids))), list(key_ids))
            revoked = c.fetchall()
            if revoked:
                raise KeyRevokedConcurrently(
                    "a signing key was revoked before this append committed",
                    found=bytes(revoked[0]["key_id"]),
                )
        for statement, params in kwargs.get("hoso_statements", ()):
            c.execute(statement.replace("%s", "?"), params)
        return returning
