"""Queries the API calls: plain functions over the views, same answers on both backends.

Lists use keyset pagination: a page comes with ``next`` (the sort key of its
last row) to pass back as ``after``; rows are ordered by (sort key, code), so
pages neither repeat nor skip rows while the views change. Times are integer
microseconds UTC. "Now" is always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ledger.core.errors import MalformedError
from ledger.storage.sql import Sql

MAX_LIMIT = 500
NULL_LAST = 2**63 - 1  # sort key of a missing time: after every real one
DossierSort = Literal["due_us", "received_us", "submitted_us", "code"]
_SORTS = ("due_us", "received_us", "submitted_us", "code")


class MalformedQuery(MalformedError):
    """A query parameter is out of range (limit, sort, cursor)."""

    check = "query.parameter"


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next: tuple[Any, ...] | None  # pass as ``after`` for the next page; None: last page


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise MalformedQuery(f"limit must be in 1..{MAX_LIMIT}", where="limit")
    return limit


def _row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (bytes(v) if isinstance(v, memoryview) else v) for k, v in r.items()}


def _page(rows: Sequence[Mapping[str, Any]], limit: int, key: Sequence[str]) -> Page:
    out = [_row(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(out, tuple(out[-1][k] for k in key) if more and out else None)


# --- rows as the API shows them --------------------------------------------------------

SUMMARY_FIELDS = (
    "code",
    "state",
    "portal_code",
    "procedure",
    "agency",
    "current_agency",
    "handler",
    "channel",
    "applicant",
    "submitted_us",
    "received_us",
    "due_us",
    "original_due_us",
    "legal_due_us",
    "resolved_us",
    "finished_us",
    "paused_since_us",
    "supplements",
    "rescheduled",
    "is_open",
    "overdue_from_us",
    "timeliness",
    "processing_hours",
    "valid_results",
)
"""The summary's fields (``DossierSummaryPublic``'s; ``summary_of`` adds ``erased``)."""

RESULT_FIELDS = (
    "dossier",
    "number",
    "result_type",
    "outcome",
    "medium",
    "issued_us",
    "n",
    "status",
    "superseded_by",
    "digitized",
    "delivered_channel",
    "event_hash",
    "procedure",
    "agency",
)
BOOLEANS = frozenset({"rescheduled", "is_open", "digitized"})


def public_value(name: str, value: Any) -> Any:
    """A view column's value as the API shows it: bytes as hex, 0/1 flags as booleans."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if name in BOOLEANS and value is not None:
        return bool(value)
    return value


def summary_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The public summary of one dossiers-view row (``erased`` as the row says, else false)."""
    out = {name: public_value(name, row.get(name)) for name in SUMMARY_FIELDS}
    out["erased"] = bool(row.get("erased"))
    if out["erased"]:
        out["applicant"] = None
    return out


def summary_page(rows: Sequence[Mapping[str, Any]], next_cursor: str | None) -> bytes:
    """A page of dossier summaries as the API's JSON bytes (no response model on the way)."""
    return orjson.dumps({"items": [summary_of(r) for r in rows], "next": next_cursor})


# --- dossiers ------------------------------------------------------------------------


def get_dossier(sql: Sql, code: str) -> dict[str, Any] | None:
    rows = sql.rows(
        "SELECT d.*, e.subject IS NOT NULL AS erased FROM hoso_v_dossiers d"
        " LEFT JOIN hoso_v_erasures e ON e.subject = d.applicant WHERE d.code = %s",
        [code],
    )
    return _public(rows[0]) if rows else None


DOCUMENT_SQL = (
    "SELECT d.doc, d.agency, d.current_agency, e.subject IS NOT NULL AS erased"
    " FROM hoso_v_documents d LEFT JOIN hoso_v_erasures e ON e.subject = d.applicant"
    " WHERE d.code = %s"
)


def dossier_document(sql: Sql, code: str) -> dict[str, Any] | None:
    """The dossier's read document (``doc``: JSON bytes) and what scopes it: one indexed
    SELECT. None while the documents view has no row for it (unknown, or catching up)."""
    rows = sql.rows(DOCUMENT_SQL, [code])
    if not rows:
        return None
    row = _row(rows[0])
    row["erased"] = bool(row["erased"])
    return row


def erased_document(doc: bytes) -> bytes:
    """The document of a dossier whose applicant was erased: no commitment, ``erased``."""
    data = orjson.loads(doc)
    data["applicant"] = None
    data["erased"] = True
    return orjson.dumps(data)


def _public(r: Mapping[str, Any]) -> dict[str, Any]:
    row = _row(r)
    row["erased"] = bool(row.get("erased"))
    if row["erased"]:
        row["applicant"] = None  # the subject was erased: the commitment reads as erased
    return row


