"""The post-audit findings view.

What it holds, and what it does not yet:

* ``inspector``: findings inspectors recorded in the ledger
  (``PostAuditFindingRecorded``), with severity, detail and whether a
  revocation is due; and ``fold``: events the lifecycle refused while folding
  (rule 12, as :func:`ledger.domain.rules.replay` reports them). Both are a
  pure function of the dossier's events and follow the log like any view
  (``hoso_v_findings``).
* Not here: the automatic post-audit rules (:func:`ledger.domain.rules.audit_dossier`).
  They need a dossier's whole history, the catalogue, the calendar, the reuse
  index and a ``now``, so computing them while following or rebuilding would
  make a rebuild re-read every stream; :mod:`projections.rule_findings` refreshes them
  into ``hoso_v_rule_findings`` with a position of its own (docs/projections.md).
"""

from __future__ import annotations

from typing import ClassVar

from projections.fold import Folded
from projections.schema import Table, delete_keys
from projections.views.base import Page, View, Writer

FINDINGS = Table(
    "hoso_v_findings",
    (
        ("code", "text"),
        ("source", "text"),  # inspector | fold
        ("seq", "int"),
        ("rule", "text"),
        ("n", "int"),
        ("agency", "text"),
        ("severity", "text"),
        ("message", "text"),
        ("expected", "text"),
        ("found", "text"),
        ("revocation_due", "int"),
        ("actor", "text"),
        ("time_us", "int"),
    ),
    ("code", "source", "seq"),
    (("agency", "rule"), ("rule",)),
)


def finding_rows(folded: Folded) -> list[tuple[object, ...]]:
    """Inspector findings and refused events of one folded dossier (pure)."""
    s = folded.state
    rows: list[tuple[object, ...]] = []
    for seq, f in enumerate(folded.findings):
        rows.append(
            (
                s.code,
                "inspector",
                seq,
                f"audit.{f.finding}",
                f.n,
                s.agency,
                f.severity,
                f.detail,
                "",
                f.audit,
                int(f.revocation_due),
                f.inspector,
                f.time_us,
            )
        )
    for seq, rej in enumerate(folded.rejections):
        rows.append(
            (s.code, "fold", seq, "rule.illegal_event", rej.n, s.agency, "major",
             f"[{rej.check}] {rej.detail}", "", rej.event_type, 0, "", None)
        )  # fmt: skip
    return rows


class FindingsView(View):
    name: ClassVar[str] = "findings"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = (FINDINGS,)
    description: ClassVar[str] = "post-audit findings: inspectors', refused events, rule findings"

    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        codes = page.touched(after)
        if not codes:
            return
        delete_keys(out.sql, out.curs, out.table(FINDINGS), "code", codes)
        out.insert(FINDINGS, [row for c in codes for row in finding_rows(page.folds[c])])
