"""Reuse of earlier electronic results (Directive 08: no paper asked for twice).

Results of an applicant's earlier dossiers are indexed by the applicant's
commitment and the result type, each with the span in which it was valid
(issued → revoked or superseded). A later dossier's component that the
catalogue says a result type can stand in for is "reusable" *at an instant* if
such a result was valid then: whether an agency could ask for paper is judged
by what was valid and available at the moment it asked, never by today's state.
Asking the citizen for it on paper is the finding ``rule.paper_despite_electronic``.
Pure: build it from dossier states; the verifier builds the same index from the
dossiers it reads.
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
    ended_us: int | None = None  # revoked or superseded at; None: still valid

    def valid_at(self, t_us: int) -> bool:
        return self.issued_us <= t_us and (self.ended_us is None or t_us < self.ended_us)


@dataclass
class ReuseIndex:
    """applicant commitment → result type → that applicant's granted results, with spans."""

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
        """Index the dossier's granted results with the span each was valid in (a revoked or
        superseded result counts only before it was revoked or superseded)."""
        for result in state.results.values():
            if result.outcome != "granted":
                continue
            by_type = self._results.setdefault(state.applicant, {})
            by_type.setdefault(result.result_type, []).append(
                ReusableResult(
                    state.code, result.number, result.result_type, result.issued_us, result.ended_us
                )
            )

    def results_for(
        self, applicant: bytes, component: str, at_us: int | None = None
    ) -> list[ReusableResult]:
        """The applicant's results that can stand in for ``component``, valid at ``at_us``
        (None: valid now, i.e. neither revoked nor superseded)."""
        kinds = self.reusable_from(component)
        by_type = self._results.get(applicant, {})
        found = [r for kind in sorted(kinds) for r in by_type.get(kind, [])]
        if at_us is None:
            return [r for r in found if r.ended_us is None]
        return [r for r in found if r.valid_at(at_us)]

    def reusable(self, applicant: bytes, component: str, at_us: int) -> bool:
        """The ``AuditContext.reusable`` hook: was a result valid for it at ``at_us``?"""
        return bool(self.results_for(applicant, component, at_us))
