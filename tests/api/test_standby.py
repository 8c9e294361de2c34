"""Reads from a streaming-replication standby (HOSO_READ_URL): a private primary made with
initdb, a standby copied from it with pg_basebackup on another port, both started by the
test. Views and proofs are read on the standby; with its replay paused a write is not
seen there, but a request saying ``Hoso-Read-From: primary`` reads its own write; once
replay resumes the standby answers the same."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import bootstrap
from tests.api.api_world import World, bearer, build_world
from tests.support.clusters import (
    Cluster,
    cluster_root,
    create_database,
    make_standby,
    primary,
    wait_replayed,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
__all__ = ["cluster_root", "primary"]  # fixtures


@pytest.fixture
def standby(primary: Cluster, cluster_root: Path) -> Iterator[Cluster]:
    cluster = make_standby(primary, cluster_root)
    try:
        yield cluster
    finally:
        if cluster.running():
            cluster.stop()


def replay(standby: Cluster, *, paused: bool) -> None:
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")


def test_reads_go_to_the_standby_and_writes_are_read_back(
    primary: Cluster, standby: Cluster, tmp_path: Path
) -> None:
    url = create_database(primary, "standby")
    world: World = build_world(url, tmp_path)
    wait_replayed(primary, standby)
    settings = world.ledger.settings.model_copy(
        update={"read_url": standby.url("standby"), "api_fresh_s": 0}
    )
    ledger = bootstrap(settings, keystore=world.keystore, clock_us=world.clock)
    try:
        assert ledger.replica is not None
        with TestClient(create_app(settings, ledger=ledger, clock_us=world.clock)) as client:
            code = world.codes["ward_open"]
            officer = bearer(world, "officer_a")
            path = f"/v1/dossiers/{code}"
            before = client.get(path, headers=officer).json()
            proof = client.get("/v1/proofs/inclusion", params={"index": 0, "size": 1})
            assert proof.status_code == 200
            listed = client.get("/v1/dossiers", headers=officer)
            assert code in {i["code"] for i in listed.json()["items"]}

            replay(standby, paused=True)
            received = client.post(
                f"{path}/commands/receive",
                json={"receipt_hash": hashlib.sha256(b"r").hexdigest()},
                headers=officer,
            )
            assert received.status_code == 201, received.text  # written on the primary
            world.project()  # the projections follow the primary
            stale = client.get(path, headers=officer).json()
            assert stale["history"] == before["history"]  # the paused standby's view
            own = client.get(path, headers={**officer, "Hoso-Read-From": "primary"}).json()
            assert own["history"][-1]["event_hash"] == received.json()["event_hash"]
            assert own["state"] == "received"

            replay(standby, paused=False)
            wait_replayed(primary, standby)
            # Replication is asynchronous: the standby answers the same once it has
            # replayed and its hot-standby snapshot moved on (within seconds).
            deadline = time.monotonic() + 10
            caught_up = client.get(path, headers=officer).json()
            while caught_up != own and time.monotonic() < deadline:
                time.sleep(0.1)
                caught_up = client.get(path, headers=officer).json()
            assert caught_up == own
    finally:
        ledger.close()
        world.ledger.close()
