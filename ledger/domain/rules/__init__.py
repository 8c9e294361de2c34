"""Post-audit (hậu kiểm) rules: pure functions over one dossier's signed history.

Each rule has a stable id (``rule.late_without_apology`` ...) and returns
findings — a report, never an exception. Rules read raw histories, so they
also catch what a store bypassed or an older system wrote: the lifecycle
checks in :mod:`ledger.domain.dossier` prevent most of these at append time,
the rules prove after the fact that they did not happen.

The table of implemented rules, with DOMAIN.md (b) numbers, is in
docs/domain.md; time-based rules take ``now_us`` and a calendar from the caller.
The rules live in :mod:`~ledger.domain.rules.deadlines`,
:mod:`~ledger.domain.rules.electronic` and :mod:`~ledger.domain.rules.conduct`;
this package's public surface is :data:`__all__`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.domain.rules.base import AuditContext, Recorded, Rule, RuleFinding, replay
from ledger.domain.rules.conduct import (
    fees,
    revocation_due,
    segregation_of_duties,
    self_declared_unaudited,
)
from ledger.domain.rules.deadlines import (
    apology_misuse,
    due_date_recomputed,
    handling_latency,
    late_without_apology,
    supplement_misuse,
)
from ledger.domain.rules.electronic import (
    inputs_digitized,
    paper_copy_basis,
    paper_despite_electronic,
    paper_result_digitized,
    result_signatures,
)

__all__ = [
    "RULES",
    "AuditContext",
    "Recorded",
    "Rule",
    "RuleFinding",
    "audit_dossier",
    "due_date_recomputed",
    "replay",
]

RULES: tuple[Rule, ...] = (
    late_without_apology,
    apology_misuse,
    supplement_misuse,
    due_date_recomputed,
    handling_latency,
    inputs_digitized,
    paper_despite_electronic,
    paper_copy_basis,
    result_signatures,
    paper_result_digitized,
    fees,
    revocation_due,
    self_declared_unaudited,
    segregation_of_duties,
)


def audit_dossier(history: Sequence[Recorded], ctx: AuditContext) -> list[RuleFinding]:
    """Every rule over one dossier's history (in stream order)."""
    state, findings = replay(history, ctx.book)
    for rule in RULES:
        findings.extend(rule(history, state, ctx))
    return findings
