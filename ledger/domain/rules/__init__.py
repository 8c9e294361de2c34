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
from dataclasses import replace

from ledger.domain.law import LawVersionUnknown
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
    law_version_recorded,
    reception_time_plausible,
    supplement_misuse,
)
from ledger.domain.rules.electronic import (
    PaperRequest,
    inputs_digitized,
    judge_paper_request,
    paper_copy_basis,
    paper_despite_electronic,
    paper_requests,
    paper_result_basis,
    paper_result_digitized,
    result_signatures,
)
from ledger.domain.state import DossierState

__all__ = [
    "RULES",
    "AuditContext",
    "PaperRequest",
    "Recorded",
    "Rule",
    "RuleFinding",
    "audit_dossier",
    "cite",
    "due_date_recomputed",
    "judge_paper_request",
    "law_of",
    "paper_requests",
    "replay",
]

RULES: tuple[Rule, ...] = (
    late_without_apology,
    apology_misuse,
    supplement_misuse,
    due_date_recomputed,
    law_version_recorded,
    reception_time_plausible,
    handling_latency,
    inputs_digitized,
    paper_despite_electronic,
    paper_copy_basis,
    paper_result_basis,
    result_signatures,
    paper_result_digitized,
    fees,
    revocation_due,
    self_declared_unaudited,
    segregation_of_duties,
)


def law_of(state: DossierState | None, ctx: AuditContext) -> str:
    """The legal version a dossier is judged by: the one in force on its reception date (its
    submission date if it was never received); "" if none covers that date."""
    if state is None:
        return ""
    try:
        return ctx.law.in_force(state.received_us or state.submitted_us).id
    except LawVersionUnknown:
        return ""


def cite(finding: RuleFinding, law: str, ctx: AuditContext) -> RuleFinding:
    """The finding with the legal version that applied and its basis for the rule."""
    if not law:
        return finding
    return replace(finding, law=law, basis=ctx.law.cite(finding.rule, law))


def audit_dossier(history: Sequence[Recorded], ctx: AuditContext) -> list[RuleFinding]:
    """Every rule over one dossier's history (in stream order), each finding citing the
    legal version in force on the dossier's reception date."""
    state, findings = replay(history, ctx.book)
    for rule in RULES:
        findings.extend(rule(history, state, ctx))
    law = law_of(state, ctx)
    return [cite(f, law, ctx) for f in findings]
