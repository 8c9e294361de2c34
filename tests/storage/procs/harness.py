"""The parent's side of the process tests: spawn, read what a process acknowledged,
find it inside a write transaction, and audit the whole ledger afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import psycopg

from ledger.core import merkle
from ledger.core.chain import verify_link
from ledger.core.checkpoint import open_checkpoint
from ledger.core.event import SignedEvent, parse_record, verify_signatures
from ledger.core.hashing import EventHash, Hash, leaf_hash
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.signing import KeyId, PublicKey
from ledger.storage.database import Backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from tests.storage.procs.common import ORIGIN, authority, log_key

REPO = Path(__file__).resolve().parents[3]

# --- processes ------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def lines(self) -> list[str]:
        """Complete lines printed so far (a line cut by SIGKILL is dropped)."""
        text = self.out.read_text()
        return text.split("\n")[:-1]

    def count(self, word: str) -> int:
        return sum(1 for line in self.lines() if line.startswith(word))

    def last(self) -> str:
        lines = self.lines()
        return lines[-1] if lines else ""

    def stderr(self) -> str:
        return self.err.read_text()[-3000:]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        os.kill(self.popen.pid, 9)  # SIGKILL: no cleanup, no flush, no rollback by the client
        self.popen.wait(timeout=10)

    def wait_ok(self, timeout: float) -> None:
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"{self.name} did not finish in {timeout}s") from None
        assert code == 0, f"{self.name} exited with {code}:\n{self.stderr()}"


def spawn(name: str, module: str, args: list[str], workdir: Path) -> Proc:
    """Run ``python -m module *args`` with stdout/stderr in files; PGAPPNAME names it."""
    out, err = workdir / f"{name}.out", workdir / f"{name}.err"
    env = {**os.environ, "PGAPPNAME": name, "PYTHONPATH": str(REPO)}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        popen = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", module, *args],
            cwd=REPO,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    return Proc(name, popen, out, err)


def spawn_ready(name: str, module: str, args: list[str], workdir: Path) -> Proc:
    """Spawn and wait until the process says READY (its database is open).

    Processes are started one after another: opening a ledger at the same moment
    from several processes is a separate test (test_concurrency.py).
    """
    proc = spawn(name, module, args, workdir)
    wait_until(proc, lambda: proc.count("READY") > 0, timeout=30, what="READY", poll=0.01)
    return proc


def wait_until(
    proc: Proc, condition: Callable[[], bool], *, timeout: float, what: str, poll: float = 0.001
) -> None:
    """Poll ``condition`` until true; fail if ``proc`` died first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.alive(), f"{proc.name} died before {what}:\n{proc.stderr()}"
        assert time.monotonic() < deadline, f"{proc.name}: no {what} within {timeout}s"
        time.sleep(poll)


@contextmanager
def write_transaction_probe(url: str, proc: Proc) -> Iterator[Callable[[], bool]]:
    """A probe: does ``proc`` hold an open write transaction right now?

    PostgreSQL: its session (named by PGAPPNAME) has been given a transaction id,
    i.e. it has written rows it has not committed. SQLite (WAL): it holds the WAL
    write lock, an fcntl lock on byte 120 of the ``-shm`` file (see /proc/locks).
    """
    if url.startswith("postgresql"):
        with psycopg.connect(url, autocommit=True) as conn:

            def postgres() -> bool:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = %s AND backend_xid IS NOT NULL",
                    [proc.name],
                ).fetchone()
                return bool(row and row[0])

            yield postgres
        return
    shm = Path(url.removeprefix("sqlite:///") + "-shm")
    lock = ("WRITE", str(proc.popen.pid), "120")

    def sqlite() -> bool:
        try:
            inode = f":{shm.stat().st_ino}"
        except FileNotFoundError:
            return False
        for line in Path("/proc/locks").read_text().splitlines():
            parts = line.split()
            if "->" in parts or len(parts) < 8 or parts[1] != "POSIX":
                continue
            if (parts[3], parts[4], parts[6]) == lock and parts[5].endswith(inode):
                return True
        return False

    yield sqlite


# --- what a writer said ------------------------------------------------------------


@dataclass
class WriterLog:
    tried: dict[int, list[bytes]] = field(default_factory=dict)
    acked: set[int] = field(default_factory=set)
    conflicts: set[int] = field(default_factory=set)
    done: bool = False
    last: str = ""

    @property
    def acked_hashes(self) -> set[bytes]:
        return {h for b in self.acked for h in self.tried[b]}

    @property
    def unanswered(self) -> set[int]:
        return set(self.tried) - self.acked - self.conflicts


def read_writer(proc: Proc) -> WriterLog:
    log = WriterLog()
    for line in proc.lines():
        word, _, rest = line.partition(" ")
        log.last = word
        if word == "TRY":
            batch, _, hashes = rest.partition(" ")
            log.tried[int(batch)] = [bytes.fromhex(h) for h in hashes.split(",")]
        elif word == "ACK":
            log.acked.add(int(rest.split()[0]))
        elif word == "CONFLICT":
            log.conflicts.add(int(rest))
        elif word == "DONE":
            log.done = True
    return log


