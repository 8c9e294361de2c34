"""The verifier's database edge: raw stored bytes by plain SELECTs, nothing else.

It deliberately does not use the storage layer (EventStore, MerkleLog,
Checkpoints): the verifier must not trust the server's logic, only read what
it stored. Records come in notification order (the log order the Merkle
integrator followed), with the row's stream and position columns and the
event hash the leaf index claims; checkpoints with their cosignature lines;
each dossier's records in (stream, n) order. Reads stream with server-side
cursors (PostgreSQL) or a plain cursor (SQLite), so memory stays flat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from verify.source import LogEntry

FETCH = 2000

_LOG = (
    "SELECT e.originator_id, e.originator_version, e.state, l.event_hash"
    " FROM hoso_events e LEFT JOIN hoso_leaves l"
    " ON l.stream = e.originator_id AND l.n = e.originator_version"
    " ORDER BY e.{order}"
)
_DOSSIERS = (
    "SELECT originator_id, state FROM hoso_events WHERE originator_id NOT LIKE %s"
    " ORDER BY originator_id, originator_version"
)
_STREAM = "SELECT state FROM hoso_events WHERE originator_id = %s ORDER BY originator_version"
_CHECKPOINTS = "SELECT size, note FROM hoso_checkpoints ORDER BY size"
_COSIGNATURES = "SELECT line FROM hoso_cosignatures WHERE size = %s ORDER BY witness"


class DatabaseSource:
    """A :class:`verify.source.Source` over a hoso database URL (sqlite:/// or postgresql://)."""

    def __init__(self, url: str, *, extra_notes: Sequence[bytes] = ()) -> None:
        """``extra_notes``: signed checkpoints obtained elsewhere (a witness, a publication)."""
        self.url = url
        self.extra_notes = list(extra_notes)
        parts = urlsplit(url)
        self.kind = "postgresql" if parts.scheme in ("postgresql", "postgres") else "sqlite"
        if self.kind == "sqlite":
            if parts.scheme != "sqlite":
                raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")
            path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
            self.path = path
            with closing(self._sqlite()):
                pass

    def _sqlite(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def _rows(self, query: str, params: Sequence[Any] = (), *, name: str) -> Iterator[Any]:
        if self.kind == "postgresql":
            with psycopg.connect(self.url) as conn, conn.cursor(name=name) as curs:
                curs.itersize = FETCH
                curs.execute(query, tuple(params))
                yield from curs
            return
        with closing(self._sqlite()) as lite:
            cursor = lite.execute(query.replace("%s", "?"), tuple(params))
            while rows := cursor.fetchmany(FETCH):
                yield from rows

    def log(self) -> Iterator[LogEntry]:
        # eventsourcing's notification id: a column on PostgreSQL, the rowid on SQLite.
        order = "notification_id" if self.kind == "postgresql" else "rowid"
        for stream, n, state, claimed in self._rows(
            _LOG.format(order=order), name="hoso_verify_log"
        ):
            yield LogEntry(
                bytes(state), str(stream), int(n), None if claimed is None else bytes(claimed)
            )

    def stream(self, name: str) -> Iterator[bytes]:
        for (state,) in self._rows(_STREAM, [name], name="hoso_verify_stream"):
            yield bytes(state)

    def log_size(self) -> int | None:
        for (count,) in self._rows("SELECT COUNT(*) FROM hoso_events", name="hoso_verify_count"):
            return int(count)
        return None

    def checkpoints(self) -> Iterator[bytes]:
        for size, note in list(self._rows(_CHECKPOINTS, name="hoso_verify_checkpoints")):
            lines = [
                str(line) + "\n"
                for (line,) in self._rows(_COSIGNATURES, [size], name="hoso_verify_cosigs")
            ]
            yield bytes(note) + "".join(lines).encode()
        yield from self.extra_notes

    def dossiers(self) -> Iterator[tuple[str, Sequence[bytes]]]:
        current: str | None = None
        records: list[bytes] = []
        for stream, state in self._rows(_DOSSIERS, ["system/%"], name="hoso_verify_dossiers"):
            if stream != current:
                if current is not None:
                    yield current, records
                current, records = str(stream), []
            records.append(bytes(state))
        if current is not None:
            yield current, records
