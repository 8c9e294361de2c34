"""kill -9 the integrator and a writer in the middle of a batch, then recover.

Each round starts a writer process (appends of 400 events over 6 streams, each
printed as ``TRY`` before and ``ACK`` after ``append`` returns) and an
integrator process (pages of 1500 leaves, a checkpoint after each) over a
backlog, waits until the integrator holds an open write transaction and
SIGKILLs it, then does the same to the writer. Then, before any repair:
nothing acknowledged is lost, every batch is all or nothing, the pages that
committed are whole (leaves, nodes and tracking position agree) and the tree
still extends the last signed checkpoint. After integration restarts: every
committed event is one leaf, in notification order, and the new checkpoint is
consistent with the last one the dead integrator signed.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import psycopg
import pytest

from ledger.core import merkle
from ledger.core.signing import Signer
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from tests.storage.procs.common import log_key, next_event, open_store, register_keys, seed
from tests.storage.procs.harness import (
    Proc,
    audit_ledger,
    read_writer,
    spawn_ready,
    wait_until,
    write_transaction_probe,
)
from tests.support.databases import private_postgres_url

pytestmark = pytest.mark.integration

ROUNDS = 3
ACTOR = "officer:crash"
STREAMS = [f"K-{i}" for i in range(6)]
BACKLOG = 3000  # events appended before each round, so the integrator's pages are full
BATCH = 400
WRITER_BATCH = 4 * BATCH  # its insert holds a write transaction open long enough to be cut


def append_backlog(store: EventStore, signer: Signer) -> set[bytes]:
    """Append BACKLOG events in batches; return their hashes (all acknowledged)."""
    heads = {stream: store.head(stream) for stream in STREAMS}
    hashes: set[bytes] = set()
    for start in range(0, BACKLOG, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, BACKLOG)):
            stream = STREAMS[i % len(STREAMS)]
            event = next_event(
                heads[stream], stream=stream, kind="Backlog", actor=ACTOR, signers=[signer]
            )
            heads[stream] = event
            batch.append(event)
        store.append([e.record for e in batch])
        hashes |= {e.event_hash for e in batch}
    return hashes


def kill_mid_batch(url: str, victim: Proc, *, after: str, times: int, rng: random.Random) -> None:
    """SIGKILL ``victim`` inside an open write transaction of the step it announces
    with ``after`` (PAGE / TRY), once it has completed ``times`` steps."""
    done = "CHECKPOINT" if after == "PAGE" else "ACK"
    with write_transaction_probe(url, victim) as busy:
        wait_until(victim, lambda: victim.count(done) >= times, timeout=30, what=f"{done} x{times}")
        wait_until(
            victim,
            lambda: victim.last().startswith(after) and busy(),
            timeout=30,
            what=f"a write transaction after {after}",
        )
    time.sleep(rng.uniform(0, 0.002))
    victim.kill9()


def settle(url: str, proc: Proc) -> None:
    """Wait until a killed process's PostgreSQL sessions have ended: whatever it had
    sent by then (a COMMIT included) has committed or rolled back on the server."""
    if not url.startswith("postgresql"):
        return
    with psycopg.connect(url, autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
        deadline = time.monotonic() + 30
        while (row := conn.execute(query, [proc.name]).fetchone()) and row[0]:
            assert time.monotonic() < deadline, f"{proc.name}'s sessions outlived it"
            time.sleep(0.005)


def run_round(url: str, workdir: Path, round_no: int, rng: random.Random) -> tuple[Proc, Proc]:
    """Start an integrator and a writer over the backlog; kill both mid-batch."""
    workdir.mkdir()
    procs: list[Proc] = []
    try:
        integrator = spawn_ready(
            f"hoso-crash-integrator-{round_no}",
            "tests.storage.procs.integrator",
            [url, "--page=1500", "--checkpoint-every=1", "--seconds=60"],
            workdir,
        )
        procs.append(integrator)
        writer = spawn_ready(
            f"hoso-crash-writer-{round_no}",
            "tests.storage.procs.writer",
            [
                url,
                f"--actor={ACTOR}",
                f"--streams={','.join(STREAMS)}",
                f"--batch={WRITER_BATCH}",
                f"--spread={len(STREAMS)}",
                "--seconds=60",
                f"--seed={round_no}",
            ],
            workdir,
        )
        procs.append(writer)
        kill_mid_batch(url, integrator, after="PAGE", times=rng.randint(1, 2), rng=rng)
        kill_mid_batch(url, writer, after="TRY", times=rng.randint(1, 2), rng=rng)
        for proc in procs:
            settle(url, proc)
    finally:
        for proc in procs:
            if proc.alive():
                proc.kill9()
    return integrator, writer


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kill_9_mid_batch_loses_nothing_acknowledged(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = private_postgres_url("hoso_crash")
    backend, store = open_store(url)
    signer = seed(ACTOR)
    register_keys(store, {ACTOR: signer})
    log = MerkleLog(backend)
    checkpoints = Checkpoints(log, signer=log_key())
    rng = random.Random(20260101)
    integrator_cut = writer_cut = 0
    acknowledged: set[bytes] = set()

    for round_no in range(ROUNDS):
        acknowledged |= append_backlog(store, signer)
        integrator, writer = run_round(url, tmp_path / f"round-{round_no}", round_no, rng)

        # What the dead processes left, before anything repairs it.
        said = read_writer(writer)
        acknowledged |= said.acked_hashes
        last = checkpoints.latest()
        assert last is not None, f"round {round_no}: the integrator signed no checkpoint"
        crashed = audit_ledger(backend, complete=False, verbose_where=f"round {round_no} crashed")
        missing = acknowledged - crashed.hashes
        assert not missing, f"round {round_no}: {len(missing)} acknowledged events lost"
        for batch_no, hashes in said.tried.items():
            stored = [h in crashed.hashes for h in hashes]
            assert all(stored) or not any(stored), f"round {round_no}: batch {batch_no} torn"
        writer_cut += said.last == "TRY" and not set(said.tried[max(said.tried)]) & crashed.hashes
        integrator_cut += integrator.last().startswith("PAGE")

        # Restart integration; the tree must extend the dead integrator's last checkpoint.
        log.integrate(page=2000)
        note = checkpoints.sign(now_us=time.time_ns() // 1000)
        recovered = audit_ledger(backend, complete=True, verbose_where=f"round {round_no}")
        assert recovered.size == crashed.events
        assert note.text.split("\n")[1] == str(recovered.size)
        merkle.verify_consistency(
            size1=last[0].size,
            size2=recovered.size,
            root1=last[0].root,
            root2=recovered.root,
            proof=log.consistency_proof(size1=last[0].size, size2=recovered.size),
        )

    # The kills did land mid-batch: an append left uncommitted, a page cut short.
    assert writer_cut >= 1, "no writer was killed inside an append"
    assert integrator_cut >= 1, "no integrator was killed inside a page"
    audit_ledger(backend, complete=True, signatures=True)
    backend.close()
