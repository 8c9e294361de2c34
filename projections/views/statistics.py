"""Decision 766/QĐ-TTg indicators per agency × procedure × month (DOMAIN.md 2.9).

Derived from the dossiers view's rows, in the same transaction (it has no
position of its own: it is always at the dossiers view's):

* ``received`` / ``received_online``: dossiers received in the month (online
  share = received_online / received);
* ``resolved``, ``early``, ``on_time``, ``late``: dossiers resolved in the month,
  judged by :func:`ledger.domain.timeliness.timeliness` against the due date
  after supplement pauses and before any apology; ``late_rescheduled`` counts
  the late ones that had an apology (Form 04): still late, but rescheduled;
* ``withdrawn``, ``stopped``: dossiers that ended so in the month;
* ``mean_hours``, ``p90_hours``: processing time (clock start → result) in
  working hours of the dossiers resolved in the month; p90 by nearest rank.

"Currently overdue" depends on the moment asked, so :func:`projections.queries.statistics`
counts it at query time from the dossiers view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass

from projections.schema import Table
from projections.views.base import Writer

STATISTICS = Table(
    "hoso_v_statistics",
    (
        ("agency", "text"),
        ("procedure", "text"),
        ("period", "text"),
        ("received", "int"),
        ("received_online", "int"),
        ("resolved", "int"),
        ("early", "int"),
        ("on_time", "int"),
        ("late", "int"),
        ("late_rescheduled", "int"),
        ("withdrawn", "int"),
        ("stopped", "int"),
        ("mean_hours", "float"),
        ("p90_hours", "float"),
    ),
    ("agency", "procedure", "period"),
    (("period", "agency"),),
)

Group = tuple[str, str, str]  # (agency, procedure, period)


@dataclass(frozen=True, slots=True)
class Indicators:
    agency: str
    procedure: str
    period: str
    received: int = 0
    received_online: int = 0
    resolved: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    late_rescheduled: int = 0
    withdrawn: int = 0
    stopped: int = 0
    mean_hours: float | None = None
    p90_hours: float | None = None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def aggregate(rows: Iterable[Mapping[str, object]]) -> dict[Group, Indicators]:
    """The indicators of every group the dossier rows count in (pure)."""
    counts: dict[Group, dict[str, int]] = {}
    hours: dict[Group, list[float]] = {}

    def bump(group: Group, *names: str) -> None:
        c = counts.setdefault(group, {})
        for name in names:
            c[name] = c.get(name, 0) + 1

    for r in rows:
        agency, procedure = str(r["agency"]), str(r["procedure"])
        received = r["received_period"]
        if received is not None:
            g = (agency, procedure, str(received))
            bump(g, "received", *(("received_online",) if r["channel"] == "online" else ()))
        resolved, outcome = r["resolved_period"], r["timeliness"]
        if resolved is not None and outcome is not None:
            g = (agency, procedure, str(resolved))
            late_rescheduled = (
                ("late_rescheduled",) if outcome == "late" and r["rescheduled"] else ()
            )
            bump(g, "resolved", str(outcome), *late_rescheduled)
            value = r["processing_hours"]
            if isinstance(value, float | int):  # NULL while not measurable
                hours.setdefault(g, []).append(float(value))
        finished = r["finished_period"]
        if finished is not None and r["state"] in ("withdrawn", "stopped"):
            bump((agency, procedure, str(finished)), str(r["state"]))
    out: dict[Group, Indicators] = {}
    for g in sorted(counts.keys() | hours.keys()):
        values = hours.get(g, [])
        mean = round(sum(values) / len(values), 6) if values else None
        c = counts.get(g, {})
        out[g] = Indicators(
            *g,
            received=c.get("received", 0),
            received_online=c.get("received_online", 0),
            resolved=c.get("resolved", 0),
            early=c.get("early", 0),
            on_time=c.get("on_time", 0),
            late=c.get("late", 0),
            late_rescheduled=c.get("late_rescheduled", 0),
            withdrawn=c.get("withdrawn", 0),
            stopped=c.get("stopped", 0),
            mean_hours=mean,
            p90_hours=p90(values),
        )
    return out


_FACTS = (
    "agency, procedure, channel, state, rescheduled, timeliness, processing_hours,"
    " received_period, resolved_period, finished_period"
)


def refresh_statistics(out: Writer, dossiers: str, groups: Sequence[Group]) -> None:
    """Recompute ``groups`` from the dossiers table ``dossiers`` (in the caller's transaction)."""
    table = out.table(STATISTICS)
    for agency, procedure, month in groups:
        out.curs.execute(
            f"SELECT {_FACTS} FROM {dossiers} WHERE agency = %s AND procedure = %s"
            " AND (received_period = %s OR resolved_period = %s OR finished_period = %s)",
            [agency, procedure, month, month, month],
        )
        rows = out.curs.fetchall()
        out.curs.execute(
            f"DELETE FROM {table} WHERE agency = %s AND procedure = %s AND period = %s",
            [agency, procedure, month],
        )
        found = aggregate(rows).get((agency, procedure, month))
        if found is not None:
            out.insert(STATISTICS, [astuple(found)])


def rebuild_statistics(out: Writer, rows: Iterable[Mapping[str, object]]) -> None:
    out.curs.execute(f"DELETE FROM {out.table(STATISTICS)}")
    out.insert(STATISTICS, [astuple(i) for i in aggregate(rows).values()])
