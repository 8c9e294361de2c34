"""The read path served from bytes: a dossier's read document (kept by the documents view)
and a list page built without response models answer exactly what the reference path
(the stream read, the registry lookup and the pydantic models) answers, also after new
events, while the view catches up, and once the applicant is erased."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from api.auth import Principal
from api.reads import detail, summary, visible_row
from api.schemas import DossierPagePublic, DossierPublic
from projections.engine import Engine
from projections.rebuild import rebuild
from tests.api.api_world import World, bearer

pytestmark = pytest.mark.integration

INSPECTOR = Principal(kind="inspector", actor="inspector:t", agency="H26.THANHTRA", token_id="t")  # noqa: S106


def reference(world: World, code: str) -> dict[str, object]:
    """What the model-validated path answers for the dossier."""
    row = visible_row(world.ledger, INSPECTOR, code)
    return DossierPublic.model_validate(detail(world.ledger, row).model_dump()).model_dump()


def test_documents_answer_what_the_reference_path_answers(world: World, client: TestClient) -> None:
    for code in world.codes.values():
        got = client.get(f"/v1/dossiers/{code}", headers=bearer(world, "inspector"))
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/json"
        assert DossierPublic.model_validate(got.json()).model_dump() == reference(world, code)
        assert got.json() == reference(world, code)


def test_a_document_follows_new_events(world: World, client: TestClient) -> None:
    code = world.codes["ward_open"]
    officer = bearer(world, "officer_a")
    before = client.get(f"/v1/dossiers/{code}", headers=officer).json()
    receipt = hashlib.sha256(b"receipt").hexdigest()
    received = client.post(
        f"/v1/dossiers/{code}/commands/receive", json={"receipt_hash": receipt}, headers=officer
    )
    assert received.status_code == 201, received.text
    world.project()
    after = client.get(f"/v1/dossiers/{code}", headers=officer).json()
    assert len(after["history"]) == len(before["history"]) + 1
    assert after["history"][-1]["event_hash"] == received.json()["event_hash"]
    assert after == reference(world, code)


def test_while_the_view_catches_up_the_stream_answers(world: World, client: TestClient) -> None:
    code = world.codes["police_done"]
    expected = reference(world, code)
    with world.ledger.backend.sql.transaction() as curs:
        curs.execute("DELETE FROM hoso_v_documents")
    got = client.get(f"/v1/dossiers/{code}", headers=bearer(world, "inspector"))
    assert got.status_code == 200
    assert got.json() == expected
    other = client.get(f"/v1/dossiers/{code}", headers=bearer(world, "officer_a"))
    assert other.status_code == 404  # scoped like the document: another agency's dossier


def test_list_pages_are_the_models_pages(world: World, client: TestClient) -> None:
    page = client.get("/v1/dossiers", headers=bearer(world, "inspector"), params={"limit": 2})
    assert page.status_code == 200
    body = page.json()
    assert DossierPagePublic.model_validate(body).model_dump() == body
    assert len(body["items"]) == 2
    for item in body["items"]:
        row = visible_row(world.ledger, INSPECTOR, item["code"])
        assert item == summary(row).model_dump()


def test_a_rebuilt_documents_view_is_the_followed_one(world: World) -> None:
    sql = world.ledger.backend.sql
    followed = {
        r["code"]: bytes(r["doc"]) for r in sql.rows("SELECT code, doc FROM hoso_v_documents")
    }
    assert len(followed) == len(world.codes)
    engine = Engine(
        world.ledger.backend,
        book=world.ledger.catalogue,
        calendar=world.ledger.calendar,
        clock_us=world.clock,
    )
    rebuild(engine, ["documents"], page=7)  # pages that split the dossiers' histories
    again = {r["code"]: bytes(r["doc"]) for r in sql.rows("SELECT code, doc FROM hoso_v_documents")}
    assert again == followed
