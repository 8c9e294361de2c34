"""Errors are RFC 9457 problems with hoso's check id; limits answer 413 and 429; the
catch-all answers 500 without internals (and only for real bugs: see test_schema.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.api_world import World, bearer

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def test_bad_input_is_a_problem_with_its_check(world: World, client: TestClient) -> None:
    officer = bearer(world, "officer_a")
    cases = [
        ("POST", "/v1/events", {"Content-Type": "application/msgpack"}, b"\x81\xa1", 400),
        ("POST", "/v1/events", {"Content-Type": "application/json"}, b'{"record": "!!"}', 422),
        ("POST", "/v1/events", {"Content-Type": "text/csv"}, b"a,b", 415),
        ("GET", "/v1/dossiers?limit=0", {}, None, 422),
        ("GET", "/v1/dossiers?after=not-a-cursor", {}, None, 400),
        ("GET", "/v1/dossiers?sort=applicant", {}, None, 422),
        ("GET", "/v1/statistics?period=2026-13", {}, None, 422),
        ("GET", "/v1/nowhere", {}, None, 404),
    ]
    for method, path, headers, body, status in cases:
        response = client.request(method, path, headers={**officer, **headers}, content=body)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == status
        assert problem["type"].endswith(problem["check"])
    shape = client.post(
        "/v1/events",
        content=b"\x81\xa1",
        headers={**officer, "Content-Type": "application/msgpack"},
    ).json()
    assert shape["check"] in ("encoding.canonical", "record.shape")
    assert shape["detail"]


def test_public_proofs_answer_problems_for_bad_sizes(client: TestClient) -> None:
    for path, check in (
        ("/v1/proofs/inclusion", "merkle.proof_shape"),  # neither index nor hash
        ("/v1/proofs/inclusion?index=1&hash=" + "00" * 32, "merkle.proof_shape"),
        ("/v1/proofs/inclusion?hash=zz", "request.invalid"),  # the schema's pattern
        ("/v1/proofs/consistency?from=5&to=2", "merkle.proof_shape"),
        ("/v1/proofs/consistency?from=1&to=9223372036854775807", "merkle.proof_shape"),
        ("/v1/checkpoints/3", "checkpoint.unknown"),
    ):
        response = client.get(path)
        assert 400 <= response.status_code < 500, path
        assert response.json()["check"] == check, path


def test_body_limit_and_public_rate_limit(world: World) -> None:
    settings = world.ledger.settings.model_copy(
        update={"api_max_body_bytes": 2048, "api_public_rate": 1.0, "api_public_burst": 2.0}
    )
    app = create_app(settings, ledger=world.ledger, clock_us=world.clock)
    with TestClient(app) as client:
        officer = {**bearer(world, "officer_a"), "Content-Type": "application/msgpack"}
        big = client.post("/v1/events", content=b"\x00" * 4096, headers=officer)
        assert big.status_code == 413
        assert big.json()["check"] == "request.too_large"

        def chunks() -> Iterator[bytes]:
            for _ in range(4):
                yield b"\x00" * 1024

        streamed = client.post("/v1/events", content=chunks(), headers=officer)
        assert streamed.status_code == 413
        statuses = [client.get("/v1/checkpoints/latest").status_code for _ in range(3)]
        assert statuses[:2] == [200, 200]
        assert statuses[2] == 429
        limited = client.get("/v1/checkpoints/latest")
        assert limited.json()["check"] == "rate.limited"
        assert int(limited.headers["retry-after"]) >= 1
        authed = client.get("/v1/dossiers", headers=bearer(world, "officer_a"))
        assert authed.status_code == 200  # tokens are accountable: not rate limited here


def test_unexpected_errors_are_a_500_without_internals(world: World) -> None:
    router = APIRouter()

    @router.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: /etc/hoso password=hunter2")

    app = create_app(world.ledger.settings, ledger=world.ledger, extra_routers=[router])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/boom")
    assert response.status_code == 500
    assert response.json()["check"] == "server.error"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_free_text_with_personal_data_is_refused(world: World, client: TestClient) -> None:
    code = world.codes["ward_open"]
    before = len(world.ledger.store.read_stream(code))
    refused = client.post(
        f"/v1/dossiers/{code}/commands/refuse",
        json={"reasons": ["người nộp 001203004567 không đủ điều kiện"]},
        headers=bearer(world, "officer_a"),
    )
    assert refused.status_code == 400
    assert refused.json()["check"] == "privacy.free_text"
    assert refused.json()["where"] == "reasons[0]"
    assert "001203004567" not in refused.text
    assert len(world.ledger.store.read_stream(code)) == before  # nothing signed or stored
