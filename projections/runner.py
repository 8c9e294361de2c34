"""The follower: keep views current as events commit, exactly once, resuming after any crash.

Each pass reads the lowest position among the chosen views, reads the next
page after it, and applies it (:class:`projections.engine.Engine`): one
transaction per page. A killed follower loses at most the page in flight
(rolled back) and resumes at the tracked positions. When a page's
compare-and-set fails (another follower, or a rebuild swapped a view in) the
follower re-reads the positions and carries on.

Waiting for new events: on PostgreSQL the follower LISTENs on the channel the
recorder NOTIFYs in every append transaction (``hoso_events``) and also wakes
every ``poll`` seconds, so a lost notification delays it by at most ``poll``
(the library's subscription waits without a timeout: its issue #305). SQLite
has no notifications: it polls every ``poll`` seconds. Either way the lag is
bounded by ``poll`` plus the time to apply a page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.core.errors import MalformedError
from ledger.storage.database import Backend
from ledger.storage.outage import Backoff, ride_out
from projections import schema
from projections.engine import DEFAULT_PAGE, Engine, Folds, NoFolds, StreamFolds
from projections.views import VIEWS
from projections.views.base import View

log = logging.getLogger("hoso.projections")


class UnknownView(MalformedError):
    """A view name that no view has."""

    check = "projection.view"


def select_views(names: Sequence[str] | None) -> dict[str, View]:
    if not names:
        return dict(VIEWS)
    unknown = sorted(set(names) - set(VIEWS))
    if unknown:
        raise UnknownView(f"no such view {unknown}; the views are {sorted(VIEWS)}")
    return {n: VIEWS[n] for n in names}


def ensure_views(backend: Backend, views: dict[str, View], *, now_us: int) -> dict[str, int]:
    """Create missing views (empty, at position 0); refuse a view built by another version.
    Return each view's position."""
    sql = backend.sql
    schema.create_tracking(sql)
    tracked = schema.positions(sql)
    for name, view in views.items():
        if name not in tracked:
            with sql.transaction() as curs:
                for table in view.tables:
                    table.create(sql, curs)
                    table.create_indexes(curs)
                schema.set_position(curs, name, version=view.version, position=0, now_us=now_us)
            continue
        version = tracked[name][0]
        if version != view.version:
            raise schema.ViewVersionMismatch(
                f"view {name} was built by another version: run `hoso projections rebuild {name}`",
                where=f"view {name}",
                expected=view.version,
                found=version,
            )
    return {n: p for n, (_, p, _) in schema.positions(sql).items() if n in views}


class Follower:
    def __init__(self, engine: Engine, views: dict[str, View]) -> None:
        self.engine = engine
        self.backend = engine.backend
        self.views = views
        self.folds: Folds = (
            StreamFolds(engine.backend, engine.book)
            if any(v.needs_folds for v in views.values())
            else NoFolds()
        )
        ensure_views(self.backend, views, now_us=engine.clock_us())

    def positions(self) -> dict[str, int]:
        tracked = schema.positions(self.backend.sql)
        return {n: tracked[n][1] for n in self.views}

    def step(self, *, page: int = DEFAULT_PAGE) -> int:
        """Apply at most one page; return how many events it held (0: caught up)."""
        positions = self.positions()
        events = self.engine.read_page(min(positions.values()), page)
        if not events:
            return 0
        try:
            self.engine.apply(self.views, positions, events, self.folds)
        except schema.TrackingMoved:
            return len(events)  # someone else moved a view: re-read and go on
        return len(events)

    def catch_up(self, *, page: int = DEFAULT_PAGE) -> int:
        total = 0
        while done := self.step(page=page):
            total += done
        return total

    def follow(
        self,
        *,
        poll: float = 0.5,
        page: int = DEFAULT_PAGE,
        stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[int], None] = lambda applied: None,
        backoff: Backoff | None = None,
    ) -> None:
        """Catch up, then wait for new events (notify or ``poll``), until ``stop()``.

        A database outage is ridden out (:mod:`ledger.storage.outage`): logged, backed off,
        the listener reconnected; a page cut by it committed nothing, so none is applied
        twice."""
        waiter: Callable[[], None] | None = None
        backoff = backoff or Backoff()
        try:
            while not stop():
                try:
                    if waiter is None:
                        waiter = _waiter(self.backend, poll)
                    applied = self.catch_up(page=page)
                    if applied:
                        on_progress(applied)
                    waiter()
                    backoff.succeeded()
                except Exception as err:  # an outage is waited out; the rest is raised
                    _close(waiter)
                    waiter = None
                    ride_out(err, backoff, log, "projections follower", self.backend)
        finally:
            _close(waiter)


def _close(waiter: Callable[[], None] | None) -> None:
    close = getattr(waiter, "close", None)
    if close is not None:
        close()


def _waiter(backend: Backend, poll: float) -> Callable[[], None]:
    if backend.url.kind != "postgresql":
        return lambda: time.sleep(poll)
    return _Listener(backend, poll)


class _Listener:
    """LISTEN on the events channel on a connection of its own (not the pool's)."""

    def __init__(self, backend: Backend, poll: float) -> None:
        url = backend.url
        self.poll = poll
        self.conn: psycopg.Connection[Any] = psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.user,
            password=url.password,
            dbname=url.dbname,
            autocommit=True,
        )
        channel = backend.recorder.channel_name
        self.conn.execute(SQL("LISTEN {}").format(Identifier(channel)))

    def __call__(self) -> None:
        for _ in self.conn.notifies(timeout=self.poll, stop_after=1):
            break

    def close(self) -> None:
        with suppress(psycopg.Error):
            self.conn.close()
