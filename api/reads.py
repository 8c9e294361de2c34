"""Reads for officials and citizens: the projections' queries, scoped to the principal.

Officers and systems see dossiers their agency holds or held (the dossier's agency or
the one it is transferred to); inspectors see all; citizens see the dossiers whose
applicant commitment is their token's subject. A dossier outside the scope is a 404.
"""

from __future__ import annotations

from typing import Any, NoReturn

import orjson

from api.auth import (
    Principal,
    check_visible,
    citizen_subject,
    dossier_agencies,
    require,
    scope_agency,
)
from api.pagination import decode_cursor, encode_cursor
from api.problems import not_found
from api.schemas import (
    AccessPagePublic,
    AccessPublic,
    CitizenDossierPagePublic,
    CitizenDossierPublic,
    DossierPagePublic,
    DossierPublic,
    DossierSummaryPublic,
    FindingPublic,
    HistoryEventPublic,
    OverdueItemPublic,
    OverduePagePublic,
    ResultPublic,
    SignerPublic,
    StatisticsRowPublic,
    hexed,
)
from ledger.bootstrap import Ledger
from ledger.services.dossiers import signer_infos
from projections import queries
from projections.queries import DossierSort


def summary(row: dict[str, Any]) -> DossierSummaryPublic:
    return DossierSummaryPublic.model_validate(_flags(hexed(row)))


