"""The results view: one row per result version (number, type, dossier, issue time,
signers, status valid / revoked / superseded with its successor, the seal reference).

The seal reference is the hash of the ledger event that issued the version and
the id of the agency-seal key that co-signed it (DOMAIN.md Part 3 (c): what a
result's QR seal points at). Delivery channel and digitisation are kept too.
"""

from __future__ import annotations

from typing import ClassVar

from projections.fold import Folded
from projections.schema import Table, delete_keys
from projections.views.base import Page, View, Writer

RESULTS = Table(
    "hoso_v_results",
    (
        ("dossier", "text"),
        ("number", "text"),
        ("result_type", "text"),
        ("outcome", "text"),
        ("medium", "text"),
        ("issued_us", "int"),
        ("n", "int"),
        ("signers", "text"),
        ("status", "text"),
        ("superseded_by", "text"),
        ("digitized", "int"),
        ("delivered_channel", "text"),
        ("event_hash", "blob"),
        ("seal_key", "blob"),
        ("procedure", "text"),
        ("agency", "text"),
    ),
    ("dossier", "number"),
    (("number",), ("agency", "issued_us"), ("event_hash",)),
)


def result_rows(folded: Folded) -> list[tuple[object, ...]]:
    """The view rows of one folded dossier's results, in number order (pure)."""
    s = folded.state
    rows: list[tuple[object, ...]] = []
    for number in sorted(s.results):
        r = s.results[number]
        seal = folded.seals.get(number)
        rows.append(
            (
                s.code,
                r.number,
                r.result_type,
                r.outcome,
                r.medium,
                r.issued_us,
                r.n,
                ",".join(seal.signers) if seal else "",
                r.status,
                r.superseded_by,
                int(r.digitized),
                r.delivered_channel,
                seal.event_hash if seal else None,
                seal.seal_key if seal else None,
                s.procedure,
                s.agency,
            )
        )
    return rows


class ResultsView(View):
    name: ClassVar[str] = "results"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = (RESULTS,)
    description: ClassVar[str] = "one row per result version: status, signers, seal reference"

    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        codes = page.touched(after)
        if not codes:
            return
        delete_keys(out.sql, out.curs, out.table(RESULTS), "dossier", codes)
        out.insert(RESULTS, [row for c in codes for row in result_rows(page.folds[c])])
