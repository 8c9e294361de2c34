"""Views on both backends: following page by page equals a rebuild from the log equals
the domain's pure fold; exactly-once tracking; notification-id gaps; the swap."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from ledger.core.encoding import Value
from ledger.demo.scenarios import SCENARIOS
from ledger.services.dossiers import fold
from projections import schema
from projections.fold import Folded
from projections.rebuild import rebuild
from projections.runner import Follower, select_views
from projections.views.dossiers import COLUMNS, dossier_row
from tests.projections.ledger_kit import CALENDAR, CATALOGUE, Kit, fresh_url, open_kit, table_rows

pytestmark = pytest.mark.integration

VIEW_TABLES = {
    "hoso_v_dossiers": "code",
    "hoso_v_statistics": "agency, procedure, period",
    "hoso_v_results": "dossier, number",
    "hoso_v_findings": "code, source, seq",
    "hoso_v_access_log": "position, entry",
    "hoso_v_erasures": "subject",
}


def snapshot(kit: Kit) -> dict[str, list[dict[str, Any]]]:
    return {t: table_rows(kit.backend, t, order) for t, order in VIEW_TABLES.items()}


def test_following_equals_rebuild_equals_the_domain_fold(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    codes = []
    for scenario in SCENARIOS:
        codes.append(kit.scenario(scenario))
        follower.catch_up(page=7)  # small pages: dossiers span several of them
    followed = snapshot(kit)
    assert len(followed["hoso_v_dossiers"]) == len(SCENARIOS)
    assert followed["hoso_v_results"], "the scenarios issue results"
    inspected = [r for r in followed["hoso_v_findings"] if r["source"] == "inspector"]
    assert [(r["severity"], r["revocation_due"]) for r in inspected] == [("major", 1)]

    rebuilt = rebuild(kit.engine, page=11)
    assert rebuilt.events == kit.last_position() or kit.backend.url.kind == "postgresql"
    assert rebuilt.position == kit.last_position()
    assert snapshot(kit) == followed

    rows = {r["code"]: r for r in followed["hoso_v_dossiers"]}
    for code in codes:
        state = fold(kit.service.history(code), CATALOGUE)
        assert state is not None
        expected = dossier_row(Folded(state, int(rows[code]["position"])), CALENDAR)
        assert tuple(rows[code][c] for c in COLUMNS) == expected, code


def test_results_carry_status_signers_and_the_issuing_event(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(["results"]))
    codes = [kit.scenario(s) for s in SCENARIOS]
    follower.catch_up()
    rows = table_rows(kit.backend, "hoso_v_results", "dossier, number")
    seals = {e.body.actor for e in kit.store.read_stream("system/keys")}
    assert seals, "registry present"
    statuses = {r["status"] for r in rows}
    assert statuses == {"valid", "revoked", "superseded"}
    for r in rows:
        state = kit.service.state(str(r["dossier"]))
        assert state is not None
        result = state.results[str(r["number"])]
        assert (r["status"], r["superseded_by"], r["issued_us"]) == (
            result.status,
            result.superseded_by,
            result.issued_us,
        )
        issuing = kit.store.event_at(str(r["dossier"]), int(r["n"]))
        assert issuing is not None
        assert r["event_hash"] == issuing.event_hash
        assert r["seal_key"] in issuing.key_ids
        assert r["signers"].split(",") == sorted(
            r["signers"].split(","), key=r["signers"].split(",").index
        )
        assert any(a.startswith("agency:") for a in r["signers"].split(","))
    assert {str(r["dossier"]) for r in rows} <= set(codes)


def test_a_replayed_page_is_refused_and_changes_nothing(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    kit.scenario(SCENARIOS[0])
    stale = follower.positions()
    events = kit.engine.read_page(0, 1000)
    follower.catch_up()
    before = snapshot(kit)
    with pytest.raises(schema.TrackingMoved) as caught:
        kit.engine.apply(follower.views, stale, events, follower.folds)
    assert caught.value.check == "projection.tracking"
    assert snapshot(kit) == before
    assert follower.positions() == dict.fromkeys(follower.views, kit.last_position())


def test_a_view_of_another_version_must_be_rebuilt(kit: Kit) -> None:
    Follower(kit.engine, select_views(["results"]))
    with kit.backend.sql.transaction() as curs:
        curs.execute(f"UPDATE {schema.TRACKING} SET version = 99 WHERE view = 'results'")  # noqa: S608
    with pytest.raises(schema.ViewVersionMismatch) as caught:
        Follower(kit.engine, select_views(["results"]))
    assert "rebuild results" in caught.value.detail
    rebuild(kit.engine, ["results"])
    assert Follower(kit.engine, select_views(["results"])).positions()["results"] == (
        kit.last_position()
    )


def test_rebuild_one_view_beside_the_others_while_following(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    kit.scenario(SCENARIOS[1])
    follower.catch_up()
    kit.scenario(SCENARIOS[2])  # the follower has not seen these yet
    rebuild(kit.engine, ["dossiers"])
    positions = follower.positions()
    assert positions["dossiers"] == kit.last_position() > positions["results"]
    follower.catch_up(page=5)
    after_follow = snapshot(kit)
    rebuild(kit.engine)
    assert snapshot(kit) == after_follow


@pytest.mark.postgres
def test_notification_id_gaps_are_skipped_not_waited_for(tmp_path: Any) -> None:
    """PostgreSQL only: SQLite rowids have no gaps."""
    kit = open_kit(fresh_url("postgresql", str(tmp_path), name="projections_gaps"))
    try:
        _gaps(kit)
    finally:
        kit.close()


def _gaps(kit: Kit) -> None:
    follower = Follower(kit.engine, select_views(None))
    kit.scenario(SCENARIOS[0])
    url = kit.backend.url
    with psycopg.connect(host=url.host, port=url.port, user=url.user, dbname=url.dbname) as conn:
        for _ in range(3):  # rolled-back inserts consume notification ids
            conn.execute("SELECT nextval('hoso_events_notification_id_seq')")
        conn.commit()
    kit.scenario(SCENARIOS[3])
    ids = [
        int(r["notification_id"])
        for r in kit.backend.sql.rows("SELECT notification_id FROM hoso_events ORDER BY 1")
    ]
    assert ids[-1] - ids[0] + 1 > len(ids), "the log has a gap"
    follower.catch_up(page=4)
    assert set(follower.positions().values()) == {ids[-1]}
    followed = snapshot(kit)
    rebuild(kit.engine)
    assert snapshot(kit) == followed
    assert len(followed["hoso_v_dossiers"]) == 2


@pytest.mark.postgres
def test_a_rebuild_split_over_processes_equals_the_in_process_one(tmp_path: Any) -> None:
    """PostgreSQL: ``workers=2`` partitions the dossier views by stream; the system-stream
    views are built meanwhile; the result and the tracked positions are the same."""
    kit = open_kit(fresh_url("postgresql", str(tmp_path), name="projections_parallel"))
    try:
        codes = [kit.scenario(scenario) for scenario in SCENARIOS]
        state = kit.service.state(codes[0])
        assert state is not None
        entry: dict[str, Value] = {
            "reader": "ward:tiepnhan-01",
            "agency": state.agency,
            "role": "reception",
            "subject": state.applicant,
            "dossier": codes[0],
            "purpose": "processing",
            "time": 1,
        }
        kit.system_event("system/access", "DataAccessed", {"queue": [1], "entries": [entry]}, at=2)
        single = rebuild(kit.engine)
        expected = snapshot(kit)
        assert len(expected["hoso_v_dossiers"]) == len(SCENARIOS)
        assert len(expected["hoso_v_access_log"]) == 1
        split = rebuild(kit.engine, workers=2, page=3)  # many windows, some empty
        assert (split.events, split.position) == (single.events, single.position)
        assert snapshot(kit) == expected
        tracked = schema.positions(kit.backend.sql)
        assert {name: tracked[name][1] for name in tracked} == dict.fromkeys(
            select_views(None), single.position
        )
    finally:
        kit.close()
