"""Decision 766 indicators (issue 16 §4): each rate is what the ledger proves, by definition."""

from __future__ import annotations

from ledger.core.encoding import Value
from ledger.domain import lifecycle as ev
from ledger.domain.indicators import NOT_COMPUTED, SPECS, Indicators, period
from ledger.domain.rules import replay
from ledger.domain.state import DossierState
from tests.domain.builder import DAY, HANDLER, SEAL, SYSTEM, FakeBook, History


def fold(h: History) -> DossierState:
    state, refused = replay(h.items, FakeBook())
    assert state is not None
    assert refused == []
    return state


def fee_of(h: History) -> tuple[int, str | None] | None:
    paid = [r.body for r in h.items if r.body.type == ev.FEE_PAID]
    if not paid:
        return None
    method = paid[-1].payload.get("method")
    return paid[-1].time_us, method if isinstance(method, str) else None


def paying(method: str | None) -> History:
    h = History(stream=f"PAY-{method}").submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.FEE_REQUESTED, (HANDLER,), amount_vnd=8000)
    payload: dict[str, Value] = {"amount_vnd": 8000, "receipt_ref": "BL"}
    if method is not None:
        payload["method"] = method
    h.record(ev.FEE_PAID, (SYSTEM,), payload)
    return h


def rows_by_id(indicators: Indicators) -> dict[str, dict[str, object]]:
    return {str(r["indicator"]): r for r in indicators.rows()}


def test_a_fee_paid_at_the_counter_or_unrecorded_is_not_online() -> None:
    out = Indicators()
    for method in ("online", "counter", None):
        h = paying(method)
        out.add(fold(h), fee_paid=fee_of(h))
    row = rows_by_id(out)["online_payment_rate"]
    assert (row["numerator"], row["denominator"]) == (1, 3)
    assert row["not_counted"] == ["PAY-counter", "PAY-None"]


def test_on_time_rate_counts_resolved_dossiers_by_the_due_date_after_pauses() -> None:
    on_time = History(stream="OK").submitted().inputs("TK", "GCS").received(due_in=DAY)
    on_time.assigned().result()
    late = History(stream="LATE").submitted().inputs("TK", "GCS").received(due_in=DAY)
    late.assigned().result(at=late.due() + DAY)
    still_open = History(stream="OPEN").submitted().inputs("TK", "GCS").received()
    out = Indicators()
    for h in (on_time, late, still_open):
        out.add(fold(h), required=frozenset({"TK", "GCS"}))
    rows = rows_by_id(out)
    assert (rows["on_time_rate"]["numerator"], rows["on_time_rate"]["denominator"]) == (1, 2)
    assert rows["on_time_rate"]["not_counted"] == ["LATE"]
    inputs = rows["digitised_inputs_rate"]
    assert (inputs["numerator"], inputs["denominator"]) == (3, 3)


def test_results_count_as_digitised_when_electronic_or_scanned_after_issue() -> None:
    paper = History(stream="PAPER").submitted().inputs("TK", "GCS").received().assigned()
    paper.result(medium="paper")
    scanned = History(stream="SCANNED").submitted().inputs("TK", "GCS").received().assigned()
    scanned.result(medium="paper")
    scanned.add(ev.RESULT_DIGITIZED, (SEAL,), result_number="KS-1", document_hash=bytes(32))
    out = Indicators()
    for h in (paper, scanned):
        out.add(fold(h))
    row = rows_by_id(out)["digitised_results_rate"]
    assert (row["numerator"], row["denominator"], row["not_counted"]) == (1, 2, ["PAPER"])


def test_periods_are_vietnam_months_and_the_uncomputable_are_named() -> None:
    h = History().submitted()
    state = fold(h)
    assert period(state.submitted_us) == "2026-01"
    assert {s.id for s in SPECS} == {
        "on_time_rate",
        "digitised_inputs_rate",
        "digitised_results_rate",
        "online_payment_rate",
        "online_submission_rate",
    }
    assert {group for group, *_ in NOT_COMPUTED} == {1, 4, 5}
    assert all(why for *_, why in NOT_COMPUTED)
