"""The API when the database can't answer: PostgreSQL stopped (a private cluster, never the
shared server), its pool exhausted, an SQLite file locked by another writer. Each is a
503 problem ``store.unavailable`` with Retry-After, within about a second, never a 500;
a refused command stored nothing, and once the database is back the same call works."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import api_settings, create_app
from ledger.bootstrap import Ledger, bootstrap
from tests.api.api_world import World, bearer, build_world
from tests.support.clusters import Cluster, cluster_root, create_database, primary

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
PROBLEM = "application/problem+json"
__all__ = ["cluster_root", "primary"]  # fixtures
RECEIPT = hashlib.sha256(b"receipt").hexdigest()


def assert_unavailable(response: object, began: float) -> None:
    elapsed = time.monotonic() - began
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    assert response.headers["retry-after"] == "1"  # type: ignore[attr-defined]
    assert response.json()["check"] == "store.unavailable"  # type: ignore[attr-defined]
    assert elapsed < 3.0, f"answered after {elapsed:.1f} s"


@pytest.fixture
def cluster_world(primary: Cluster, tmp_path: Path) -> Iterator[World]:
    built = build_world(create_database(primary, "faults"), tmp_path)
    yield built
    built.ledger.close()


def api_client(world: World) -> tuple[TestClient, Ledger]:
    """The app over a ledger opened as ``hoso serve`` opens it (1 s waits, no retries)."""
    settings = api_settings(world.ledger.settings)
    ledger = bootstrap(settings, keystore=world.keystore, clock_us=world.clock)
    return TestClient(create_app(settings, ledger=ledger, clock_us=world.clock)), ledger


def test_postgres_down_is_503_then_back(cluster_world: World, primary: Cluster) -> None:
    world = cluster_world
    code = world.codes["ward_open"]
    officer = bearer(world, "officer_a")
    client, ledger = api_client(world)
    try:
        with client:
            assert client.get(f"/v1/dossiers/{code}", headers=officer).status_code == 200
            assert client.get("/readyz").status_code == 200
            primary.stop()
            began = time.monotonic()
            assert_unavailable(client.get(f"/v1/dossiers/{code}", headers=officer), began)
            began = time.monotonic()
            refused = client.post(
                f"/v1/dossiers/{code}/commands/receive",
                json={"receipt_hash": RECEIPT},
                headers=officer,
            )
            assert_unavailable(refused, began)
            began = time.monotonic()
            assert_unavailable(client.get("/readyz"), began)
            assert client.get("/healthz").status_code == 200  # the process is up
            primary.start()
            deadline = time.monotonic() + 20
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the API did not reconnect"
                time.sleep(0.2)
            stored = world.ledger.store.read_stream(code)
            assert [e.body.type for e in stored][-1] != "DossierReceived"  # nothing was stored
            received = client.post(
                f"/v1/dossiers/{code}/commands/receive",
                json={"receipt_hash": RECEIPT},
                headers=officer,
            )
            assert received.status_code == 201, received.text
            after = world.ledger.store.read_stream(code)
            assert len(after) == len(stored) + 1
    finally:
        ledger.close()


def test_an_exhausted_pool_is_503(cluster_world: World) -> None:
    world = cluster_world
    client, ledger = api_client(world)
    pool = ledger.backend.recorder.datastore.pool
    try:
        with client:
            code = world.codes["ward_done"]
            officer = bearer(world, "officer_a")
            assert client.get(f"/v1/dossiers/{code}", headers=officer).status_code == 200
            held = [pool.getconn() for _ in range(pool.max_size)]
            try:
                began = time.monotonic()
                assert_unavailable(client.get(f"/v1/dossiers/{code}", headers=officer), began)
            finally:
                for conn in held:
                    pool.putconn(conn)
            assert client.get(f"/v1/dossiers/{code}", headers=officer).status_code == 200
    finally:
        ledger.close()


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_a_locked_sqlite_file_is_503_and_reads_go_on(world: World) -> None:
    code = world.codes["ward_open"]
    officer = bearer(world, "officer_a")
    client, ledger = api_client(world)
    path = world.ledger.backend.url.path
    try:
        with client:
            before = len(world.ledger.store.read_stream(code))
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                began = time.monotonic()
                refused = client.post(
                    f"/v1/dossiers/{code}/commands/receive",
                    json={"receipt_hash": RECEIPT},
                    headers=officer,
                )
                assert_unavailable(refused, began)
                read = client.get(f"/v1/dossiers/{code}", headers=officer)
                assert read.status_code == 200  # readers don't wait for the writer (WAL)
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert len(world.ledger.store.read_stream(code)) == before
            received = client.post(
                f"/v1/dossiers/{code}/commands/receive",
                json={"receipt_hash": RECEIPT},
                headers=officer,
            )
            assert received.status_code == 201, received.text
    finally:
        ledger.close()


def receive(client: TestClient, world: World, code: str, key: str, receipt: str) -> object:
    return client.post(
        f"/v1/dossiers/{code}/commands/receive",
        json={"receipt_hash": receipt},
        headers={**bearer(world, "officer_a"), "Idempotency-Key": key},
    )


@pytest.mark.parametrize("world", ["sqlite", "postgresql"], indirect=True)
def test_idempotency_key_makes_a_retry_safe(world: World, client: TestClient) -> None:
    code = world.codes["ward_open"]
    before = len(world.ledger.store.read_stream(code))
    first = receive(client, world, code, "k-1", RECEIPT)
    assert first.status_code == 201, first.text  # type: ignore[attr-defined]
    again = receive(client, world, code, "k-1", RECEIPT)
    assert again.status_code == 201  # type: ignore[attr-defined]
    assert again.json() == first.json()  # type: ignore[attr-defined]
    assert again.headers["idempotency-replayed"] == "true"  # type: ignore[attr-defined]
    assert len(world.ledger.store.read_stream(code)) == before + 1  # applied once
    other = receive(client, world, code, "k-1", hashlib.sha256(b"other").hexdigest())
    assert other.status_code == 422  # type: ignore[attr-defined]
    assert other.json()["check"] == "idempotency.key_reused"  # type: ignore[attr-defined]
    bad = receive(client, world, code, "not a key", RECEIPT)
    assert bad.status_code == 422  # type: ignore[attr-defined]


@pytest.mark.parametrize("world", ["postgresql"], indirect=True)
def test_a_lost_answer_is_found_on_retry(world: World, client: TestClient) -> None:
    """The first attempt appended its event but its answer was never recorded (the
    process died in between): the retry answers that event, and appends nothing."""
    code = world.codes["ward_open"]
    first = receive(client, world, code, "k-2", RECEIPT)
    assert first.status_code == 201  # type: ignore[attr-defined]
    sql = world.ledger.backend.sql
    with sql.transaction() as curs:
        curs.execute("UPDATE hoso_idempotency SET answer = NULL WHERE idem_key = 'k-2'")
    count = len(world.ledger.store.read_stream(code))
    retry = receive(client, world, code, "k-2", RECEIPT)
    assert retry.status_code == 201  # type: ignore[attr-defined]
    assert retry.json()["event_hash"] == first.json()["event_hash"]  # type: ignore[attr-defined]
    assert len(world.ledger.store.read_stream(code)) == count
    refused = receive(client, world, code, "k-3", RECEIPT)  # received already: a 409
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert sql.rows("SELECT * FROM hoso_idempotency WHERE idem_key = 'k-3'") == []
