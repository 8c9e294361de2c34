"""Reuse of earlier electronic results (Directive 08: no paper asked for twice).

Results of an applicant's earlier dossiers are indexed by the applicant's
commitment and the result type; a later dossier's component that the
catalogue says a result type can stand in for is then "reusable", and asking
the citizen for it on paper is the finding ``rule.paper_despite_electronic``.
Pure: build it from dossier states; the projections persist the same index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ledger.domain.state import DossierState


@dataclass(frozen=True, slots=True)
class ReusableResult:
    dossier: str
    number: str
    result_type: str
    issued_us: int


@dataclass
class ReuseIndex:
    """applicant commitment → result type → that applicant's valid results."""

    reusable_from: Callable[[str], frozenset[str]]
    _results: dict[bytes, dict[str, list[ReusableResult]]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, states: Iterable[DossierState], reusable_from: Callable[[str], frozenset[str]]
    ) -> ReuseIndex:
        index = cls(reusable_from)
        for state in states:
            index.add(state)
        return index

    def add(self, state: DossierState) -> None:
        """Index the dossier's valid, granted results (revoked or superseded ones never count)."""
        for result in state.results.values():
            if result.status != "valid" or result.outcome != "granted":
                continue
            by_type = self._results.setdefault(state.applicant, {})
            by_type.setdefault(result.result_type, []).append(
                ReusableResult(state.code, result.number, result.result_type, result.issued_us)
            )

    def results_for(self, applicant: bytes, component: str) -> list[ReusableResult]:
        """The applicant's valid results that can stand in for ``component``."""
        kinds = self.reusable_from(component)
        by_type = self._results.get(applicant, {})
        return [r for kind in sorted(kinds) for r in by_type.get(kind, [])]

    def reusable(self, applicant: bytes, component: str) -> bool:
        """The ``AuditContext.reusable`` hook."""
        return bool(self.results_for(applicant, component))
