"""Apply pages of the notification log to views, exactly once.

One page = one transaction: every view whose position is behind the page's
last notification id gets its rows written, and its tracking row moves from
the position read to the page's end by compare-and-set
(:func:`projections.schema.advance`). A crash rolls the page back; a second
writer, or a rebuild swapping a view in meanwhile, makes the set fail and the
page roll back, and the writer re-reads. Pages are read by
``notification_id > position ORDER BY notification_id LIMIT page``, so
PostgreSQL's notification-id gaps (rolled-back inserts) are never waited for.

Each page is decoded once (:func:`ledger.core.event.parse_stored`: the store
proved the bytes at append) and fanned
out to every view. The dossiers touched by the page are folded as of the page's
end by a :class:`Folds` source: :class:`StreamFolds` re-reads their streams up to
that position (following), :class:`MemoryFolds` keeps every fold in memory
(rebuilding). Both fold with :mod:`projections.fold`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ledger.core.event import SignedEvent, parse_stored
from ledger.core.signing import KeyId
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.state import ProcedureBook, SignerInfo
from ledger.storage.database import Backend
from ledger.storage.sql import EVENTS_TABLE
from projections import schema
from projections.fold import Folded, KeyInfo, KeyLookup, step
from projections.views.base import Page, View, Writer

DEFAULT_PAGE = 5_000
NOTIFICATION_ID = {"postgresql": "notification_id", "sqlite": "rowid"}  # the library's columns


def wall_clock_us() -> int:
    return time.time_ns() // 1000


def is_dossier(stream: str) -> bool:
    return not stream.startswith("system/")


def load_keys(backend: Backend) -> KeyLookup:
    """Every registered key's registry record (keys are few; revocation is the store's
    business at append time, so revoked keys still name their signer here)."""
    rows = backend.sql.rows("SELECT key_id, actor, roles, agency FROM hoso_keys")
    return KeyLookup(
        {
            KeyId(bytes(r["key_id"])): KeyInfo(
                KeyId(bytes(r["key_id"])),
                SignerInfo(str(r["actor"]), frozenset(str(r["roles"]).split(",")), r["agency"]),
            )
            for r in rows
        }
    )


class Folds(Protocol):
    def fold_page(self, events: Sequence[tuple[int, SignedEvent]], end: int) -> dict[str, Folded]:
        """The folds, as of position ``end``, of every dossier with an event in ``events``."""
        ...


class NoFolds:
    """For views that read no dossier folds (the citizen views)."""

    def fold_page(self, events: Sequence[tuple[int, SignedEvent]], end: int) -> dict[str, Folded]:
        return {}


class MemoryFolds:
    """Every dossier's fold in memory, advanced event by event (a rebuild reads the log
    from the start, so it never needs to read a stream again)."""

    def __init__(self, keys: KeyLookup, book: ProcedureBook, *, refresh_keys: Any) -> None:
        self.keys = keys
        self.book = book
        self.refresh_keys = refresh_keys
        self.folds: dict[str, Folded | None] = {}

    def fold_page(self, events: Sequence[tuple[int, SignedEvent]], end: int) -> dict[str, Folded]:
        touched: set[str] = set()
        folds = self.folds
        for position, event in events:
            stream = event.body.stream
            if not is_dossier(stream):
                continue
            if self.keys.missing(event):
                self.keys = self.refresh_keys()
            folds[stream] = step(
                folds.get(stream), event, self.keys(event), self.book, position=position
            )
            touched.add(stream)
        return {c: f for c in touched if (f := folds[c]) is not None}

    def all(self) -> dict[str, Folded]:
        return {c: f for c, f in self.folds.items() if f is not None}


class StreamFolds:
    """Folds re-read from the events table: each touched dossier's stream up to ``end``."""

    def __init__(self, backend: Backend, book: ProcedureBook) -> None:
        self.backend = backend
        self.book = book
        self.keys = load_keys(backend)

    def fold_page(self, events: Sequence[tuple[int, SignedEvent]], end: int) -> dict[str, Folded]:
        codes = sorted({e.body.stream for _, e in events if is_dossier(e.body.stream)})
        streams: dict[str, list[tuple[int, SignedEvent]]] = {c: [] for c in codes}
        sql = self.backend.sql
        nid = NOTIFICATION_ID[sql.dialect]
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            rows = sql.rows(
                f"SELECT {nid} AS nid, originator_id, state FROM {EVENTS_TABLE}"
                f" WHERE originator_id IN ({sql.in_list(len(chunk))}) AND {nid} <= %s"
                " ORDER BY originator_id, originator_version",
                [*chunk, end],
            )
            for r in rows:
                streams[str(r["originator_id"])].append(
                    (int(r["nid"]), parse_stored(bytes(r["state"])))
                )
        if any(self.keys.missing(e) for evs in streams.values() for _, e in evs):
            self.keys = load_keys(self.backend)
        out: dict[str, Folded] = {}
        for code, stream in streams.items():
            folded: Folded | None = None
            for position, event in stream:
                folded = step(folded, event, self.keys(event), self.book, position=position)
            if folded is not None:
                out[code] = folded
        return out


def decode(notes: Sequence[Any]) -> list[tuple[int, SignedEvent]]:
    """Parse each stored record once (the store checked them all at append)."""
    return [(int(n.id), parse_stored(n.state)) for n in notes]


class Engine:
    """Applies pages to a set of views; shared by the follower and the rebuild."""

    def __init__(
        self,
        backend: Backend,
        *,
        book: ProcedureBook,
        calendar: WorkingCalendar,
        clock_us: Any = wall_clock_us,
        data_paths: tuple[str | None, str | None] = (None, None),
    ) -> None:
        """``data_paths``: the catalogue and calendar files ``book`` and ``calendar`` were
        loaded from (None: the shipped ones), for worker processes to load them too."""
        self.data_paths = data_paths
        self.backend = backend
        self.sql = backend.sql
        self.book = book
        self.calendar = calendar
        self.clock_us = clock_us

    def read_page(self, after: int, limit: int) -> list[tuple[int, SignedEvent]]:
        notes = self.backend.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        return decode(notes)

    def apply(
        self,
        views: Mapping[str, View],
        positions: Mapping[str, int],
        events: Sequence[tuple[int, SignedEvent]],
        folds: Folds,
        *,
        suffix: str = "",
        tracked_as: Mapping[str, str] | None = None,
    ) -> int:
        """Write one page to every view behind its end, with their tracking rows, in one
        transaction. Return the page's last position."""
        end = events[-1][0]
        low = min(positions[name] for name in views)
        fresh = [(p, e) for p, e in events if p > low]
        page = Page(fresh, end, folds.fold_page(fresh, end))
        now = self.clock_us()
        with self.sql.transaction() as curs:
            out = Writer(self.sql, curs, self.calendar, suffix, rebuilding=bool(suffix))
            for name, view in views.items():
                if positions[name] >= end:
                    continue
                view.write_page(out, page, after=positions[name])
                tracked = tracked_as[name] if tracked_as else name
                schema.advance(curs, tracked, expected=positions[name], position=end, now_us=now)
        return end
