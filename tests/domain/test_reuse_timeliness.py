"""Reuse of earlier results, and on-time / early / late per dossier and per step."""

from __future__ import annotations

from dataclasses import replace

from ledger.domain import lifecycle as ev
from ledger.domain.procedures_data import load_catalogue
from ledger.domain.reuse import ReuseIndex
from ledger.domain.rules import AuditContext, audit_dossier
from ledger.domain.timeliness import timeliness
from tests.domain.builder import (
    BOOK,
    DAY,
    HANDLER,
    HOUR,
    OTHER,
    OTHER_HANDLER,
    History,
    fold,
)


def hours(a: int, b: int) -> float:
    return (b - a) / HOUR


def test_catalogue_says_which_results_stand_in_for_a_component() -> None:
    catalogue = load_catalogue()
    assert "land_use_right_certificate" in catalogue.reusable_from("GIAY_TO_CHO_O_HOP_PHAP")
    assert catalogue.reusable_from("TO_KHAI_KHAI_SINH") == frozenset()


def test_index_finds_valid_results_of_the_same_applicant_only() -> None:
    earlier = History(stream="LAND-1").happy()
    land = replace(
        fold(earlier.items),
        results={
            number: replace(result, result_type="land_use_right_certificate")
            for number, result in fold(earlier.items).results.items()
        },
    )
    index = ReuseIndex.build([land], load_catalogue().reusable_from)
    assert [r.dossier for r in index.results_for(land.applicant, "GIAY_TO_CHO_O_HOP_PHAP")] == [
        "LAND-1"
    ]
    issued = min(r.issued_us for r in land.results.values())
    assert index.reusable(land.applicant, "GIAY_TO_CHO_O_HOP_PHAP", issued)
    assert not index.reusable(land.applicant, "GIAY_TO_CHO_O_HOP_PHAP", issued - 1)  # not yet
    assert not index.reusable(bytes(32), "GIAY_TO_CHO_O_HOP_PHAP", issued)  # another applicant
    assert not index.reusable(land.applicant, "TO_KHAI_CT01", issued)  # nothing stands in for it
    revoked_at = issued + 10 * 3_600_000_000
    revoked = replace(
        land,
        results={
            n: replace(r, status="revoked", ended_us=revoked_at) for n, r in land.results.items()
        },
    )
    by_revoked = ReuseIndex.build([revoked], load_catalogue().reusable_from)
    # valid between its issue and its revocation, and judged by that span, not by today
    assert by_revoked.reusable(land.applicant, "GIAY_TO_CHO_O_HOP_PHAP", revoked_at - 1)
    assert not by_revoked.reusable(land.applicant, "GIAY_TO_CHO_O_HOP_PHAP", revoked_at)
    assert by_revoked.results_for(land.applicant, "GIAY_TO_CHO_O_HOP_PHAP") == []


def test_reuse_index_drives_the_paper_despite_electronic_rule() -> None:
    earlier = fold(History(stream="LAND-1").happy().items)
    land = replace(
        earlier,
        results={
            n: replace(r, result_type="land_use_right_certificate")
            for n, r in earlier.results.items()
        },
    )
    index = ReuseIndex.build([land], load_catalogue().reusable_from)
    later = History(stream="RES-2").submitted().inputs("TK", "GCS").received().assigned()
    later.add(
        ev.SUPPLEMENT_REQUESTED,
        (HANDLER,),
        items=["GIAY_TO_CHO_O_HOP_PHAP"],
        reasons=["Nộp bản giấy sổ đỏ"],
    )
    ctx = AuditContext(book=BOOK, now_us=later.clock + HOUR, reusable=index.reusable)
    assert [f.rule for f in audit_dossier(later.items, ctx)] == ["rule.paper_despite_electronic"]


def test_dossier_timeliness_uses_the_due_date_after_pauses() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=2 * DAY).assigned()
    h.result(at=h.due() - HOUR)
    assert timeliness(fold(h.items), working_hours_between=hours).dossier == "on_time"
    e = History().submitted().inputs("TK", "GCS").received(due_in=2 * DAY).assigned()
    e.result(at=e.due() - DAY - HOUR)
    assert timeliness(fold(e.items), working_hours_between=hours).dossier == "early"
    late = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    late.result(at=late.due() + HOUR)
    assert timeliness(fold(late.items), working_hours_between=hours).dossier == "late"
    open_ = History().submitted().inputs("TK", "GCS").received().assigned()
    assert timeliness(fold(open_.items), working_hours_between=hours).dossier is None


def test_step_timeliness() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    for used, expected in ((4, "early"), (15, "on_time"), (20, "late")):
        h.add(ev.TRANSFERRED, (HANDLER,), to_agency=OTHER, step=f"{used}h", allowance_hours=16)
        h.add(ev.ACKNOWLEDGED, (OTHER_HANDLER,), agency=OTHER)
        h.add(ev.RETURNED, (OTHER_HANDLER,), at=h.clock + used * HOUR, agency=OTHER, outcome="ok")
        last = timeliness(fold(h.items), working_hours_between=hours).steps[-1]
        assert (last.step, last.used_hours, last.outcome) == (f"{used}h", used, expected)
    h.add(ev.TRANSFERRED, (HANDLER,), to_agency=OTHER, step="open", allowance_hours=16)
    assert len(timeliness(fold(h.items), working_hours_between=hours).steps) == 3
