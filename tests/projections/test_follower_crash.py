"""kill -9 a follower process in the middle of its pages, restart it, and check that every
view ends exactly where a rebuild from the log puts it (nothing lost, nothing twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.demo.scenarios import SCENARIOS
from ledger.storage.database import Backend
from projections import schema
from projections.rebuild import rebuild
from tests.projections.ledger_kit import Kit
from tests.projections.test_views import snapshot

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def spawn_follower(url: str, out: Path, *, seconds: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ledger", "projections", "follow", "--db", url]
    command += ["--page", "2", "--poll", "0.05", "--seconds", str(seconds)]
    with out.open("ab") as sink:
        return subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
            command, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT
        )


def lowest_position(backend: Backend) -> int:
    try:
        tracked = schema.positions(backend.sql)
    except Exception:
        return 0
    return min((p for _, p, _ in tracked.values()), default=0)


def test_a_killed_follower_resumes_exactly_where_it_stopped(kit: Kit, tmp_path: Path) -> None:
    for _ in range(4):
        for scenario in SCENARIOS:
            kit.scenario(scenario)
    last = kit.last_position()
    u = kit.backend.url
    url = (
        f"sqlite:///{u.path}"
        if u.kind == "sqlite"
        else f"postgresql://{u.user}@{u.host}:{u.port}/{u.dbname}"
    )
    log = tmp_path / "follower.log"

    follower = spawn_follower(url, log, seconds=120)
    deadline = time.monotonic() + 60
    while lowest_position(kit.backend) < last // 3 and time.monotonic() < deadline:
        assert follower.poll() is None, log.read_text()[-2000:]
        time.sleep(0.005)
    os.kill(follower.pid, signal.SIGKILL)
    follower.wait(10)
    stopped_at = lowest_position(kit.backend)
    assert 0 < stopped_at < last, f"killed mid-way (position {stopped_at} of {last}): {log}"

    again = spawn_follower(url, log, seconds=3)
    assert again.wait(60) == 0, log.read_text()[-2000:]
    tracked = schema.positions(kit.backend.sql)
    assert {p for _, p, _ in tracked.values()} == {last}
    followed = snapshot(kit)
    rebuild(kit.engine)
    assert snapshot(kit) == followed
    assert len(followed["hoso_v_dossiers"]) == 4 * len(SCENARIOS)
