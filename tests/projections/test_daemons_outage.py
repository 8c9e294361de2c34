"""The daemons through a database outage: ``hoso projections follow`` and ``hoso integrate
--follow`` run against a private PostgreSQL cluster that is stopped and started again
under them. They keep running (no restart), log the outage, reconnect and catch up, and
nothing is projected or integrated twice: every event is one leaf, and the followed views
are exactly what a rebuild from the log gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from ledger.bootstrap import bootstrap
from ledger.demo.office import WARD, Office, cast
from projections.engine import Engine
from projections.rebuild import rebuild
from tests.api.api_world import ORIGIN, World, build_world
from tests.support.clusters import Cluster, cluster_root, create_database, primary

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
__all__ = ["cluster_root", "primary"]  # fixtures
HOSO = str(Path(sys.executable).with_name("hoso"))


def wait_for(
    done: Callable[[], bool],
    what: str,
    state: Callable[[], object] = lambda: None,
    timeout_s: float = 60.0,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {state()}"
        time.sleep(0.2)


def log_text(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-3000:]


def caught_up(world: World) -> bool:
    sql = world.ledger.backend.sql
    try:
        last = sql.rows("SELECT MAX(notification_id) AS n FROM hoso_events")[0]["n"]
        leaves = sql.rows("SELECT COUNT(*) AS n FROM hoso_leaves")[0]["n"]
        views = sql.rows("SELECT MIN(position) AS n FROM hoso_projection_tracking")[0]["n"]
    except Exception:  # the test's own pooled connection may be one the restart broke
        return False
    events = sql.rows("SELECT COUNT(*) AS n FROM hoso_events")[0]["n"]
    return bool(leaves == events and views == last)


def open_dossier(world: World, code: str, at: int) -> None:
    """Append a new dossier's events through a freshly opened ledger (the world's own
    pool may hold connections the restart broke)."""
    ledger = bootstrap(world.ledger.settings, keystore=world.keystore, clock_us=world.clock)
    try:
        Office(ledger.dossiers, cast(), ledger.privacy, world.clock).open(
            code, "1.001193", WARD, "outage applicant", at=at
        )
    finally:
        ledger.close()


def test_the_daemons_ride_out_an_outage(primary: Cluster, tmp_path: Path) -> None:
    world = build_world(create_database(primary, "daemons"), tmp_path)
    try:
        settings = world.ledger.settings
        env = {
            **os.environ,
            "HOSO_DATABASE_URL": settings.database_url,
            "HOSO_ORIGIN": ORIGIN,
            "HOSO_AUTHORITY_KEYS": json.dumps(settings.authority_keys),
        }
        logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("follow", "integrate")}
        daemons = {
            "follow": subprocess.Popen(  # noqa: S603 (our own console script)
                [HOSO, "projections", "follow", "--poll", "0.2"],
                env=env,
                stdout=logs["follow"],
                stderr=subprocess.STDOUT,
            ),
            "integrate": subprocess.Popen(  # noqa: S603
                [HOSO, "integrate", "--follow", "--poll", "0.2"],
                env=env,
                stdout=logs["integrate"],
                stderr=subprocess.STDOUT,
            ),
        }
        try:
            start = world.clock.now
            open_dossier(world, f"{WARD}-260401-0101", start)
            wait_for(lambda: caught_up(world), "the daemons to catch up")
            primary.stop()
            time.sleep(3)  # a few failed rounds each
            assert {n: d.poll() for n, d in daemons.items()} == {"follow": None, "integrate": None}
            primary.start()
            open_dossier(world, f"{WARD}-260401-0102", start + 60_000_000)
            wait_for(
                lambda: caught_up(world),
                "the daemons to reconnect and catch up",
                lambda: {n: log_text(f) for n, f in logs.items()},
            )
            assert {n: d.poll() for n, d in daemons.items()} == {"follow": None, "integrate": None}
        finally:
            for daemon in daemons.values():
                daemon.terminate()
                daemon.wait(timeout=30)
        for name, log in logs.items():
            log.seek(0)
            assert "the database is unavailable" in log.read(), name
        sql = world.ledger.backend.sql
        leaves = sql.rows("SELECT notification_id FROM hoso_leaves ORDER BY leaf_index")
        ids = sql.rows("SELECT notification_id FROM hoso_events ORDER BY notification_id")
        assert [r["notification_id"] for r in leaves] == [r["notification_id"] for r in ids]
        followed = sql.rows("SELECT code, doc FROM hoso_v_documents ORDER BY code")
        engine = Engine(
            world.ledger.backend,
            book=world.ledger.catalogue,
            calendar=world.ledger.calendar,
            clock_us=world.clock,
        )
        rebuild(engine, ["documents"])
        rebuilt = sql.rows("SELECT code, doc FROM hoso_v_documents ORDER BY code")
        assert [(r["code"], bytes(r["doc"])) for r in rebuilt] == [
            (r["code"], bytes(r["doc"])) for r in followed
        ]
        assert len(followed) == len(world.codes) + 2
    finally:
        world.ledger.close()
