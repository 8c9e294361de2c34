"""Decision 766 statistics against hand-computed fixtures (both backends).

Six temporary-residence dossiers (1.004194: 3 working days) at the police
office, all received on Monday 2026-03-02 at 09:00 Hanoi time, so each is due
on Thursday 2026-03-05 at 17:00 (the Civil Code counts the days after the
reception day: Tuesday, Wednesday, Thursday; docs/domain-time.md §3). Working
hours count from the clock start (07:00-11:30 and 13:30-17:00):

======  ==========================================  ==========  ================
dossier what happens                                timeliness  working hours
======  ==========================================  ==========  ================
EARLY   resolved Monday 14:30                       early       2.5 + 1 = 3.5
ONTIME  resolved Thursday 10:00                     on time     6 + 8 + 8 + 3 = 25
LATE    resolved Friday 08:00, no apology           late        6 + 8 + 8 + 8 + 1 = 31
SORRY   apology Wednesday 10:00 (new date Friday    late,       31
        17:00), resolved Friday 08:00               rescheduled
GONE    withdrawn Tuesday 09:00                     -           -
STUCK   submitted at the counter, never resolved    -           -
======  ==========================================  ==========  ================

So for (police, 1.004194, 2026-03): received 6, online 5 (share 5/6), resolved 4
(early 1, on time 1, late 2 of which rescheduled 1), withdrawn 1, stopped 0,
mean (3.5 + 25 + 31 + 31) / 4 = 22.625 h, p90 by nearest rank = the 4th of 4 =
31 h; at Friday 12:00 one dossier is currently overdue (STUCK).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from ledger.demo.office import POLICE, digest
from ledger.domain import commands as cmd
from ledger.domain.calendar import VN_TZ, instant
from projections import queries
from projections.runner import Follower, select_views
from projections.views.statistics import p90
from tests.projections.ledger_kit import CATALOGUE, Kit

pytestmark = pytest.mark.integration

PROCEDURE = "1.004194"
C = {  # the dossiers of the table above, by name
    "EARLY": "000.60.02.H26-260302-0001",
    "ONTIME": "000.60.02.H26-260302-0002",
    "LATE": "000.60.02.H26-260302-0003",
    "SORRY": "000.60.02.H26-260302-0004",
    "GONE": "000.60.02.H26-260302-0005",
    "STUCK": "000.60.02.H26-260302-0006",
}


def at(day: int, hour: int, minute: int = 0) -> int:
    return instant(datetime(2026, 3, day, hour, minute, tzinfo=VN_TZ))


def open_received(kit: Kit, code: str, *, channel: str = "online") -> None:
    o = kit.office
    draft = cmd.submit_dossier(
        procedure=PROCEDURE, agency=POLICE, channel=channel, applicant=digest(code)
    )
    o.do(code, draft, "portal", at=at(2, 8))
    for i, component in enumerate(sorted(CATALOGUE.get(PROCEDURE).component_codes)):
        state = o.state(code)
        draft = cmd.digitize_input(
            state, component=component, document_hash=digest(component), source="scanned"
        )
        o.do(code, draft, "police.reception", at=at(2, 8, 10 + i))
    o.receive(code, at=at(2, 9))
    o.assign(code, department="QLHC", at=at(2, 9, 30))


def resolve(kit: Kit, code: str, when: int) -> None:
    kit.office.resolve(code, f"TT-{code}", "temporary_residence", at=when)


def build(kit: Kit) -> None:
    for code in (C["EARLY"], C["ONTIME"], C["LATE"], C["SORRY"], C["GONE"]):
        open_received(kit, code)
    open_received(kit, C["STUCK"], channel="counter")
    assert kit.office.state(C["EARLY"]).due_us == at(5, 17)
    resolve(kit, C["EARLY"], at(2, 14, 30))
    resolve(kit, C["ONTIME"], at(5, 10))
    resolve(kit, C["LATE"], at(6, 8))
    sorry = cmd.apologize_for_delay(
        kit.office.state(C["SORRY"]), reason="xác minh", new_due_us=at(6, 17), now_us=at(4, 10)
    )
    kit.office.do(C["SORRY"], sorry, "police.leader", at=at(4, 10), cosign="police.seal")
    resolve(kit, C["SORRY"], at(6, 8))
    kit.office.do(
        C["GONE"], cmd.request_withdrawal(kit.office.state(C["GONE"])), "portal", at=at(3, 8)
    )
    gone = cmd.accept_withdrawal(kit.office.state(C["GONE"]))
    kit.office.do(C["GONE"], gone, "police.reception", at=at(3, 9))


def test_decision_766_indicators_match_the_hand_computed_fixture(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    build(kit)
    follower.catch_up(page=3)
    rows = queries.statistics(kit.backend.sql, period="2026-03", now_us=at(6, 12))
    assert len(rows) == 1
    got = {k: v for k, v in rows[0].items() if k not in ("agency", "procedure", "period")}
    assert (rows[0]["agency"], rows[0]["procedure"]) == (POLICE, PROCEDURE)
    assert got == {
        "received": 6,
        "received_online": 5,
        "online_share": round(5 / 6, 6),
        "resolved": 4,
        "early": 1,
        "on_time": 1,
        "late": 2,
        "late_rescheduled": 1,
        "withdrawn": 1,
        "stopped": 0,
        "mean_hours": 22.625,
        "p90_hours": 31.0,
        "currently_overdue": 1,
    }
    sorry = queries.get_dossier(kit.backend.sql, C["SORRY"])
    assert sorry is not None
    assert (sorry["timeliness"], sorry["rescheduled"], sorry["due_us"]) == ("late", 1, at(6, 17))
    assert sorry["legal_due_us"] == at(5, 17)
    # Before the dossiers were late, nothing was overdue:
    assert (
        queries.statistics(kit.backend.sql, period="2026-03", now_us=at(4, 12))[0][
            "currently_overdue"
        ]
        == 0
    )
    assert queries.statistics(kit.backend.sql, period="2026-04", now_us=at(6, 12)) == []


def test_the_overdue_queue_and_the_inbox(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    build(kit)
    follower.catch_up()
    sql = kit.backend.sql
    assert queries.overdue_queue(sql, now_us=at(4, 12)).rows == []
    soon = queries.overdue_queue(sql, now_us=at(4, 12), horizon_us=at(5, 17) - at(4, 12))
    assert [(r["code"], r["overdue"]) for r in soon.rows] == [(C["STUCK"], False)]
    late = queries.overdue_queue(sql, now_us=at(6, 12))
    assert [(r["code"], r["overdue"], r["late_by_us"]) for r in late.rows] == [
        (C["STUCK"], True, at(6, 12) - at(5, 17))
    ]
    inbox = queries.inbox(sql, POLICE)
    assert [r["code"] for r in inbox.rows] == [C["STUCK"]]
    assert queries.inbox(sql, "H26.NOBODY").rows == []


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([5.0]) == 5.0
    assert p90([float(v) for v in range(1, 11)]) == 9.0
    assert p90([float(v) for v in range(1, 12)]) == 10.0


def test_a_dossier_waiting_on_the_applicant_is_not_overdue(kit: Kit) -> None:
    """The pause-aware clock in the views: a supplement or a fee asked for before the due date
    stops the clock, so neither the overdue queue nor the statistics count the dossier while
    it waits; one that was asked after the due date stays overdue."""
    follower = Follower(kit.engine, select_views(None))
    waiting, fee, late = (f"000.60.02.H26-260302-01{i:02d}" for i in range(3))
    for code in (waiting, fee, late):
        open_received(kit, code)
    o = kit.office
    o.do(
        waiting,
        cmd.request_supplement(o.state(waiting), items=["TO_KHAI_CT01"], reasons=["mờ"]),
        "police.handler",
        at=at(4, 10),
    )
    o.do(fee, cmd.request_fee(o.state(fee), amount_vnd=8000), "police.handler", at=at(4, 10))
    o.do(
        late,
        cmd.request_supplement(o.state(late), items=["TO_KHAI_CT01"], reasons=["mờ"]),
        "police.handler",
        at=at(6, 9),
    )
    follower.catch_up()
    sql = kit.backend.sql
    weeks_later = at(20, 12)
    rows = queries.statistics(sql, period="2026-03", now_us=weeks_later)
    assert rows[0]["currently_overdue"] == 1
    assert [r["code"] for r in queries.overdue_queue(sql, now_us=weeks_later).rows] == []
    for code, overdue in ((waiting, False), (fee, False), (late, True)):
        row = queries.get_dossier(sql, code)
        assert row is not None
        assert (row["overdue_from_us"] is not None) == overdue, code
        assert o.state(code).overdue(weeks_later) == overdue, code
