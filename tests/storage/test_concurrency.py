"""Writer processes race on shared streams while an integrator process follows them.

Each writer loops: read the heads, build and sign the next events, append; on
StreamConflict it re-reads and retries. Afterwards the ledger must have no fork
(every stream is n = 1..k and every prev links), every committed event must be
exactly one leaf, in notification order, the root must be the RFC 9162 root of
that order, and every checkpoint the integrator signed on the way must be
consistent with the final tree.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ledger.core.registry import REGISTRY_STREAM
from ledger.storage.merkle_log import MerkleLog
from tests.storage.procs.common import open_store, register_keys, seed
from tests.storage.procs.harness import (
    Proc,
    audit_ledger,
    read_writer,
    spawn,
    spawn_ready,
)
from tests.support.databases import private_postgres_url

pytestmark = pytest.mark.integration

STREAMS = [f"C-{i}" for i in range(4)]
# (events per append, streams per append): one event; two streams at once; a chain of 3.
WRITERS = [(1, 1), (2, 2), (3, 2)]
SECONDS = 4.0


def race(url: str, workdir: Path) -> None:
    backend, store = open_store(url)
    actors = [f"officer:{i}" for i in range(len(WRITERS))]
    register_keys(store, {a: seed(a) for a in actors})
    go, stop = workdir / "go", workdir / "stop"
    procs: list[Proc] = []
    try:
        for i, (actor, (batch, spread)) in enumerate(zip(actors, WRITERS, strict=True)):
            args = [
                f"--actor={actor}",
                f"--streams={','.join(STREAMS)}",
                f"--batch={batch}",
                f"--spread={spread}",
                f"--seconds={SECONDS}",
                "--max-batches=400",
                f"--go-file={go}",
                f"--seed={i}",
            ]
            procs.append(
                spawn_ready(
                    f"hoso-race-writer-{i}", "tests.storage.procs.writer", [url, *args], workdir
                )
            )
        integrator = spawn_ready(
            "hoso-race-integrator",
            "tests.storage.procs.integrator",
            [url, "--page=16", "--checkpoint-every=4", f"--stop-file={stop}", "--seconds=60"],
            workdir,
        )
        procs.append(integrator)
        writers = procs[:-1]
        go.touch()  # all connected: race
        for writer in writers:
            writer.wait_ok(timeout=60)
        stop.touch()
        integrator.wait_ok(timeout=60)
    finally:
        for proc in procs:
            if proc.alive():
                proc.kill9()

    logs = [read_writer(w) for w in writers]
    for writer, said in zip(writers, logs, strict=True):
        assert said.done, f"{writer.name} did not finish: {writer.stderr()}"
        assert said.acked, f"{writer.name} appended nothing"
        assert not said.unanswered, f"{writer.name}: appends neither acknowledged nor refused"
    conflicts = sum(len(said.conflicts) for said in logs)
    assert conflicts > 0, "the writers never raced: the test proved nothing"

    # The integrator process kept up by itself: nothing is left for a final pass.
    assert MerkleLog(backend).integrate() == 0
    pages = [line.split() for line in integrator.lines() if line.startswith("INTEGRATED")]
    assert sum(1 for p in pages if int(p[1]) > 0) >= 2, "integration did not run alongside"

    audit = audit_ledger(backend, complete=True, signatures=True)
    registry = {e.event_hash for e in store.read_stream(REGISTRY_STREAM)}
    acked = set().union(*(said.acked_hashes for said in logs))
    refused = {h for said in logs for b in said.conflicts for h in said.tried[b]}
    assert acked <= audit.hashes, "an acknowledged append is missing"
    assert not refused & audit.hashes, "an append refused as a conflict was stored"
    assert audit.hashes - registry == acked, "an event was stored that nobody acknowledged"
    assert audit.checkpoints >= 2
    backend.close()


@pytest.mark.postgres
def test_racing_writer_processes_and_integrator_on_postgresql(tmp_path: Path) -> None:
    race(private_postgres_url("hoso_concurrency"), tmp_path)


def test_racing_writer_processes_and_integrator_on_one_sqlite_file(tmp_path: Path) -> None:
    """The embedded default, shared by several processes (a CLI beside a server)."""
    race(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_processes_opening_one_ledger_at_once(kind: str, tmp_path: Path) -> None:
    """Every hoso process opens its database with ``open_backend``, which creates the
    tables; several starting together (API workers, a CLI beside a server) must all
    open it, whether the database is fresh or already exists.

    Six processes open the same databases in the same time slots: each database
    first fresh, then again once it exists.
    """
    if kind == "sqlite":  # (its race is narrower: only a fresh file, so try more)
        fresh = [f"sqlite:///{tmp_path / f'ledger-{i}.sqlite'}" for i in range(5)]
    else:
        fresh = [private_postgres_url(f"hoso_open_{i}") for i in range(2)]
    slots = [url for url in fresh for _ in ("fresh", "existing")]
    start_at = time.time() + 0.8  # after every process has imported
    openers = [
        spawn(
            f"hoso-opener-{i}",
            "tests.storage.procs.opener",
            [*slots, f"--start-at={start_at}", "--every=0.25"],
            tmp_path,
        )
        for i in range(6)
    ]
    try:
        for opener in openers:
            opener.wait_ok(timeout=60)
    finally:
        for opener in openers:
            if opener.alive():
                opener.kill9()
