"""How far each view is behind the log: events not yet applied, and for how long."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.storage.database import Backend
from projections import schema
from projections.engine import NOTIFICATION_ID
from projections.views import VIEWS


@dataclass(frozen=True, slots=True)
class Lag:
    view: str
    position: int | None  # None: never built
    log_position: int
    behind: int  # events after the view's position (ids can have gaps: this counts rows)
    age_s: float  # seconds since the view last moved, when it is behind; else 0
    stale_version: bool  # built by another version of the view's code: rebuild it


def lag(backend: Backend, *, now_us: int) -> list[Lag]:
    sql = backend.sql
    schema.create_tracking(sql)
    tracked = schema.positions(sql)
    last = int(backend.recorder.max_notification_id() or 0)
    nid = NOTIFICATION_ID[sql.dialect]
    out = []
    for name, view in VIEWS.items():
        if name not in tracked:
            out.append(Lag(name, None, last, _count_after(backend, nid, 0), 0.0, False))
            continue
        version, position, updated_us = tracked[name]
        behind = _count_after(backend, nid, position) if position < last else 0
        age = max(0.0, (now_us - updated_us) / 1e6) if behind else 0.0
        out.append(Lag(name, position, last, behind, age, version != view.version))
    return out


def _count_after(backend: Backend, nid: str, position: int) -> int:
    rows = backend.sql.rows(f"SELECT COUNT(*) AS n FROM hoso_events WHERE {nid} > %s", [position])
    return int(rows[0]["n"])
