"""The automatic post-audit findings, kept current in a table beside the views.

The rules (:func:`ledger.domain.rules.audit_dossier`) need a dossier's whole
history, the catalogue, the calendar, the reuse index and a ``now``, so they
are not a page-by-page view (a rebuild would re-read every stream). The refresh
is given them as callables (:class:`Auditors`; the composition root builds them
from a ledger with :meth:`ledger.bootstrap.Ledger.auditors`) and recomputes, in
one transaction per chunk of dossiers:

- every dossier with an event after the refresh's tracked position, and
- every dossier still open (``now`` moves their deadlines: overdue, late steps),

and moves the position (``rule_findings`` in ``hoso_projection_tracking``) to
the log's end as read at the start. ``hoso projections refresh-findings`` runs
it; ``hoso projections follow --findings-every S`` runs it on a timer. The
personal-data rules (out-of-scope reads, erasures under retention) are
refreshed with it, over the whole log (the access log is not per dossier).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.domain.lifecycle import TERMINAL
from ledger.domain.rules import RuleFinding
from ledger.storage.database import Backend
from ledger.storage.sql import EVENTS_TABLE, Sql
from projections import schema
from projections.schema import Table, delete_keys

VIEW = "rule_findings"
VERSION = 1
CHUNK = 500
PRIVACY_KEY = "system/privacy-rules"  # the rows of the personal-data rules

RULE_FINDINGS = Table(
    "hoso_v_rule_findings",
    (
        ("code", "text"),  # the dossier, or PRIVACY_KEY
        ("seq", "int"),
        ("rule", "text"),
        ("stream", "text"),
        ("n", "int"),
        ("agency", "text"),
        ("message", "text"),
        ("expected", "text"),
        ("found", "text"),
        ("refreshed_us", "int"),
    ),
    ("code", "seq"),
    (("agency", "rule"), ("rule",)),
)


@dataclass(frozen=True, slots=True)
class Auditors:
    """The post-audit rules, as the refresh calls them."""

    dossiers: Callable[[Sequence[str], int], list[RuleFinding]]
    """Every rule over the dossiers with these codes, as of ``now_us``."""
    privacy: Callable[[], list[RuleFinding]]
    """The personal-data rules over the whole log."""
    codes: Callable[[], list[str]]
    """Every dossier's code."""


@dataclass(frozen=True, slots=True)
class Refreshed:
    dossiers: int  # re-examined by this refresh
    findings: int  # in the table after it
    position: int


def refresh_rule_findings(
    backend: Backend,
    audit: Auditors,
    *,
    now_us: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Refreshed:
    """Recompute the rule findings of changed and open dossiers; return what was done."""
    sql = backend.sql
    schema.create_tracking(sql)
    with sql.transaction() as curs:
        RULE_FINDINGS.create(sql, curs)
        RULE_FINDINGS.create_indexes(curs)
    known = schema.positions(sql).get(VIEW)
    after = 0 if known is None or known[0] != VERSION else known[1]
    end = int(backend.recorder.max_notification_id() or 0)
    codes = sorted(set(_changed(sql, after, end)) | set(_open(audit, sql)))
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start : start + CHUNK]
        findings = audit.dossiers(chunk, now_us)
        with sql.transaction() as curs:
            delete_keys(sql, curs, RULE_FINDINGS.name, "code", chunk)
            curs.insert_many(
                RULE_FINDINGS.name,
                RULE_FINDINGS.column_names,
                RULE_FINDINGS.copy_types,
                _rows(findings, now_us),
            )
        progress(start + len(chunk), len(codes))
    privacy = audit.privacy()
    with sql.transaction() as curs:
        delete_keys(sql, curs, RULE_FINDINGS.name, "code", [PRIVACY_KEY])
        curs.insert_many(
            RULE_FINDINGS.name,
            RULE_FINDINGS.column_names,
            RULE_FINDINGS.copy_types,
            _rows(privacy, now_us, code=PRIVACY_KEY),
        )
        schema.set_position(curs, VIEW, version=VERSION, position=end, now_us=now_us)
    total = sql.rows(f"SELECT COUNT(*) AS c FROM {RULE_FINDINGS.name}")[0]["c"]
    return Refreshed(len(codes), int(total), end)


def _rows(
    findings: Sequence[RuleFinding], now_us: int, *, code: str | None = None
) -> list[tuple[object, ...]]:
    seqs: dict[str, int] = {}
    rows: list[tuple[object, ...]] = []
    for f in findings:
        key = code or f.stream
        seq = seqs[key] = seqs.get(key, -1) + 1
        rows.append(
            (key, seq, f.rule, f.stream, f.n, f.agency, f.message, f.expected, f.found, now_us)
        )
    return rows


def _changed(sql: Sql, after: int, end: int) -> list[str]:
    column = "notification_id" if sql.dialect == "postgresql" else "rowid"
    rows = sql.rows(
        sql.q(
            f"SELECT DISTINCT originator_id AS code FROM {EVENTS_TABLE}"
            f" WHERE {column} > %s AND {column} <= %s AND originator_id NOT LIKE %s"
        ),
        [after, end, "system/%"],
    )
    return [str(r["code"]) for r in rows]


def _open(audit: Auditors, sql: Sql) -> list[str]:
    """Dossiers not in a terminal state, from the dossiers view when it exists."""
    if "dossiers" not in schema.positions(sql):  # no views yet: every dossier is a candidate
        return audit.codes()
    terminal = sorted(s.label for s in TERMINAL)
    rows = sql.rows(
        sql.q(
            f"SELECT code FROM hoso_v_dossiers WHERE state NOT IN ({sql.in_list(len(terminal))})"
        ),
        terminal,
    )
    return [str(r["code"]) for r in rows]
