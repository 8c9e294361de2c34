"""The dossier state machine: transitions, roles, agencies, and what it refuses."""

from __future__ import annotations

import pytest

from ledger.core.encoding import Value
from ledger.core.errors import HosoError
from ledger.domain import lifecycle as ev
from ledger.domain.dossier import evolve, start
from ledger.domain.lifecycle import State
from ledger.domain.payloads import MalformedPayload
from ledger.domain.state import (
    IllegalTransition,
    InputsMissing,
    LifecycleRuleBroken,
    SignerInfo,
    WrongAgency,
    WrongRole,
)
from tests.domain.builder import (
    BOOK,
    DAY,
    H32,
    HANDLER,
    HOUR,
    INSPECTOR,
    LEADER,
    OTHER,
    OTHER_HANDLER,
    PORTAL,
    RECEPTION,
    SEAL,
    SYSTEM,
    History,
    fold,
    result_payload,
)


def test_happy_path_states_and_portal_codes() -> None:
    h = History().happy()
    codes = []
    state = start(h.items[0].body, h.items[0].signers)
    codes.append(state.portal_code)
    for item in h.items[1:]:
        state = evolve(state, item.body, item.signers, BOOK)
        codes.append(state.portal_code)
    assert codes == [1, 1, 1, 2, 4, 9, 10]
    assert state.state is State.DELIVERED
    assert state.results["KS-1"].delivered_channel == "vneid"
    assert state.received_us is not None
    assert state.due_us == state.original_due_us


def test_reception_needs_every_required_component() -> None:
    h = History().submitted().inputs("TK").received()
    with pytest.raises(InputsMissing) as info:
        fold(h.items)
    assert info.value.check == "domain.inputs_missing"
    assert info.value.expected == ["GCS", "TK"]
    assert info.value.found == ["TK"]


def test_guidance_then_resubmission_then_refusal() -> None:
    h = History().submitted()
    h.add(ev.GUIDANCE, (RECEPTION,), missing=["GCS"], reasons=["Thiếu giấy chứng sinh"])
    state = fold(h.items)
    assert state.state is State.RECEPTION_GUIDANCE
    assert state.portal_code is None
    h.submitted()
    h.add(ev.REFUSED, (RECEPTION,), reasons=["Không thuộc thẩm quyền"])
    assert fold(h.items).state is State.REFUSED_AT_RECEPTION


@pytest.mark.parametrize(
    ("kind", "signers", "payload"),
    [
        (
            ev.RECEIVED,
            (RECEPTION,),
            {
                "received_us": 1,
                "receipt_hash": H32,
                "clock_start_us": 1,
                "due_us": 2,
                "rule_version": "r",
                "calendar_version": "c",
            },
        ),
        (
            ev.RESULT_ISSUED,
            (LEADER, SEAL),
            {
                "result_number": "X",
                "result_type": "t",
                "document_hash": H32,
                "outcome": "granted",
                "medium": "electronic",
            },
        ),
        (ev.DELIVERED, (RECEPTION,), {"result_number": "KS-1", "channel": "vneid"}),
    ],
)
def test_events_after_a_terminal_state_are_illegal(
    kind: str, signers: tuple[SignerInfo, ...], payload: dict[str, Value]
) -> None:
    h = History().happy()
    h.record(kind, signers, payload)
    with pytest.raises(IllegalTransition) as info:
        fold(h.items)
    assert info.value.check == "domain.transition"
    assert info.value.found == "delivered"


def test_wrong_role_and_missing_seal() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.record(ev.RESULT_ISSUED, (HANDLER,), result_payload("X"))
    with pytest.raises(WrongRole) as info:
        fold(h.items)
    assert info.value.expected == ["leader"]
    h.items.pop()
    h.record(ev.RESULT_ISSUED, (LEADER,), result_payload("X"))
    with pytest.raises(WrongRole) as seal:
        fold(h.items)
    assert seal.value.expected == "agency_seal"


def test_officer_of_another_agency_is_rejected_unless_transferred_to() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.STEP, (OTHER_HANDLER,), step="thẩm định")
    with pytest.raises(WrongAgency) as info:
        fold(h.items)
    assert info.value.check == "domain.agency"
    h.items.pop()
    h.add(ev.TRANSFERRED, (HANDLER,), to_agency=OTHER, step="xác minh", allowance_hours=16)
    h.add(ev.ACKNOWLEDGED, (OTHER_HANDLER,), agency=OTHER)
    h.add(ev.STEP, (OTHER_HANDLER,), step="xác minh")
    h.add(ev.RETURNED, (OTHER_HANDLER,), agency=OTHER, outcome="đủ điều kiện")
    state = fold(h.items)
    assert state.transfers[0].returned_us is not None
    assert state.current_agency == state.agency
    h.add(ev.ACKNOWLEDGED, (OTHER_HANDLER,), agency=OTHER)
    with pytest.raises(LifecycleRuleBroken):
        fold(h.items)


def test_supplement_pauses_once_only() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["Ảnh mờ"])
    paused = fold(h.items)
    assert paused.state is State.AWAITING_SUPPLEMENT
    assert paused.portal_code == 5
    assert paused.paused_since_us is not None
    h.inputs("GCS")
    h.add(ev.SUPPLEMENT_RECEIVED, (RECEPTION,), items=["GCS"], due_us=h.due() + DAY)
    resumed = fold(h.items)
    assert resumed.state is State.IN_PROCESS
    assert resumed.due_us == h.due() + DAY
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["TK"], reasons=["again"])
    with pytest.raises(LifecycleRuleBroken) as info:
        fold(h.items)
    assert "only once" in info.value.detail


