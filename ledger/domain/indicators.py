"""The figures agencies are scored on: Decision 766/QĐ-TTg indicators per agency and period,
computed from folded dossiers (docs/domain.md §Indicators).

Decision 766/QĐ-TTg (23 June 2022) scores service quality in five groups; the ledger proves
most of groups 2–4 and none of 1 and 5. Each indicator is a numerator over a denominator of
dossiers the ledger holds, with the codes of the dossiers that did not count (the evidence
an inspector opens first). "Digitised" and "paid online" follow Circular 01/2023/TT-VPCP:
an input is digitised when it entered as an electronic document (scanned and signed, a
certified or register copy, a national database, a reused result, self-declared); a result
when issued electronically or its paper version digitised; a fee is paid online only when the
ledger records ``method: online`` — a fee paid at the counter, or with no method recorded
(older ledgers), is not "online". Periods are months in Vietnam time, ``YYYY-MM``: of the
resolution for timeliness, of the reception for inputs, of the issue for results, of the
payment for fees, of the submission for the channel. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from ledger.domain.calendar import local_date
from ledger.domain.due import Classification, classify
from ledger.domain.state import DossierState

EVIDENCE_CAP: Final = 50


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    id: str
    group: int  # Decision 766's indicator group (1–5)
    name_vi: str
    name_en: str
    counts: str  # what the numerator / denominator count, in English


SPECS: Final = (
    IndicatorSpec(
        "on_time_rate",
        2,
        "Tỷ lệ hồ sơ giải quyết đúng hạn",
        "On-time rate",
        "resolved by the due date after pauses (early or on time) / resolved",
    ),
    IndicatorSpec(
        "digitised_inputs_rate",
        3,
        "Tỷ lệ số hóa hồ sơ đầu vào",
        "Digitisation rate of inputs",
        "received with every required component entered electronically / received",
    ),
    IndicatorSpec(
        "digitised_results_rate",
        3,
        "Tỷ lệ số hóa kết quả giải quyết",
        "Digitisation rate of results",
        "results issued electronically or digitised / results issued",
    ),
    IndicatorSpec(
        "online_payment_rate",
        4,
        "Tỷ lệ thanh toán trực tuyến",
        "Online-payment rate",
        "dossiers whose fee was paid online / dossiers with a fee paid",
    ),
    IndicatorSpec(
        "online_submission_rate",
        4,
        "Tỷ lệ hồ sơ nộp trực tuyến",
        "Online-submission rate",
        "submitted online / submitted",
    ),
)

NOT_COMPUTED: Final = (
    (
        1,
        "Công khai, minh bạch",
        "Transparency",
        "publication of procedures and of dossier status on the portals happens outside the "
        "ledger; the ledger can prove only that its own records are public-verifiable",
    ),
    (
        4,
        "Mức độ cung cấp dịch vụ công trực tuyến",
        "Level of online service provision",
        "whether a procedure is offered fully or partly online is the portal's configuration, "
        "not an event of a dossier",
    ),
    (
        5,
        "Mức độ hài lòng",
        "Satisfaction",
        "citizens' satisfaction is surveyed, not recorded in dossier events",
    ),
)
"""Indicators the ledger can't compute, and why."""


def period(t_us: int | None) -> str | None:
    if t_us is None:
        return None
    day = local_date(t_us)
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class Tally:
    numerator: int = 0
    denominator: int = 0
    missed: list[str] = field(default_factory=list)  # dossiers in the denominator only

    def add(self, code: str, *, counted: bool) -> None:
        self.denominator += 1
        if counted:
            self.numerator += 1
        elif len(self.missed) < EVIDENCE_CAP:
            self.missed.append(code)

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else round(self.numerator / self.denominator, 4)


@dataclass
class Indicators:
    """Counters per (indicator, agency, period); add dossiers one at a time (flat memory)."""

    tallies: dict[tuple[str, str, str], Tally] = field(default_factory=dict)

    def _tally(self, indicator: str, agency: str, when: int | None) -> Tally | None:
        month = period(when)
        if month is None:
            return None
        return self.tallies.setdefault((indicator, agency, month), Tally())

    def add(
        self,
        state: DossierState,
        *,
        fee_paid: tuple[int, str | None] | None = None,
        required: frozenset[str] | None = None,
        classify_dossier: Callable[[DossierState], Classification | None] | None = None,
    ) -> None:
        """Count one folded dossier. ``fee_paid`` is (time, method) of its payment, if any;
        ``required`` the procedure's required components (None: any input counts)."""
        agency = state.agency
        judged = (classify_dossier or _classification)(state)
        if judged is not None and (t := self._tally("on_time_rate", agency, state.resolved_us)):
            t.add(state.code, counted=judged != "late")
        if state.received_us is not None and (
            t := self._tally("digitised_inputs_rate", agency, state.received_us)
        ):
            held = set(state.components)
            t.add(state.code, counted=bool(held) if required is None else required <= held)
        for result in state.results.values():
            if t := self._tally("digitised_results_rate", agency, result.issued_us):
                t.add(state.code, counted=result.medium == "electronic" or result.digitized)
        if fee_paid is not None and (t := self._tally("online_payment_rate", agency, fee_paid[0])):
            t.add(state.code, counted=fee_paid[1] == "online")
        if t := self._tally("online_submission_rate", agency, state.submitted_us):
            t.add(state.code, counted=state.channel == "online")

    def rows(self) -> list[dict[str, object]]:
        """One row per indicator, agency and period, sorted."""
        out = []
        specs = {s.id: s for s in SPECS}
        for (indicator, agency, month), t in sorted(self.tallies.items()):
            spec = specs[indicator]
            out.append(
                {
                    "indicator": indicator,
                    "group": spec.group,
                    "agency": agency,
                    "period": month,
                    "numerator": t.numerator,
                    "denominator": t.denominator,
                    "rate": t.rate,
                    "not_counted": list(t.missed),
                }
            )
        return out


def _classification(state: DossierState) -> Classification | None:
    if state.resolved_us is None or state.legal_due_us is None:
        return None
    return classify(due_us=state.legal_due_us, resolved_us=state.resolved_us)


def indicators_of(
    states: Iterable[tuple[DossierState, tuple[int, str | None] | None]],
) -> Indicators:
    """Indicators over (state, fee payment) pairs."""
    out = Indicators()
    for state, fee in states:
        out.add(state, fee_paid=fee)
    return out
