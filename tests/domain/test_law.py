"""The law in force as versioned data, and the findings it makes right (issue 16 §1–§2).

Each test states the legal rule it checks; expected values come from the law's text (the
Civil Code's counting, the stopped clock while waiting on the applicant), computed through
the calendar, never pasted in.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.domain import commands as cmd
from ledger.domain import lifecycle as ev
from ledger.domain.calendar import VN_TZ, instant, local_date
from ledger.domain.calendar_data import load_calendar
from ledger.domain.dossier import evolve
from ledger.domain.due import compute_due, due_for_rule
from ledger.domain.jsondata import shipped_text
from ledger.domain.law import LawVersionUnknown, MalformedLaw, law_from_data, shipped_law
from ledger.domain.procedures_data import load_catalogue
from ledger.domain.rules import (
    RULES,
    AuditContext,
    audit_dossier,
    base,
    conduct,
    deadlines,
    electronic,
    replay,
)
from ledger.domain.state import DossierState, InputsMissing, LifecycleRuleBroken
from tests.domain.builder import (
    DAY,
    HANDLER,
    HOUR,
    LEADER,
    PORTAL,
    RECEPTION,
    SEAL,
    SYSTEM,
    FakeBook,
    History,
)

LAW = shipped_law()
CAL = load_calendar()
CAT = load_catalogue()
DOC = Path(__file__).resolve().parents[2] / "docs" / "domain.md"
CTX = AuditContext(book=FakeBook(), now_us=0)


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> int:
    return instant(datetime(y, m, d, hh, mm, tzinfo=VN_TZ))


def rules_at(history: History, now_us: int, ctx: AuditContext = CTX) -> list[str]:
    return sorted(f.rule for f in audit_dossier(history.items, replace(ctx, now_us=now_us)))


# --- the legal versions -------------------------------------------------------------


def test_decree_118_governs_from_1_july_2025_and_61_before() -> None:
    assert LAW.in_force(vn(2025, 6, 30, 23, 59)).id == "nd61-2018"
    assert LAW.in_force(vn(2025, 7, 1, 0, 0)).id == "nd118-2025"
    # the local date decides: 1 July 00:30 in Hanoi is still 30 June in UTC
    assert LAW.in_force(vn(2025, 7, 1, 0, 30)).id == "nd118-2025"
    with pytest.raises(LawVersionUnknown):
        LAW.in_force(vn(2010, 1, 4, 9))


def test_every_rule_has_a_basis_in_every_version_and_no_article_is_guessed() -> None:
    rule_ids = set(LAW.provisions)
    for version in LAW.versions:
        for rule in rule_ids:
            found = LAW.provision(rule, version.id)
            assert found is not None, (rule, version.id)
            if found.article is None:
                assert not found.verified
                assert "article unverified" in found.cite()
    sources = "".join(inspect.getsource(m) for m in (base, conduct, deadlines, electronic))
    assert set(re.findall(r'"(rule\.[a-z_]+)"', sources)) <= rule_ids


def test_docs_rule_table_cites_the_law_data() -> None:
    doc = DOC.read_text()
    for rule in LAW.provisions:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{rule}` |")), None)
        assert row is not None, rule
        for version in LAW.versions:
            provision = LAW.provision(rule, version.id)
            assert provision is not None
            assert provision.cite() in row, (rule, version.id)


def test_law_data_refuses_overlapping_versions_and_missing_provisions() -> None:
    data = json.loads(shipped_text("law.json"))
    overlapping = json.loads(json.dumps(data))
    overlapping["versions"][0]["in_force_to"] = "2025-07-01"
    with pytest.raises(MalformedLaw):
        law_from_data(overlapping)
    missing = json.loads(json.dumps(data))
    del missing["provisions"]["rule.apology_misuse"]["nd118-2025"]
    with pytest.raises(MalformedLaw):
        law_from_data(missing)
    guessed = json.loads(json.dumps(data))
    guessed["provisions"]["rule.apology_misuse"]["nd118-2025"]["verified"] = True
    with pytest.raises(MalformedLaw):
        law_from_data(guessed)  # verified with no article


def test_a_finding_cites_the_version_of_its_reception_date() -> None:
    for received, version in ((vn(2025, 6, 30, 9), "nd61-2018"), (vn(2025, 7, 1, 9), "nd118-2025")):
        h = History(clock=received - 3 * HOUR).submitted().inputs("TK", "GCS").received(due_in=DAY)
        found = audit_dossier(h.items, replace(CTX, now_us=h.clock + 3 * DAY))
        late = [f for f in found if f.rule == "rule.late_without_apology"]
        assert len(late) == 1
        assert late[0].law == version
        assert late[0].basis == LAW.cite("rule.late_without_apology", version)


# --- counting the first day (Civil Code 2015 Art. 147–148) ---------------------------


@pytest.mark.parametrize(
    ("code", "received"),
    [
        ("1.004194", vn(2026, 3, 2, 9)),  # Monday morning
        ("1.004194", vn(2026, 3, 2, 16, 59)),  # Monday, a minute before closing
        ("1.004194", vn(2026, 3, 6, 18)),  # Friday after hours
        ("1.004194", vn(2026, 2, 13, 10)),  # the day before Tết 2026
        ("1.001456", vn(2025, 1, 24, 9)),  # 8 working days across Tết 2025
        ("1.004194", vn(2025, 4, 25, 16)),  # across the swap Saturday 26/4/2025
        ("X.LAND001", vn(2025, 6, 30, 9)),  # under Decree 61/2018
    ],
)
def test_working_days_do_not_count_the_reception_day(code: str, received: int) -> None:
    """Art. 147(1): a period in days starts the day after the event; the Nth working day after
    the (electronic, rolled-forward) reception day is the last, ending with office hours."""
    procedure = CAT.get(code)
    found = compute_due(received_us=received, procedure=procedure, calendar=CAL)
    day = local_date(CAL.working_instant(received))
    counted: list[date] = []
    while len(counted) < procedure.time.amount:
        day = date.fromordinal(day.toordinal() + 1)
        if CAL.is_working_day(day):
            counted.append(day)
    assert local_date(found.due_us) == counted[-1]
    assert found.due_us == CAL.end_of_working_day(counted[-1])
    assert found.law_version == LAW.in_force(received).id
    # one function everywhere: recomputing gives the same instant
    again = due_for_rule(
        received_us=received,
        rule_version=found.rule_version,
        catalogue=CAT,
        calendar=CAL,
        law_version=found.law_version,
    )
    assert again == found


def test_a_result_on_the_last_day_after_the_hour_of_reception_is_on_time() -> None:
    """The wrong finding of the 8-hours reading: received Monday 09:00, 3 working days, the
    result at 15:00 on Thursday is within the period; the legacy counting (older ledgers that
    recorded no legal version) would have called it late."""
    received = vn(2026, 3, 2, 9)
    due = compute_due(received_us=received, procedure=CAT.get("1.004194"), calendar=CAL)
    resolved = vn(2026, 3, 5, 15)
    assert resolved <= due.due_us
    legacy = due_for_rule(
        received_us=received, rule_version=due.rule_version, catalogue=CAT, calendar=CAL
    )
    assert legacy.law_version is None
    assert resolved > legacy.due_us


def test_the_15h_rule_follows_the_version_in_force() -> None:
    for version in LAW.versions:
        assert version.counting.same_day_cutoff == "15:00"
    birth = CAT.get("1.001193")
    assert birth.time.cutoff == LAW.in_force(vn(2026, 3, 3)).counting.same_day_cutoff
    before = compute_due(received_us=vn(2026, 3, 3, 15), procedure=birth, calendar=CAL)
    after = compute_due(received_us=vn(2026, 3, 3, 15) + 1, procedure=birth, calendar=CAL)
    assert local_date(before.due_us) == date(2026, 3, 3)
    assert local_date(after.due_us) == CAL.next_working_day(date(2026, 3, 3))


def test_law_version_recorded_must_be_the_one_in_force() -> None:
    h = History(clock=vn(2025, 7, 1, 8)).submitted().inputs("TK", "GCS")
    at = h.clock + HOUR
    h.add(
        ev.RECEIVED,
        (RECEPTION,),
        at=at,
        received_us=at,
        receipt_hash=bytes(32),
        clock_start_us=at,
        due_us=at + DAY,
        rule_version="test/1",
        calendar_version="cal/1",
        law_version="nd61-2018",
    )
    assert "rule.law_version_mismatch" in rules_at(h, at + HOUR)


# --- the pause-aware clock ----------------------------------------------------------


def _in_process(due_in: int = DAY) -> History:
    return History().submitted().inputs("TK", "GCS").received(due_in=due_in).assigned()


@pytest.mark.parametrize("pause", ["supplement", "payment"])
def test_time_waiting_on_the_applicant_does_not_count(pause: str) -> None:
    """Paused before the due date: not overdue and not late however long the wait; once the
    wait ends the due date moves by the paused time, and resolution by it is on time."""
    h = _in_process()
    if pause == "supplement":
        h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["mờ"])
    else:
        h.add(ev.FEE_REQUESTED, (HANDLER,), amount_vnd=8000)
    state = _fold(h)
    long_after = h.due() + 30 * DAY
    assert state.paused_since_us is not None
    assert state.pause_kind == pause
    assert not state.overdue(long_after)
    assert state.overdue_from() is None
    assert rules_at(h, long_after) == []
    paused = state.paused_since_us
    resumed = paused + 10 * DAY
    new_due = h.due() + (resumed - paused)
    if pause == "supplement":
        h.add(ev.SUPPLEMENT_RECEIVED, (RECEPTION,), at=resumed, items=["GCS"], due_us=new_due)
    else:
        h.add(
            ev.FEE_PAID, (SYSTEM,), at=resumed, amount_vnd=8000, receipt_ref="BL-1", due_us=new_due
        )
    assert _fold(h).due_us == new_due
    h.result(at=new_due - HOUR).delivered()
    assert rules_at(h, new_due + DAY) == []


def test_a_pause_that_began_after_the_due_date_does_not_excuse() -> None:
    h = _in_process()
    h.add(ev.FEE_REQUESTED, (HANDLER,), at=h.due() + HOUR, amount_vnd=8000)
    state = _fold(h)
    assert state.overdue(h.due() + 2 * HOUR)
    assert state.overdue_from() == h.due()
    assert "rule.late_without_apology" in rules_at(h, h.due() + 10 * DAY)


def test_a_payment_cannot_bring_the_due_date_forward() -> None:
    h = _in_process()
    h.add(ev.FEE_REQUESTED, (HANDLER,), amount_vnd=8000)
    state = _fold(h)
    draft = cmd.record_payment(state, amount_vnd=8000, receipt_ref="BL", due_us=h.due() - HOUR)
    body = replace(
        h.items[-1].body, n=state.n + 1, type=draft.type, payload=draft.payload, actor=SYSTEM.actor
    )
    with pytest.raises(LifecycleRuleBroken):
        evolve(state, body, (SYSTEM,), FakeBook())


# --- apologies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "signers", "payload", "moved"),
    [
        (ev.APOLOGY_ACCEPTED, (PORTAL,), {}, True),
        (ev.APOLOGY_REFUSED, (PORTAL,), {"reason": "không đồng ý"}, False),
        (ev.APOLOGY_WITHDRAWN, (LEADER, SEAL), {"reason": "nhầm"}, False),
    ],
)
def test_an_apology_moves_the_deadline_only_while_in_force(
    answer: str, signers: tuple[Any, ...], payload: dict[str, Any], moved: bool
) -> None:
    """An apology issued before the due date sets the new date; a refused or withdrawn one
    never moved it: resolution after the old date is then late without apology."""
    h = _in_process()
    due = h.due()
    new_due = due + 3 * DAY
    h.add(ev.APOLOGY, (LEADER, SEAL), at=due - HOUR, reason="chờ xác minh", new_due_us=new_due)
    assert _fold(h).due_us == new_due
    h.add(answer, signers, at=due - HOUR // 2, **payload)
    state = _fold(h)
    assert state.due_us == (new_due if moved else due)
    assert state.apology_in_force == moved
    h.result(at=due + DAY).delivered()
    late = "rule.late_without_apology" in rules_at(h, due + 5 * DAY)
    assert late == (not moved)


def test_an_answer_needs_an_apology_in_force() -> None:
    h = _in_process()
    h.add(ev.APOLOGY_REFUSED, (PORTAL,))
    assert "rule.illegal_event" in rules_at(h, h.clock + HOUR)


# --- reuse and national databases ---------------------------------------------------


def test_national_database_documents_are_valid_inputs_and_never_asked_on_paper() -> None:
    """Citizen identity and residence come from the national databases: fetched, they are a
    valid electronic input; asked for (Form 02) or scanned from paper, they are a finding."""
    assert CAT.national_database("CCCD") is not None
    ctx = replace(CTX, national_database=CAT.national_database)
    h = History().submitted().inputs("TK", "GCS")
    h.add(
        ev.INPUT,
        (RECEPTION,),
        component="CCCD",
        document_hash=bytes(32),
        source="national_database",
        source_ref="CSDLQGDC",
    )
    h.received().assigned()
    assert rules_at(h, h.clock + HOUR, ctx) == []
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["XAC_NHAN_CU_TRU"], reasons=["thiếu"])
    assert rules_at(h, h.clock + HOUR, ctx) == ["rule.paper_despite_electronic"]
    scanned = History().submitted().inputs("TK", "GCS", "BAN_SAO_CCCD").received()
    assert rules_at(scanned, scanned.clock + HOUR, ctx) == ["rule.paper_despite_electronic"]


def test_a_national_database_input_must_name_its_database() -> None:
    h = History().submitted()
    h.add(
        ev.INPUT,
        (RECEPTION,),
        component="CCCD",
        document_hash=bytes(32),
        source="national_database",
    )
    assert "rule.illegal_event" in rules_at(h, h.clock + HOUR)


# --- errors that say what is wrong ----------------------------------------------------


def test_reception_with_inputs_missing_is_domain_inputs_missing() -> None:
    state = _fold(History().submitted().inputs("TK"))
    with pytest.raises(InputsMissing) as info:
        cmd.receive_dossier(
            state,
            received_us=0,
            clock_start_us=0,
            due_us=0,
            rule_version="x",
            calendar_version="y",
            receipt_hash=bytes(32),
            required=frozenset({"TK", "GCS"}),
        )
    assert info.value.check == "domain.inputs_missing"
    assert "GCS" in info.value.detail


# --- what the audit did not see -------------------------------------------------------


def test_guidance_to_supplement_given_twice() -> None:
    """Form 02 once and in full: guidance at reception, then a supplement request, is twice."""
    h = History().submitted()
    h.add(ev.GUIDANCE, (RECEPTION,), missing=["GCS"], reasons=["thiếu"])
    h.submitted().inputs("TK", "GCS").received().assigned()
    assert rules_at(h, h.clock + HOUR) == []
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["TK"], reasons=["mờ"])
    assert rules_at(h, h.clock + HOUR) == ["rule.guidance_repeated"]


def test_reception_time_implausible() -> None:
    h = History().submitted().inputs("TK", "GCS")
    submitted = h.items[0].body.time_us
    at = h.clock + HOUR
    for received, expect in ((submitted - DAY, True), (at + 30 * DAY, True), (at, False)):
        g = History(items=list(h.items), clock=h.clock)
        g.add(
            ev.RECEIVED,
            (RECEPTION,),
            at=at,
            received_us=received,
            receipt_hash=bytes(32),
            clock_start_us=max(received, at),
            due_us=max(received, at) + DAY,
            rule_version="test/1",
            calendar_version="cal/1",
        )
        found = "rule.reception_time_implausible" in rules_at(g, at + HOUR)
        assert found == expect, received


def test_every_rule_function_is_run() -> None:
    assert len(set(RULES)) == len(RULES)


def _fold(h: History) -> DossierState:
    state, refused = replay(h.items, FakeBook())
    assert state is not None
    assert not refused
    return state


def test_a_transfer_to_an_agency_outside_the_catalogue() -> None:
    h = _in_process()
    h.add(ev.TRANSFERRED, (HANDLER,), to_agency="H26.NOWHERE", step="xác minh", allowance_hours=8)
    assert "rule.transfer_unknown_agency" not in rules_at(h, h.clock + HOUR)  # no catalogue
    known = replace(CTX, known_agency={"H26.10.02"}.__contains__)
    assert "rule.transfer_unknown_agency" in rules_at(h, h.clock + HOUR, known)
    fine = _in_process()
    fine.add(ev.TRANSFERRED, (HANDLER,), to_agency="H26.10.02", step="xác minh", allowance_hours=8)
    assert "rule.transfer_unknown_agency" not in rules_at(fine, fine.clock + HOUR, known)