def test_apology_rules() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=2 * DAY).assigned()
    due = h.due()
    h.add(ev.APOLOGY, (LEADER, SEAL), reason="Chờ xác minh", new_due_us=due + DAY)
    state = fold(h.items)
    assert state.rescheduled
    assert state.due_us == due + DAY
    assert state.original_due_us == due
    h.add(ev.APOLOGY, (LEADER, SEAL), reason="again", new_due_us=due + 2 * DAY)
    with pytest.raises(LifecycleRuleBroken):
        fold(h.items)
    late = History().submitted().inputs("TK", "GCS").received(due_in=2 * DAY).assigned()
    late.add(
        ev.APOLOGY, (LEADER, SEAL), at=late.due() + HOUR, reason="late", new_due_us=late.due() + DAY
    )
    with pytest.raises(LifecycleRuleBroken) as info:
        fold(late.items)
    assert "before the due date" in info.value.detail


def test_payment_withdrawal_and_stop() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.FEE_REQUESTED, (HANDLER,), amount_vnd=8000)
    assert fold(h.items).portal_code == 6
    h.add(ev.FEE_PAID, (SYSTEM,), amount_vnd=8000, receipt_ref="HD-001")
    assert fold(h.items).state is State.IN_PROCESS
    w = History().submitted().inputs("TK", "GCS").received().assigned()
    w.add(ev.WITHDRAWAL_REQUESTED, (PORTAL,))
    assert fold(w.items).withdrawal_requested
    w.add(ev.WITHDRAWAL_ACCEPTED, (RECEPTION,))
    assert fold(w.items).portal_code == 7
    s = History().submitted().inputs("TK", "GCS").received().assigned()
    s.add(ev.STOPPED, (LEADER, SEAL), reasons=["Giả mạo giấy tờ"])
    assert fold(s.items).portal_code == 8


def test_revocation_and_correction_supersede_never_edit() -> None:
    h = History().happy()
    h.add(
        ev.CORRECTED,
        (LEADER, SEAL),
        supersedes="KS-1",
        result_number="KS-1a",
        document_hash=bytes(32),
        reason="Sai ngày sinh",
    )
    state = fold(h.items)
    assert state.results["KS-1"].status == "superseded"
    assert state.results["KS-1"].superseded_by == "KS-1a"
    assert state.results["KS-1a"].status == "valid"
    assert state.corrected
    h.add(ev.REVOKED, (LEADER, SEAL), result_number="KS-1a", decision_ref="QĐ-12", reason="x")
    assert fold(h.items).revoked
    h.add(ev.REVOKED, (LEADER, SEAL), result_number="KS-1", decision_ref="QĐ-13", reason="x")
    with pytest.raises(LifecycleRuleBroken):
        fold(h.items)


def test_post_audit_lifecycle() -> None:
    h = History().happy()
    h.add(ev.AUDIT_OPENED, (INSPECTOR,), audit="A-1", basis="sampled")
    assert fold(h.items).under_audit
    h.add(
        ev.FINDING,
        (INSPECTOR,),
        audit="A-1",
        finding="false_self_declaration",
        severity="major",
        detail="Tờ khai sai",
        revocation_due=True,
    )
    h.add(ev.AUDIT_CONCLUDED, (INSPECTOR,), audit="A-1", conclusion="vi phạm")
    state = fold(h.items)
    assert state.findings == (("A-1", "false_self_declaration", True),)
    assert not state.under_audit
    h.add(
        ev.FINDING,
        (INSPECTOR,),
        audit="A-1",
        finding="x",
        severity="info",
        detail="d",
        revocation_due=False,
    )
    with pytest.raises(LifecycleRuleBroken):
        fold(h.items)


def test_payload_schema_is_strict() -> None:
    h = History().submitted()
    h.add(ev.GUIDANCE, (RECEPTION,), missing=["GCS"], reasons=[], extra="x")
    with pytest.raises(MalformedPayload) as info:
        fold(h.items)
    assert "unknown fields ['extra']" in info.value.detail
    g = History().submitted()
    g.add(ev.GUIDANCE, (RECEPTION,), missing=["GCS"], reasons=[])
    with pytest.raises(MalformedPayload) as empty:
        fold(g.items)
    assert "reasons" in empty.value.detail


def test_first_event_must_be_a_submission() -> None:
    h = History()
    h.add(
        ev.RECEIVED,
        (RECEPTION,),
        received_us=1,
        receipt_hash=H32,
        clock_start_us=1,
        due_us=2,
        rule_version="r",
        calendar_version="c",
    )
    with pytest.raises(HosoError):
        fold(h.items)


def test_overdue_flag() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    state = fold(h.items)
    assert not state.overdue(h.due() - 1)
    assert state.overdue(h.due() + 1)
    h.result(at=h.due() - HOUR)
    resolved = fold(h.items)
    assert not resolved.overdue(h.due() + 10 * DAY)


def test_procedure_data_can_require_more_signatures() -> None:
    h = History().submitted(procedure="1.004194").inputs("TK").received()
    with pytest.raises(WrongRole) as info:
        fold(h.items)
    assert info.value.expected == "leader"
    ok = History().submitted(procedure="1.004194").inputs("TK")
    at = ok.clock + HOUR
    ok.add(
        ev.RECEIVED,
        (RECEPTION, LEADER),
        at=at,
        received_us=at,
        receipt_hash=H32,
        clock_start_us=at,
        due_us=at + DAY,
        rule_version="r",
        calendar_version="c",
    )
    assert fold(ok.items).state is State.RECEIVED


def test_stopping_during_a_supplement_pause_ends_the_pause() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["mờ"])
    h.add(ev.STOPPED, (LEADER, SEAL), reasons=["Quá hạn bổ sung"])
    state = fold(h.items)
    assert state.state is State.STOPPED
    assert state.paused_since_us is None
    assert state.finished_us == h.clock