def list_dossiers(
    sql: Sql,
    *,
    state: str | None = None,
    procedure: str | None = None,
    agency: str | None = None,
    due_from: int | None = None,
    due_to: int | None = None,
    overdue_at: int | None = None,
    sort: DossierSort = "due_us",
    descending: bool = False,
    after: tuple[Any, ...] | None = None,
    limit: int = 50,
) -> Page:
    """Dossiers by state, procedure, agency (the one holding it now), due range, overdue.

    ``overdue_at``: only dossiers overdue at that instant. Sorted by ``sort`` then
    code; missing times sort last (first when descending).
    """
    if sort not in _SORTS:
        raise MalformedQuery(f"sort must be one of {_SORTS}", where="sort")
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("state", state), ("procedure", procedure), ("current_agency", agency)):
        if value is not None:
            where.append(f"d.{column} = %s")
            params.append(value)
    if due_from is not None:
        where.append("d.due_us >= %s")
        params.append(due_from)
    if due_to is not None:
        where.append("d.due_us < %s")
        params.append(due_to)
    if overdue_at is not None:
        where.append("d.overdue_from_us IS NOT NULL AND d.overdue_from_us < %s")
        params.append(overdue_at)
    key = "d.code" if sort == "code" else f"COALESCE(d.{sort}, {NULL_LAST})"
    cmp, order = ("<", "DESC") if descending else (">", "ASC")
    if after is not None:
        if sort == "code":
            where.append(f"d.code {cmp} %s")
            params.append(after[-1])
        else:
            where.append(f"({key} {cmp} %s OR ({key} = %s AND d.code {cmp} %s))")
            params += [after[0], after[0], after[1]]
    query = (
        f"SELECT d.*, {key} AS sort_key, e.subject IS NOT NULL AS erased FROM hoso_v_dossiers d"
        " LEFT JOIN hoso_v_erasures e ON e.subject = d.applicant"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY {key} {order}, d.code {order} LIMIT %s"
    )
    rows = [_public(r) for r in sql.rows(query, [*params, _limit(limit) + 1])]
    return _page(rows, limit, ("code",) if sort == "code" else ("sort_key", "code"))


def overdue_queue(
    sql: Sql,
    *,
    now_us: int,
    horizon_us: int = 0,
    agency: str | None = None,
    after: tuple[Any, ...] | None = None,
    limit: int = 50,
) -> Page:
    """What is late, or will be within ``horizon_us``, and when: open dossiers whose clock
    runs (not paused for a supplement), by due date. ``overdue`` marks those already late."""
    where = ["d.is_open = 1", "d.paused_since_us IS NULL", "d.due_us <= %s"]
    params: list[Any] = [now_us + horizon_us]
    if agency is not None:
        where.append("d.current_agency = %s")
        params.append(agency)
    if after is not None:
        where.append("(d.due_us > %s OR (d.due_us = %s AND d.code > %s))")
        params += [after[0], after[0], after[1]]
    rows = sql.rows(
        "SELECT d.code, d.state, d.procedure, d.agency, d.current_agency, d.handler, d.due_us,"
        " d.rescheduled FROM hoso_v_dossiers d WHERE " + " AND ".join(where)
        + " ORDER BY d.due_us, d.code LIMIT %s",
        [*params, _limit(limit) + 1],
    )  # fmt: skip
    page = _page(rows, limit, ("due_us", "code"))
    for r in page.rows:
        r["overdue"] = now_us > r["due_us"]
        r["late_by_us"] = max(0, now_us - r["due_us"])
    return page


def inbox(sql: Sql, agency: str, *, after: tuple[Any, ...] | None = None, limit: int = 50) -> Page:
    """Open dossiers the agency holds now (its own, or transferred to it), by due date."""
    key = f"COALESCE(d.due_us, {NULL_LAST})"
    where = ["d.current_agency = %s", "d.is_open = 1"]
    params: list[Any] = [agency]
    if after is not None:
        where.append(f"({key} > %s OR ({key} = %s AND d.code > %s))")
        params += [after[0], after[0], after[1]]
    rows = sql.rows(
        f"SELECT d.*, {key} AS sort_key FROM hoso_v_dossiers d WHERE " + " AND ".join(where)
        + f" ORDER BY {key}, d.code LIMIT %s",
        [*params, _limit(limit) + 1],
    )  # fmt: skip
    return _page(rows, limit, ("sort_key", "code"))


# --- results -------------------------------------------------------------------------


def results_of(sql: Sql, dossier: str) -> list[dict[str, Any]]:
    rows = sql.rows("SELECT * FROM hoso_v_results WHERE dossier = %s ORDER BY n", [dossier])
    return [_row(r) for r in rows]


# --- statistics ----------------------------------------------------------------------


