"""The projections' tables, written once for both dialects, and the tracking table.

A view owns one or more :class:`Table`\\ s. Every table is created from its
column list, so a rebuild can create the same shape under another name
(``<table>__next``), fill it beside the live one and swap it in (see
:mod:`projections.rebuild`). Secondary indexes are created when a table goes
live, not while it is being filled.

``hoso_projection_tracking`` holds one row per view: the view's code version
and its position (the last notification id it has applied). The position
moves only inside the transaction that writes the view's rows, and only by a
compare-and-set from the position the writer read (:func:`advance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.core.errors import StateConflict, VerificationError
from ledger.storage.sql import Cursor, Sql

TRACKING = "hoso_projection_tracking"
NEXT = "__next"

_SQL_TYPES = {
    "postgresql": {"text": "TEXT", "int": "BIGINT", "blob": "BYTEA", "float": "DOUBLE PRECISION"},
    "sqlite": {"text": "TEXT", "int": "INTEGER", "blob": "BLOB", "float": "REAL"},
}
COPY_TYPES = {"text": "text", "int": "int8", "blob": "bytea", "float": "float8"}


class TrackingMoved(StateConflict):
    """A view's position changed under a writer (another follower, or a rebuild swapped
    the view in): the writer's transaction is rolled back and it must re-read."""

    check = "projection.tracking"


class ViewVersionMismatch(VerificationError):
    """The stored view was built by another version of its code: rebuild it."""

    check = "projection.version"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, kind): kind in text | int | blob | float
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    @property
    def copy_types(self) -> tuple[str, ...]:
        return tuple(COPY_TYPES[k] for _, k in self.columns)

    def create(self, sql: Sql, curs: Cursor, *, name: str | None = None) -> None:
        types = _SQL_TYPES[sql.dialect]
        table = name or self.name
        cols = ", ".join(f"{c} {types[k]}" for c, k in self.columns)
        pk = ", ".join(self.primary_key)
        curs.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ({cols}, CONSTRAINT {table}_pk PRIMARY KEY ({pk}))"
        )

    def create_indexes(self, curs: Cursor) -> None:
        for columns in self.indexes:
            index = f"{self.name}_{'_'.join(columns)}_idx"
            curs.execute(
                f"CREATE INDEX IF NOT EXISTS {index} ON {self.name} ({', '.join(columns)})"
            )


def create_tracking(sql: Sql) -> None:
    with sql.transaction() as curs:
        curs.execute(
            f"CREATE TABLE IF NOT EXISTS {TRACKING} (view TEXT PRIMARY KEY,"
            " version BIGINT NOT NULL, position BIGINT NOT NULL, updated_us BIGINT NOT NULL)"
        )


def positions(sql: Sql) -> dict[str, tuple[int, int, int]]:
    """Every tracked view: name → (version, position, updated_us)."""
    rows = sql.rows(f"SELECT view, version, position, updated_us FROM {TRACKING}")
    return {
        str(r["view"]): (int(r["version"]), int(r["position"]), int(r["updated_us"])) for r in rows
    }


def advance(curs: Cursor, view: str, *, expected: int, position: int, now_us: int) -> None:
    """Move ``view`` from ``expected`` to ``position`` in the caller's transaction, or raise
    TrackingMoved (which rolls the transaction back) if it is no longer at ``expected``."""
    curs.execute(
        f"UPDATE {TRACKING} SET position = %s, updated_us = %s"
        " WHERE view = %s AND position = %s RETURNING view",
        [position, now_us, view, expected],
    )
    if len(curs.fetchall()) != 1:
        raise TrackingMoved(
            "the view's position moved under this writer",
            where=f"view {view}",
            expected=expected,
            found="another position (or no row)",
        )


def set_position(curs: Cursor, view: str, *, version: int, position: int, now_us: int) -> None:
    """Create or overwrite a view's tracking row (table creation, rebuild swap)."""
    curs.execute(f"DELETE FROM {TRACKING} WHERE view = %s", [view])
    curs.execute(
        f"INSERT INTO {TRACKING} (view, version, position, updated_us) VALUES (%s, %s, %s, %s)",
        [view, version, position, now_us],
    )


def delete_keys(sql: Sql, curs: Cursor, table: str, column: str, keys: Sequence[Any]) -> None:
    """``DELETE FROM table WHERE column IN keys`` (one statement on PostgreSQL)."""
    if not keys:
        return
    if sql.dialect == "postgresql":
        curs.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [list(keys)])
        return
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        curs.execute(f"DELETE FROM {table} WHERE {column} IN ({sql.in_list(len(chunk))})", chunk)


def drop(curs: Cursor, table: str) -> None:
    curs.execute(f"DROP TABLE IF EXISTS {table}")


def swap_in(sql: Sql, curs: Cursor, table: Table) -> None:
    """Replace ``table`` by ``table__next`` (built beside it) in the caller's transaction."""
    drop(curs, table.name)
    curs.execute(f"ALTER TABLE {table.name}{NEXT} RENAME TO {table.name}")
    if sql.dialect == "postgresql":
        # the constraint (and its index) keep their names: free ``<table>__next_pk``
        curs.execute(
            f"ALTER TABLE {table.name} RENAME CONSTRAINT {table.name}{NEXT}_pk TO {table.name}_pk"
        )
    table.create_indexes(curs)
