"""The read documents: each dossier's API answer, kept ready to serve as JSON bytes.

``GET /v1/dossiers/{code}`` answers one indexed SELECT of this table and writes the
bytes out: no stream read, no registry lookup, no response model per request. The
document is what :class:`api.schemas.DossierPublic` describes (docs/api.md): the
dossiers view's summary, the signed history (each event's n, type, actor, time, hash
and the registry's word on each signer) and the results view's rows, in that order.

The history grows by the page's events after the view's position (a replayed page
adds nothing twice: an event whose ``n`` the document already holds is skipped), so a
page costs one read of its dossiers' stored histories, never a stream re-read. The
signers come from the key registry's table, read in the page's transaction.

Erasure is not in the document (it is a privacy-stream event): the read joins the
erasures view and, for an erased applicant, nulls the commitment on the way out.
Bumping :attr:`DocumentsView.version` when the document's shape changes makes
``hoso projections rebuild documents`` due (the API refuses a stale version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from ledger.core.event import SignedEvent
from projections.fold import Folded
from projections.queries import RESULT_FIELDS, public_value, summary_of
from projections.schema import Table, delete_keys
from projections.views.base import Page, View, Writer
from projections.views.dossiers import COLUMNS as DOSSIER_COLUMNS
from projections.views.dossiers import dossier_row
from projections.views.results import RESULTS, result_rows

DOCUMENTS = Table(
    "hoso_v_documents",
    (
        ("code", "text"),
        ("agency", "text"),
        ("current_agency", "text"),
        ("applicant", "blob"),
        ("n", "int"),
        ("history", "blob"),
        ("doc", "blob"),
    ),
    ("code",),
)


def history_item(event: SignedEvent, signers: Mapping[bytes, Mapping[str, Any]]) -> dict[str, Any]:
    body = event.body
    return {
        "n": body.n,
        "type": body.type,
        "actor": body.actor,
        "time_us": body.time_us,
        "event_hash": event.event_hash.hex(),
        "signers": [dict(signers[s.key_id]) for s in event.signatures if s.key_id in signers],
    }


def document(folded: Folded, history: Sequence[Mapping[str, Any]], calendar: Any) -> bytes:
    """The dossier's read document: summary, history, results (JSON bytes, pure)."""
    summary = summary_of(dict(zip(DOSSIER_COLUMNS, dossier_row(folded, calendar), strict=True)))
    rows = [dict(zip(RESULTS.column_names, r, strict=True)) for r in result_rows(folded)]
    rows.sort(key=lambda r: (r["n"] if r["n"] is not None else -1, r["number"]))
    results = [{f: public_value(f, r.get(f)) for f in RESULT_FIELDS} for r in rows]
    return orjson.dumps({**summary, "history": list(history), "results": results})


class DocumentsView(View):
    name: ClassVar[str] = "documents"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = (DOCUMENTS,)
    description: ClassVar[str] = (
        "each dossier's read document (summary, signed history, results) as JSON bytes,"
        " served by GET /v1/dossiers/{code} with one indexed SELECT"
    )

    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        codes = page.touched(after)
        if not codes:
            return
        table = out.table(DOCUMENTS)
        stored = _histories(out, table, codes)
        signers = _signers(out, page, after)
        rows = []
        for code in codes:
            history: list[dict[str, Any]] = stored.get(code, [])
            last = history[-1]["n"] if history else 0
            for position, event in page.events:
                if position > after and event.body.stream == code and event.body.n > last:
                    history.append(history_item(event, signers))
                    last = event.body.n
            folded = page.folds[code]
            s = folded.state
            rows.append(
                (
                    code,
                    s.agency,
                    s.current_agency,
                    s.applicant,
                    last,
                    orjson.dumps(history),
                    document(folded, history, out.calendar),
                )
            )
        delete_keys(out.sql, out.curs, table, "code", codes)
        out.insert(DOCUMENTS, rows)


def _histories(out: Writer, table: str, codes: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        out.curs.execute(
            f"SELECT code, history FROM {table} WHERE code IN ({out.sql.in_list(len(chunk))})",
            chunk,
        )
        for r in out.curs.fetchall():
            found[str(r["code"])] = orjson.loads(bytes(r["history"]))
    return found


def _signers(out: Writer, page: Page, after: int) -> dict[bytes, dict[str, Any]]:
    """The registry's record of every key that signed one of the page's new events."""
    key_ids = sorted(
        {s.key_id for p, e in page.events if p > after for s in e.signatures}, key=bytes
    )
    found: dict[bytes, dict[str, Any]] = {}
    for start in range(0, len(key_ids), 500):
        chunk = key_ids[start : start + 500]
        out.curs.execute(
            "SELECT key_id, actor, roles, agency FROM hoso_keys"
            f" WHERE key_id IN ({out.sql.in_list(len(chunk))})",
            chunk,
        )
        for r in out.curs.fetchall():
            found[bytes(r["key_id"])] = {
                "actor": r["actor"],
                "roles": sorted(str(r["roles"]).split(",")),
                "agency": r["agency"],
            }
    return found
