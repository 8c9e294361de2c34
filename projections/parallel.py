"""A PostgreSQL rebuild split by dossier over worker processes.

Dossier folds are independent of one another, so the dossier views (dossiers,
results, findings) are rebuilt by ``workers`` processes, each owning the
streams with ``mod(abs(hashtext(stream)), workers) = k``: each reads only its
streams' events (a filtered page of the notification log up to the end fixed at
the start), folds them in memory and writes its pages' rows to the ``__next``
tables, one transaction and one tracking write per page under its own tracking
row (``<view>__next@k``). The views of system streams (access log, erasures)
are rebuilt meanwhile by the calling process from those streams alone. Every
part stops at the same end, so the swap (:mod:`projections.rebuild`) sets one
consistent position; events committed during the rebuild are the follower's.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from ledger.core.event import SignedEvent, parse_stored
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.storage.database import Backend, DatabaseUrl, open_backend
from ledger.storage.sql import EVENTS_TABLE
from projections import schema
from projections.engine import Engine, Folds, MemoryFolds, NoFolds, load_keys
from projections.views import VIEWS
from projections.views.base import View

_PARTITION_PAGE = (
    f"SELECT notification_id AS id, state FROM {EVENTS_TABLE}"
    " WHERE notification_id > %s AND notification_id <= %s AND originator_id NOT LIKE %s"
    " AND mod(abs(hashtext(originator_id)), %s) = %s ORDER BY notification_id LIMIT %s"
)
_SYSTEM_PAGE = (
    f"SELECT notification_id AS id, state FROM {EVENTS_TABLE}"
    " WHERE notification_id > %s AND notification_id <= %s AND originator_id LIKE %s"
    " ORDER BY notification_id LIMIT %s"
)
SYSTEM = "system/%"


def partition_name(view: str, part: int) -> str:
    return f"{view}{schema.NEXT}@{part}"


@dataclass(frozen=True, slots=True)
class Part:
    """One worker's share: which partition, of how many, up to which position."""

    url: str
    views: tuple[str, ...]
    part: int
    parts: int
    end: int
    page: int
    data: tuple[str | None, str | None]  # catalogue and calendar files (None: shipped)


def url_of(url: DatabaseUrl) -> str:
    secret = f":{url.password}" if url.password else ""
    return f"postgresql://{url.user}{secret}@{url.host}:{url.port}/{url.dbname}"


def run_part(part: Part) -> int:
    """A worker process: rebuild the dossier views' rows of one partition; return events."""
    gc.disable()  # long-lived acyclic folds (see projections.rebuild)
    book, calendar = load_catalogue(part.data[0]), load_calendar(part.data[1])
    backend = open_backend(part.url, pool_size=2)
    try:
        engine = Engine(backend, book=book, calendar=calendar)
        views = {name: VIEWS[name] for name in part.views}
        folds = MemoryFolds(load_keys(backend), book, refresh_keys=lambda: load_keys(backend))

        def read(after: int) -> list[tuple[int, SignedEvent]]:
            # A window of ids that holds about one page of this partition's events: an
            # index range scan, where an open range would be filtered and sorted whole.
            window = part.page * part.parts
            while after < part.end:
                upto = min(part.end, after + window)
                rows = backend.sql.rows(
                    _PARTITION_PAGE, [after, upto, SYSTEM, part.parts, part.part, part.page]
                )
                if rows:
                    return [(int(r["id"]), parse_stored(bytes(r["state"]))) for r in rows]
                after = upto
            return []

        tracked = {name: partition_name(name, part.part) for name in views}
        return pages(engine, views, folds, read, tracked)
    finally:
        backend.close()


def pages(
    engine: Engine,
    views: Mapping[str, View],
    folds: Folds,
    read: Callable[[int], list[tuple[int, SignedEvent]]],
    tracked: Mapping[str, str],
) -> int:
    """Apply ``read`` pages to ``views`` from position 0 until it returns none."""
    position = events = 0
    while page_events := read(position):
        positions = dict.fromkeys(views, position)
        position = engine.apply(
            views, positions, page_events, folds, suffix=schema.NEXT, tracked_as=tracked
        )
        events += len(page_events)
    return events


def rebuild_parallel(
    engine: Engine,
    views: Mapping[str, View],
    *,
    end: int,
    page: int,
    workers: int,
    progress: Callable[[int, int], None],
) -> int:
    """Fill every view's ``__next`` tables up to ``end``; return how many events were read."""
    backend: Backend = engine.backend
    dossier_views = tuple(n for n, v in views.items() if v.needs_folds)
    system_views = {n: v for n, v in views.items() if not v.needs_folds}
    with backend.sql.transaction() as curs:
        for name in dossier_views:
            for k in range(workers):
                schema.set_position(
                    curs,
                    partition_name(name, k),
                    version=views[name].version,
                    position=0,
                    now_us=engine.clock_us(),
                )
    context = multiprocessing.get_context("spawn")
    url = url_of(backend.url)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[int]] = [
            pool.submit(
                run_part,
                Part(url, dossier_views, k, workers, end, page, engine.data_paths),
            )
            for k in range(workers)
        ]

        def read_system(after: int) -> list[tuple[int, SignedEvent]]:
            rows = backend.sql.rows(_SYSTEM_PAGE, [after, end, SYSTEM, page])
            return [(int(r["id"]), parse_stored(bytes(r["state"]))) for r in rows]

        events = pages(
            engine, system_views, NoFolds(), read_system, {n: n + schema.NEXT for n in system_views}
        )
        for future in futures:
            events += future.result()
            progress(end, end)
    with backend.sql.transaction() as curs:
        for name in dossier_views:
            for k in range(workers):
                curs.execute(
                    f"DELETE FROM {schema.TRACKING} WHERE view = %s", [partition_name(name, k)]
                )
    return events