# --- the audit ------------------------------------------------------------------------


@dataclass
class Audit:
    events: int
    size: int
    root: Hash
    hashes: set[bytes]
    checkpoints: int


@lru_cache(maxsize=200_000)
def _parse(record: bytes) -> SignedEvent:
    """Records never change once stored, so each audit parses only the new ones."""
    return parse_record(record)


def audit_ledger(
    backend: Backend, *, complete: bool, signatures: bool = False, verbose_where: str = ""
) -> Audit:
    """Check everything a crash or a race could break; return what was found.

    - every stream is n = 1..k without gaps and each event links to its predecessor
      (no forks); with ``signatures`` every signature verifies under the registry
      (authority keys for the registry stream) and ``read_stream`` returns each chain;
    - the leaves are the notification log's first ``size`` records, in order, each
      once; nodes, leaves and the tracking position were committed together;
    - the root equals the RFC 9162 root over that order, and ``complete`` means
      every committed event is a leaf;
    - every signed checkpoint verifies under the log key, and the tree at its size
      still has its root and grew consistently from it.
    """
    where = f" ({verbose_where})" if verbose_where else ""
    store = EventStore(backend, origin=ORIGIN, authorities={})
    log = MerkleLog(backend)
    notes = backend.recorder.select_notifications(start=1, limit=10_000_000)
    events = [_parse(n.state) for n in notes]
    by_stream: dict[str, list[SignedEvent]] = defaultdict(list)
    for note, event in zip(notes, events, strict=True):
        assert (note.originator_id, note.originator_version) == (
            event.body.stream,
            event.body.n,
        ), f"row and record disagree at notification {note.id}{where}"
        by_stream[event.body.stream].append(event)
    registry: dict[KeyId, PublicKey] = {}
    auth = authority()
    for stream, chain in by_stream.items():
        assert [e.body.n for e in chain] == list(range(1, len(chain) + 1)), f"{stream}{where}"
        for before, event in zip([None, *chain[:-1]], chain, strict=True):
            verify_link(event, before)
        stored = [r.state for r in backend.recorder.select_events(stream)]
        assert stored == [e.record for e in chain], f"stream {stream}{where}"
    if signatures:
        for stream, chain in by_stream.items():
            assert store.read_stream(stream) == chain, f"read_stream({stream}){where}"
        keys = store.keys(sorted({s.key_id for e in events for s in e.signatures}))
        registry = {k: r.public_key for k, r in keys.items()}
        for event in events:
            trusted = (
                {auth.key_id: auth.public_key} if event.body.stream == REGISTRY_STREAM else registry
            )
            verify_signatures(event, trusted)

    hashes = [e.event_hash for e in events]
    assert len(set(hashes)) == len(hashes), f"an event is stored twice{where}"
    size = log.size()
    leaves = backend.sql.rows(
        "SELECT leaf_index, notification_id, event_hash, stream, n FROM hoso_leaves"
        " ORDER BY leaf_index"
    )
    assert [int(r["leaf_index"]) for r in leaves] == list(range(size)), f"leaf indexes{where}"
    assert size <= len(notes), f"more leaves than events{where}"
    if complete:
        assert size == len(notes), f"{len(notes) - size} committed events are not leaves{where}"
    assert [
        (int(r["notification_id"]), bytes(r["event_hash"]), r["stream"], int(r["n"]))
        for r in leaves
    ] == [
        (n.id, e.event_hash, e.body.stream, e.body.n)
        for n, e in zip(notes[:size], events[:size], strict=True)
    ], f"leaves are not the notification order{where}"
    assert log.position() == (notes[size - 1].id if size else 0), f"tracking position{where}"
    nodes = backend.sql.rows("SELECT COUNT(*) AS c FROM hoso_nodes")
    assert int(nodes[0]["c"]) == 2 * size - size.bit_count(), f"node rows for {size}{where}"
    root = merkle.root_from_leaves([leaf_hash(n.state) for n in notes[:size]])
    assert log.root(size) == root, f"root at {size}{where}"
    rows = backend.sql.rows("SELECT size, root, note FROM hoso_checkpoints ORDER BY size")
    for row in rows:
        checkpoint, _ = open_checkpoint(
            bytes(row["note"]), origin=ORIGIN, log_keys=[log_key().verifier]
        )
        assert (checkpoint.size, checkpoint.root) == (int(row["size"]), bytes(row["root"]))
        assert checkpoint.size <= size, f"checkpoint {checkpoint.size} beyond the tree{where}"
        if checkpoint.size == 0:
            continue
        assert log.root(checkpoint.size) == checkpoint.root, f"root at {checkpoint.size}{where}"
        merkle.verify_consistency(
            size1=checkpoint.size,
            size2=size,
            root1=checkpoint.root,
            root2=root,
            proof=log.consistency_proof(size1=checkpoint.size, size2=size),
        )
    return Audit(
        events=len(notes),
        size=size,
        root=root,
        hashes={EventHash(h) for h in hashes},
        checkpoints=len(rows),
    )