def statistics(
    sql: Sql,
    *,
    period: str,
    now_us: int,
    agency: str | None = None,
    procedure: str | None = None,
) -> list[dict[str, Any]]:
    """Decision 766 indicators for a month (``YYYY-MM``) per agency × procedure, with the
    dossiers received that month and overdue at ``now_us`` and the online share."""
    where, params = ["s.period = %s"], [period]
    for column, value in (("agency", agency), ("procedure", procedure)):
        if value is not None:
            where.append(f"s.{column} = %s")
            params.append(value)
    rows = [
        _row(r)
        for r in sql.rows(
            "SELECT s.* FROM hoso_v_statistics s WHERE " + " AND ".join(where)
            + " ORDER BY s.agency, s.procedure",
            params,
        )
    ]  # fmt: skip
    overdue = {
        (str(r["agency"]), str(r["procedure"])): int(r["n"])
        for r in sql.rows(
            "SELECT agency, procedure, COUNT(*) AS n FROM hoso_v_dossiers"
            " WHERE received_period = %s AND is_open = 1 AND overdue_from_us IS NOT NULL"
            " AND overdue_from_us < %s GROUP BY agency, procedure",
            [period, now_us],
        )
    }
    for r in rows:
        r["currently_overdue"] = overdue.get((r["agency"], r["procedure"]), 0)
        received = int(r["received"])
        r["online_share"] = round(int(r["received_online"]) / received, 6) if received else None
    return rows


# --- citizens ------------------------------------------------------------------------


def citizen_dossiers(
    sql: Sql, subject: bytes, *, after: tuple[Any, ...] | None = None, limit: int = 50
) -> Page:
    """A data subject's dossiers (by applicant commitment), newest first."""
    where, params = ["d.applicant = %s"], [subject]
    if after is not None:
        where.append("(d.submitted_us < %s OR (d.submitted_us = %s AND d.code < %s))")
        params += [after[0], after[0], after[1]]
    rows = sql.rows(
        "SELECT d.code, d.state, d.portal_code, d.procedure, d.agency, d.submitted_us,"
        " d.applicant, e.subject IS NOT NULL AS erased FROM hoso_v_dossiers d"
        " LEFT JOIN hoso_v_erasures e ON e.subject = d.applicant WHERE " + " AND ".join(where)
        + " ORDER BY d.submitted_us DESC, d.code DESC LIMIT %s",
        [*params, _limit(limit) + 1],
    )  # fmt: skip
    return _page([_public(r) for r in rows], limit, ("submitted_us", "code"))


def access_log(
    sql: Sql, subject: bytes, *, after: tuple[Any, ...] | None = None, limit: int = 50
) -> Page:
    """Who read a data subject's data, newest first."""
    where, params = ["subject = %s"], [subject]
    if after is not None:
        where.append(
            "(time_us < %s OR (time_us = %s AND (position < %s OR (position = %s AND entry < %s))))"
        )
        params += [after[0], after[0], after[1], after[1], after[2]]
    rows = sql.rows(
        "SELECT * FROM hoso_v_access_log WHERE " + " AND ".join(where)
        + " ORDER BY time_us DESC, position DESC, entry DESC LIMIT %s",
        [*params, _limit(limit) + 1],
    )  # fmt: skip
    return _page(rows, limit, ("time_us", "position", "entry"))


def erasure(sql: Sql, subject: bytes) -> dict[str, Any] | None:
    rows = sql.rows("SELECT * FROM hoso_v_erasures WHERE subject = %s", [subject])
    return _row(rows[0]) if rows else None


# --- findings ------------------------------------------------------------------------


def findings(
    sql: Sql, *, code: str | None = None, agency: str | None = None, rule: str | None = None
) -> list[dict[str, Any]]:
    """Post-audit findings: recorded by inspectors (``source`` inspector), events the
    lifecycle refused (``fold``), and the automatic rules as of their last refresh
    (``rule``; ``hoso projections refresh-findings``)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("code", code), ("agency", agency), ("rule", rule)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = [
        _row(r)
        for r in sql.rows(
            f"SELECT * FROM hoso_v_findings{clause} ORDER BY code, source, seq", params
        )
    ]
    if _exists(sql, "hoso_v_rule_findings"):
        rule_rows = sql.rows(
            "SELECT code, 'rule' AS source, seq, rule, n, agency, message, expected, found,"
            f" stream FROM hoso_v_rule_findings{clause} ORDER BY code, seq",
            params,
        )
        rows.extend(_row(r) for r in rule_rows)
    return rows


def _exists(sql: Sql, table: str) -> bool:
    if sql.dialect == "postgresql":
        found = sql.rows("SELECT to_regclass(%s) AS t", [table])
        return found[0]["t"] is not None
    found = sql.rows(sql.q("SELECT name FROM sqlite_master WHERE name = %s"), [table])
    return bool(found)