def _flags(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("rescheduled", "is_open", "erased", "digitized", "revocation_due"):
        if name in row and row[name] is not None:
            row[name] = bool(row[name])
    return row


def visible_row(ledger: Ledger, principal: Principal | None, code: str) -> dict[str, Any]:
    """The dossier's view row if an official principal may see it; 404 otherwise."""
    who = require(principal, "officer", "system", "inspector")
    row = queries.get_dossier(ledger.backend.sql, code)
    if row is None:
        raise not_found("no dossier with this code")
    check_visible(who, dossier_agencies(row))
    return row


def own_row(ledger: Ledger, principal: Principal | None, code: str) -> dict[str, Any]:
    """The dossier's view row if it is the citizen's own; 404 otherwise."""
    who = require(principal, "citizen")
    row = queries.get_dossier(ledger.backend.sql, code)
    if row is None or row.get("applicant") is None or row["applicant"] != who.subject:
        raise not_found("no dossier with this code")
    return row


def document(
    ledger: Ledger, principal: Principal | None, code: str, *, primary: bool = False
) -> bytes:
    """The dossier's read document as JSON bytes: one indexed SELECT of the documents view
    (projections/views/documents.py), scoped like :func:`visible_row`. While that view
    has not caught up with the dossier, the answer is built from the stream instead."""
    who = require(principal, "officer", "system", "inspector")
    row = queries.dossier_document(ledger.read_sql(primary=primary), code)
    if row is None:  # (a standby behind the primary, too: the primary answers)
        return orjson.dumps(detail(ledger, visible_row(ledger, principal, code)).model_dump())
    check_visible(who, dossier_agencies(row))
    doc = bytes(row["doc"])
    return queries.erased_document(doc) if row["erased"] else doc


def detail(ledger: Ledger, row: dict[str, Any]) -> DossierPublic:
    code = str(row["code"])
    events = ledger.store.read_stream(code)
    keys = ledger.store.keys(sorted({s.key_id for e in events for s in e.signatures}))
    history = [
        HistoryEventPublic(
            n=e.body.n,
            type=e.body.type,
            actor=e.body.actor,
            time_us=e.body.time_us,
            event_hash=e.event_hash.hex(),
            signers=[
                SignerPublic(actor=s.actor, roles=sorted(s.roles), agency=s.agency)
                for s in signer_infos(e, keys)
            ],
        )
        for e in events
    ]
    return DossierPublic(
        **summary(row).model_dump(), history=history, results=results(ledger, code)
    )


def results(ledger: Ledger, code: str) -> list[ResultPublic]:
    rows = queries.results_of(ledger.backend.sql, code)
    return [ResultPublic.model_validate(_flags(hexed(r))) for r in rows]


def list_dossiers(
    ledger: Ledger,
    principal: Principal | None,
    *,
    state: str | None,
    procedure: str | None,
    agency: str | None,
    due_from: int | None,
    due_to: int | None,
    overdue_at: int | None,
    sort: DossierSort,
    descending: bool,
    after: str | None,
    limit: int,
    primary: bool = False,
) -> bytes:
    """A page of summaries as JSON bytes (``DossierPagePublic``; no model per row)."""
    who = require(principal, "officer", "system", "inspector")
    page = queries.list_dossiers(
        ledger.read_sql(primary=primary),
        state=state,
        procedure=procedure,
        agency=scope_agency(who, agency),
        due_from=due_from,
        due_to=due_to,
        overdue_at=overdue_at,
        sort=sort,
        descending=descending,
        after=decode_cursor(after, length=1 if sort == "code" else 2),
        limit=limit,
    )
    return queries.summary_page(page.rows, encode_cursor(page.next))


def overdue(
    ledger: Ledger,
    principal: Principal | None,
    *,
    now_us: int,
    horizon_us: int,
    agency: str | None,
    after: str | None,
    limit: int,
) -> OverduePagePublic:
    who = require(principal, "officer", "system", "inspector")
    page = queries.overdue_queue(
        ledger.backend.sql,
        now_us=now_us,
        horizon_us=horizon_us,
        agency=scope_agency(who, agency),
        after=decode_cursor(after, length=2),
        limit=limit,
    )
    items = [OverdueItemPublic.model_validate(_flags(dict(r))) for r in page.rows]
    return OverduePagePublic(items=items, next=encode_cursor(page.next))


def inbox(
    ledger: Ledger,
    principal: Principal | None,
    *,
    agency: str | None,
    after: str | None,
    limit: int,
) -> DossierPagePublic:
    who = require(principal, "officer", "system", "inspector")
    scoped = scope_agency(who, agency)
    if scoped is None:
        raise_agency_needed()
    page = queries.inbox(
        ledger.backend.sql, scoped, after=decode_cursor(after, length=2), limit=limit
    )
    return DossierPagePublic(items=[summary(r) for r in page.rows], next=encode_cursor(page.next))


def raise_agency_needed() -> NoReturn:
    raise queries.MalformedQuery("inspectors name the agency whose inbox to read", where="agency")


def statistics(
    ledger: Ledger,
    principal: Principal | None,
    *,
    period: str,
    now_us: int,
    agency: str | None,
    procedure: str | None,
) -> list[StatisticsRowPublic]:
    who = require(principal, "officer", "system", "inspector")
    rows = queries.statistics(
        ledger.backend.sql,
        period=period,
        now_us=now_us,
        agency=scope_agency(who, agency),
        procedure=procedure,
    )
    return [StatisticsRowPublic.model_validate(r) for r in rows]


def findings(
    ledger: Ledger,
    principal: Principal | None,
    *,
    code: str | None,
    agency: str | None,
    rule: str | None,
) -> list[FindingPublic]:
    who = require(principal, "officer", "system", "inspector")
    rows = queries.findings(
        ledger.backend.sql, code=code, agency=scope_agency(who, agency), rule=rule
    )
    return [FindingPublic.model_validate(_flags(hexed(r))) for r in rows]


def my_dossiers(
    ledger: Ledger, principal: Principal | None, *, after: str | None, limit: int
) -> CitizenDossierPagePublic:
    subject = citizen_subject(require(principal, "citizen"))
    page = queries.citizen_dossiers(
        ledger.backend.sql, subject, after=decode_cursor(after, length=2), limit=limit
    )
    items = [CitizenDossierPublic.model_validate(_flags(hexed(r))) for r in page.rows]
    return CitizenDossierPagePublic(items=items, next=encode_cursor(page.next))


def my_access_log(
    ledger: Ledger, principal: Principal | None, *, after: str | None, limit: int
) -> AccessPagePublic:
    subject = citizen_subject(require(principal, "citizen"))
    page = queries.access_log(
        ledger.backend.sql, subject, after=decode_cursor(after, length=3), limit=limit
    )
    items = [AccessPublic.model_validate(r) for r in page.rows]
    return AccessPagePublic(items=items, next=encode_cursor(page.next))
