"""The dossiers view: one row per dossier, its current state as the domain folds it.

Columns: state label and national-portal status code (TrangThaiHoSo), procedure,
agency and the agency holding it now (an open inter-agency transfer), handler,
received / clock-start / due (in force, original, legal) / resolved / finished
times, pause and reschedule info, the overdue instant, timeliness, processing
time in working hours, the inter-agency steps with their own timeliness, and
the statistics periods (months, Vietnam time) the dossier counts in.

``overdue_from_us``: the dossier is overdue at ``now`` iff this is set and
``now > overdue_from_us`` (for ``now`` at or after the dossier's last event this
equals :meth:`DossierState.overdue`): the due date while open or resolved late,
NULL once it ended otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from ledger.core.errors import HosoError
from ledger.domain import lifecycle as ev
from ledger.domain.calendar import WorkingCalendar, local_date
from ledger.domain.state import DossierState
from ledger.domain.timeliness import timeliness
from projections.fold import Folded
from projections.schema import Table, delete_keys
from projections.views.base import Page, View, Writer
from projections.views.statistics import STATISTICS, rebuild_statistics, refresh_statistics

HOUR_US = 3_600_000_000

DOSSIERS = Table(
    "hoso_v_dossiers",
    (
        ("code", "text"),
        ("state", "text"),
        ("portal_code", "int"),
        ("procedure", "text"),
        ("agency", "text"),
        ("current_agency", "text"),
        ("handler", "text"),
        ("channel", "text"),
        ("applicant", "blob"),
        ("applicant_kind", "int"),
        ("submitted_us", "int"),
        ("received_us", "int"),
        ("clock_start_us", "int"),
        ("due_us", "int"),
        ("original_due_us", "int"),
        ("legal_due_us", "int"),
        ("resolved_us", "int"),
        ("finished_us", "int"),
        ("paused_since_us", "int"),
        ("supplements", "int"),
        ("rescheduled", "int"),
        ("is_open", "int"),
        ("overdue_from_us", "int"),
        ("timeliness", "text"),
        ("processing_hours", "float"),
        ("steps", "text"),
        ("valid_results", "int"),
        ("received_period", "text"),
        ("resolved_period", "text"),
        ("finished_period", "text"),
        ("n", "int"),
        ("position", "int"),
        ("rejected", "int"),
    ),
    ("code",),
    (
        ("state", "due_us", "code"),
        ("current_agency", "due_us", "code"),
        ("procedure", "due_us", "code"),
        ("agency", "procedure"),
        ("applicant",),
        ("is_open", "due_us", "code"),
        ("received_us", "code"),
    ),
)
COLUMNS = DOSSIERS.column_names


def period(t_us: int | None) -> str | None:
    """The statistics period of an instant: its month in Vietnam time, ``YYYY-MM``."""
    if t_us is None:
        return None
    day = local_date(t_us)
    return f"{day.year:04d}-{day.month:02d}"


def overdue_from(state: DossierState) -> int | None:
    """The pause-aware clock of the domain (:meth:`DossierState.overdue_from`): the same
    instant the rules and the statistics use."""
    return state.overdue_from()


def dossier_row(folded: Folded, calendar: WorkingCalendar) -> tuple[object, ...]:
    """The view row of one folded dossier (pure; in ``COLUMNS`` order)."""
    s = folded.state

    def hours(a: int, b: int) -> float:
        return calendar.working_time_between(a, b) / HOUR_US

    try:
        judged = timeliness(s, working_hours_between=hours)
        outcome, steps_judged = judged.dossier, {(t.agency, t.step): t for t in judged.steps}
    except HosoError:  # a time outside the calendar's years: not judged
        outcome, steps_judged = None, {}
    processing: float | None = None
    if s.resolved_us is not None and s.clock_start_us is not None:
        try:
            processing = round(hours(s.clock_start_us, s.resolved_us), 6)
        except HosoError:
            processing = None
    steps = []
    for t in s.transfers:
        judged_step = steps_judged.get((t.to_agency, t.step)) if t.returned_us else None
        steps.append(
            {
                "agency": t.to_agency,
                "step": t.step,
                "allowance_hours": t.allowance_hours,
                "sent_us": t.sent_us,
                "acknowledged_us": t.acknowledged_us,
                "returned_us": t.returned_us,
                "used_hours": None if judged_step is None else round(judged_step.used_hours, 6),
                "outcome": None if judged_step is None else judged_step.outcome,
            }
        )
    return (
        s.code,
        s.state.label,
        s.portal_code,
        s.procedure,
        s.agency,
        s.current_agency,
        s.handler,
        s.channel,
        s.applicant,
        s.applicant_kind,
        s.submitted_us,
        s.received_us,
        s.clock_start_us,
        s.due_us,
        s.original_due_us,
        s.legal_due_us,
        s.resolved_us,
        s.finished_us,
        s.paused_since_us,
        s.supplements,
        int(s.rescheduled),
        int(s.state in ev.OPEN_CASE),
        overdue_from(s),
        outcome,
        processing,
        json.dumps(steps, sort_keys=True, separators=(",", ":")),
        sum(1 for r in s.results.values() if r.status == "valid"),
        period(s.received_us),
        period(s.resolved_us),
        period(s.finished_us),
        s.n,
        folded.position,
        len(folded.rejections),
    )


class DossiersView(View):
    name: ClassVar[str] = "dossiers"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = (DOSSIERS, STATISTICS)
    description: ClassVar[str] = (
        "one row per dossier (state, portal code, due/overdue, timeliness, steps), and the"
        " Decision 766 statistics per agency x procedure x month derived from it"
    )

    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        codes = page.touched(after)
        if not codes:
            return
        table = out.table(DOSSIERS)
        rows = [dossier_row(page.folds[c], out.calendar) for c in codes]
        if out.rebuilding:  # statistics are computed once, at the end of the rebuild
            delete_keys(out.sql, out.curs, table, "code", codes)
            out.insert(DOSSIERS, rows)
            return
        before = _groups_of(out, table, codes)
        delete_keys(out.sql, out.curs, table, "code", codes)
        out.insert(DOSSIERS, rows)
        after_groups = {
            (str(r[4]), str(r[3]), str(p))
            for r in rows
            for p in (r[27], r[28], r[29])
            if p is not None
        }
        refresh_statistics(out, table, sorted(before | after_groups))

    def finish_rebuild(self, out: Writer, folds: Mapping[str, Folded]) -> None:
        # the rows the rebuild wrote are the final ones: read them back, don't recompute
        out.curs.execute(f"SELECT {', '.join(COLUMNS)} FROM {out.table(DOSSIERS)}")
        rows = [dict(r) for r in out.curs.fetchall()]
        rebuild_statistics(out, rows)


def _groups_of(out: Writer, table: str, codes: list[str]) -> set[tuple[str, str, str]]:
    """The (agency, procedure, period) groups the dossiers' current rows count in."""
    groups: set[tuple[str, str, str]] = set()
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        out.curs.execute(
            "SELECT agency, procedure, received_period, resolved_period, finished_period"
            f" FROM {table} WHERE code IN ({out.sql.in_list(len(chunk))})",
            chunk,
        )
        for r in out.curs.fetchall():
            for key in ("received_period", "resolved_period", "finished_period"):
                if r[key] is not None:
                    groups.add((str(r["agency"]), str(r["procedure"]), str(r[key])))
    return groups
