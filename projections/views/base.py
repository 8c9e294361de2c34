"""What a view is: tables, a version, and how a page of the log changes its rows.

The engine (:mod:`projections.engine`) decodes each page once and hands it to
every view in one transaction; a view writes only what events after its own
position change. Dossier views replace the rows of every dossier the page
touched by rows computed from that dossier's fold at the page's end
(:mod:`projections.fold`): a pure function of the log up to that position, so
replaying a page, following incrementally and rebuilding all give the same rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ledger.core.event import SignedEvent
from ledger.domain.calendar import WorkingCalendar
from ledger.storage.sql import Cursor, Sql
from projections.fold import Folded
from projections.schema import Table


@dataclass(frozen=True, slots=True)
class Page:
    """Decoded events of one page of the notification log, and the folds of the dossiers
    they touch as of the page's last position."""

    events: Sequence[tuple[int, SignedEvent]]  # (notification id, event), in log order
    end: int
    folds: Mapping[str, Folded]

    def touched(self, after: int) -> list[str]:
        """Dossier codes with an event after position ``after`` on this page, sorted."""
        codes = {e.body.stream for p, e in self.events if p > after}
        return sorted(c for c in codes if c in self.folds)

    def system(self, stream: str, event_type: str, after: int) -> list[tuple[int, SignedEvent]]:
        return [
            (p, e)
            for p, e in self.events
            if p > after and e.body.stream == stream and e.body.type == event_type
        ]


@dataclass(frozen=True, slots=True)
class Writer:
    """Where a view writes: the transaction's cursor, and its tables' actual names
    (``suffix`` is ``__next`` while a rebuild fills tables beside the live ones)."""

    sql: Sql
    curs: Cursor
    calendar: WorkingCalendar
    suffix: str = ""
    rebuilding: bool = False

    def table(self, table: Table) -> str:
        return table.name + self.suffix

    def insert(self, table: Table, rows: Sequence[Sequence[object]]) -> None:
        self.curs.insert_many(self.table(table), table.column_names, table.copy_types, rows)


class View(ABC):
    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[Table, ...]]
    description: ClassVar[str]
    needs_folds: ClassVar[bool] = True  # False: reads only system events, no dossier folds

    @abstractmethod
    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        """Apply the page's events after ``after`` to this view's tables."""

    def finish_rebuild(self, out: Writer, folds: Mapping[str, Folded]) -> None:  # noqa: B027
        """Called once a rebuild has read the whole log, before the swap (default: nothing)."""
