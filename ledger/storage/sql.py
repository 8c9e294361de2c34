"""hoso's own tables beside eventsourcing's, and a thin two-dialect SQL adapter.

SQL is written once with ``%s`` placeholders (psycopg style) and translated to
``?`` for SQLite. Rows come back as mappings (column name → value) on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

EVENTS_TABLE = "hoso_events"
TRACKING_TABLE = "hoso_tracking"

SCHEMA = (
    # The Merkle tree's perfect-subtree nodes; node_id = level << 48 | index.
    "CREATE TABLE IF NOT EXISTS hoso_nodes ( node_id BIGINT PRIMARY KEY, hash {blob} NOT NULL)",
    # Leaf index ↔ notification id ↔ event hash, for proofs by event hash.
    "CREATE TABLE IF NOT EXISTS hoso_leaves ("
    " leaf_index BIGINT PRIMARY KEY,"
    " notification_id BIGINT NOT NULL UNIQUE,"
    " event_hash {blob} NOT NULL UNIQUE,"
    " stream TEXT NOT NULL, n BIGINT NOT NULL, UNIQUE (stream, n))",
    # Every checkpoint the ledger signed, and the witness cosignatures it accepted.
    "CREATE TABLE IF NOT EXISTS hoso_checkpoints ("
    " size BIGINT PRIMARY KEY, root {blob} NOT NULL, note {blob} NOT NULL,"
    " signed_us BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hoso_cosignatures ("
    " size BIGINT NOT NULL REFERENCES hoso_checkpoints(size), witness TEXT NOT NULL,"
    " line TEXT NOT NULL, timestamp BIGINT NOT NULL, PRIMARY KEY (size, witness))",
    # The key registry's current state, written in the same transaction as its events.
    "CREATE TABLE IF NOT EXISTS hoso_keys ("
    " key_id {blob} PRIMARY KEY, public_key {blob} NOT NULL, actor TEXT NOT NULL,"
    " roles TEXT NOT NULL, agency TEXT NOT NULL,"
    " registered_n BIGINT NOT NULL, revoked_n BIGINT)",
    # The personal-data vault (docs/privacy.md): per-subject data keys, wrapped by the
    # master key; the keyed index; encrypted records; reads waiting for the access log.
    "CREATE TABLE IF NOT EXISTS hoso_subjects ("
    " subject {blob} PRIMARY KEY, master_kid {blob}, wrapped_key {blob},"
    " identity {blob}, created_us BIGINT NOT NULL, erased_us BIGINT)",
    "CREATE TABLE IF NOT EXISTS hoso_subject_index ("
    " tag {blob} PRIMARY KEY, subject {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hoso_personal ("
    " subject {blob} NOT NULL, ref TEXT NOT NULL, commitment {blob} NOT NULL,"
    " sealed {blob} NOT NULL, PRIMARY KEY (subject, ref))",
    "CREATE TABLE IF NOT EXISTS hoso_access_pending ( id {serial}, entry {blob} NOT NULL)",
    # The stream index (docs/formats.md §12), versioned by the tree size it covers: its
    # internal nodes, its values, and its root at each version built.
    "CREATE TABLE IF NOT EXISTS hoso_index_nodes ("
    " depth INTEGER NOT NULL, prefix {blob} NOT NULL, version BIGINT NOT NULL,"
    " left_hash {blob} NOT NULL, right_hash {blob} NOT NULL,"
    " left_key {blob}, right_key {blob}, PRIMARY KEY (depth, prefix, version))",
    "CREATE TABLE IF NOT EXISTS hoso_index_values ("
    " key {blob} NOT NULL, version BIGINT NOT NULL, stream TEXT NOT NULL,"
    " value {blob} NOT NULL, PRIMARY KEY (key, version))",
    "CREATE TABLE IF NOT EXISTS hoso_index_roots ("
    " version BIGINT PRIMARY KEY, root {blob} NOT NULL, root_key {blob},"
    " streams BIGINT NOT NULL)",
    # Status lists (docs/formats.md §13): each sealed result's random entry in its
    # agency's list, and every list document published (the log commits to its hash).
    "CREATE TABLE IF NOT EXISTS hoso_status_entries ("
    " agency TEXT NOT NULL, list_no INTEGER NOT NULL, entry BIGINT NOT NULL,"
    " dossier TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (agency, list_no, entry),"
    " UNIQUE (agency, dossier, result))",
    # Seal trust lists signed by the log key (docs/formats.md §11.4), for servers that
    # run without the keystore: keyed by the registry head they list.
    "CREATE TABLE IF NOT EXISTS hoso_trust_lists ("
    " registry_head {blob} PRIMARY KEY, issued BIGINT NOT NULL, note {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hoso_status_lists ("
    " agency TEXT NOT NULL, list_no INTEGER NOT NULL, issued BIGINT NOT NULL,"
    " document {blob} NOT NULL, PRIMARY KEY (agency, list_no, issued))",
)

KEY_REVOKED_SQLSTATE = "KR001"
"""The error ``hoso_unrevoked`` raises: a key was revoked (detail: its id in hex). Its
class is one the SQL standard leaves to implementations and PostgreSQL doesn't use;
psycopg reports it as a plain DatabaseError, which nothing retries (eventsourcing
retries OperationalErrors, psycopg's class for several other unknown codes)."""

POSTGRES_SCHEMA = (
    # The revocation re-check of an append, run in its transaction after the table
    # lock: true, or an error naming a revoked key among ``key_ids``, which aborts
    # the transaction on the server, so nothing of it commits.
    "CREATE OR REPLACE FUNCTION hoso_unrevoked(key_ids BYTEA[]) RETURNS boolean"
    " LANGUAGE plpgsql STABLE AS $$"
    " DECLARE revoked BYTEA;"
    " BEGIN"
    "  SELECT key_id INTO revoked FROM hoso_keys"
    "   WHERE revoked_n IS NOT NULL AND key_id = ANY(key_ids) ORDER BY key_id LIMIT 1;"
    "  IF FOUND THEN"
    "   RAISE EXCEPTION 'a signing key was revoked before this append committed'"
    f"    USING ERRCODE = '{KEY_REVOKED_SQLSTATE}', DETAIL = encode(revoked, 'hex');"
    "  END IF;"
    "  RETURN true;"
    " END $$",
)

NODE_LEVEL_SHIFT = 48


def node_key(level: int, index: int) -> int:
    """The single integer key of a Merkle node (supports 2^48 leaves)."""
    return (level << NODE_LEVEL_SHIFT) | index


class Cursor(Protocol):
    raw: Any

    def execute(self, query: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> Any: ...

    def insert_many(
        self,
        table: str,
        columns: Sequence[str],
        types: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None: ...

    def fetchall(self) -> list[Any]: ...


class Sql:
    """Runs hoso's SQL on one backend's datastore, in that datastore's transactions."""

    def __init__(self, *, dialect: str, datastore: Any) -> None:
        self.dialect = dialect
        self.datastore = datastore
        self.blob = "BYTEA" if dialect == "postgresql" else "BLOB"
        self.serial = (
            "BIGSERIAL PRIMARY KEY"
            if dialect == "postgresql"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )

    def q(self, query: str) -> str:
        return query if self.dialect == "postgresql" else query.replace("%s", "?")

    def in_list(self, count: int) -> str:
        return ", ".join(["%s"] * count)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A write transaction; commits on success, rolls back on error."""
        with self.datastore.transaction(commit=True) as curs:
            yield _Adapted(self, curs)

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        """One read statement. PostgreSQL runs it on an autocommit connection (its own
        implicit transaction: one round trip instead of BEGIN, SELECT, ROLLBACK)."""
        if self.dialect == "postgresql":
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(query, tuple(params))
                return [_mapping(r) for r in curs.fetchall()]
        with self.datastore.transaction(commit=False) as curs:
            _Adapted(self, curs).execute(query, params)
            return [_mapping(r) for r in curs.fetchall()]

    def outside_transaction(self, statement: str) -> None:
        """Run a statement that must not be in a transaction (VACUUM, a WAL checkpoint)."""
        if self.dialect == "postgresql":
            with self.datastore.get_connection() as conn:
                conn.execute(statement)
            return
        with self.datastore.get_connection(commit=True) as conn:
            conn.cursor().execute(statement)

    def create_tables(self) -> None:
        with self.transaction() as curs:
            for statement in SCHEMA:
                curs.execute(statement.format(blob=self.blob, serial=self.serial))
            if self.dialect == "postgresql":
                for statement in POSTGRES_SCHEMA:
                    curs.execute(statement)


class _Adapted:
    def __init__(self, sql: Sql, curs: Any) -> None:
        self._sql = sql
        self.raw = curs

    def execute(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql.q(query), tuple(params))

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self.raw.executemany(self._sql.q(query), rows)

    def insert_many(
        self,
        table: str,
        columns: Sequence[str],
        types: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert ``rows`` into ``table``: binary ``COPY`` on PostgreSQL (``types`` are the
        columns' PostgreSQL types), ``executemany`` on SQLite. Same rows, same constraints."""
        if not rows:
            return
        names = ", ".join(columns)
        if self._sql.dialect == "postgresql":
            with self.raw.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["?"] * len(columns))
        self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def fetchall(self) -> list[Any]:
        return [_mapping(r) for r in self.raw.fetchall()]


def _mapping(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    return {key: row[key] for key in row.keys()}  # noqa: SIM118 (sqlite3.Row)
