"""Merkle proofs served from storage, on a log of ``--leaves`` leaves (default 1,000,000).

    .venv/bin/python -m bench.proofs [--leaves 1000000] [--url postgresql://...] [--sqlite]
        [--load copy|append] [--samples 2000]

Build: actor keys are registered through ``EventStore.append``; then ``--leaves``
signed records (``sign_event``, 10 chained events per stream, 4 actor keys,
signed on every core) are loaded, either

* ``--load copy`` (default): bulk-loaded with PostgreSQL ``COPY`` (SQLite: one
  ``executemany``) straight into the events table, **bypassing the store's
  checks** — the records are valid signed records, but nothing re-checks them
  on the way in; or
* ``--load append``: through ``EventStore.append`` in batches of 1,000 (every
  check; much slower).

Either way the tree is then built by ``MerkleLog.integrate`` (timed: leaves/s).

Measured at the full size: ``MerkleLog.inclusion_proof`` for random leaves and
``MerkleLog.consistency_proof`` for random size pairs, each including its
database round trip (p50/p99 ms), and ``merkle.verify_inclusion`` per second
on the proofs fetched. Every fetched proof is also verified against the root
(correctness, untimed). The PostgreSQL database in ``--url`` is dropped and
re-created; ``--sqlite`` also runs the same on a fresh SQLite file.

The last line is one JSON object (PostgreSQL figures at the top level).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench._common import (
    DEFAULT_PG_URL,
    Ledger,
    next_event,
    open_ledger,
    percentile,
    reset_postgres_database,
    seed,
)
from ledger.core import merkle
from ledger.core.event import SignedEvent
from ledger.core.hashing import Hash, leaf_hash
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.sql import EVENTS_TABLE

EVENTS_PER_STREAM = 10
ACTORS = 4
CHUNK_STREAMS = 1000
EVENT_COLUMNS = ("originator_id", "originator_version", "topic", "state")
EVENT_TYPES = ("text", "int8", "text", "bytea")

Row = tuple[str, int, str, bytes]


def sign_streams(first: int, count: int, leaves: int) -> list[Row]:
    """Signed records of streams ``first .. first+count-1`` (10 chained events each,
    fewer at the very end so that the total is ``leaves``), interleaved by position."""
    signers = [(f"officer:{i}", seed(f"bench-actor-{i}")) for i in range(ACTORS)]
    chains: list[list[Row]] = []
    for stream in range(first, first + count):
        actor, signer = signers[stream % ACTORS]
        name = f"000.00.10.H26-260101-{stream:07d}"
        head: SignedEvent | None = None
        chain: list[Row] = []
        for n in range(1, EVENTS_PER_STREAM + 1):
            if (stream * EVENTS_PER_STREAM) + n > leaves:
                break
            head = next_event(
                head,
                stream=name,
                kind="DossierReceived" if n == 1 else "DossierUpdated",
                actor=actor,
                signers=[signer],
                payload={"procedure": "1.001193", "step": n, "note": "x" * 120},
            )
            chain.append((name, n, head.body.type, head.record))
        chains.append(chain)
    return [chain[n] for n in range(EVENTS_PER_STREAM) for chain in chains if n < len(chain)]


def signed_rows(leaves: int) -> Iterator[list[Row]]:
    """All records, in chunks of CHUNK_STREAMS streams, signed on every core."""
    streams = -(-leaves // EVENTS_PER_STREAM)
    starts = list(range(0, streams, CHUNK_STREAMS))
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        yield from pool.map(
            sign_streams,
            starts,
            [min(CHUNK_STREAMS, streams - s) for s in starts],
            [leaves] * len(starts),
        )


def load(ledger: Ledger, leaves: int, how: str) -> tuple[float, float]:
    """Load ``leaves`` signed records; return (seconds signing+loading, seconds loading)."""
    backend = ledger.backend
    start = time.perf_counter()
    loading = 0.0
    for rows in signed_rows(leaves):
        t = time.perf_counter()
        if how == "append":
            for i in range(0, len(rows), 1000):
                ledger.store.append([r[3] for r in rows[i : i + 1000]])
        else:  # binary COPY on PostgreSQL, executemany on SQLite
            with backend.sql.transaction() as curs:
                curs.insert_many(EVENTS_TABLE, EVENT_COLUMNS, EVENT_TYPES, rows)
        loading += time.perf_counter() - t
    return time.perf_counter() - start, loading


def measure(url: str, *, leaves: int, how: str, samples: int, page: int) -> dict[str, Any]:
    if url.startswith("postgresql"):
        reset_postgres_database(url)
    ledger = open_ledger(url, actors=ACTORS)
    log = MerkleLog(ledger.backend)
    # The registry events are leaves too: the total is --leaves.
    registry = log.backend.recorder.max_notification_id() or 0
    build_s, load_s = load(ledger, leaves - registry, how)

    start = time.perf_counter()
    added = log.integrate(page=page)
    integrate_s = time.perf_counter() - start
    size = log.size()
    assert added == size == leaves, (added, size, leaves)
    root = log.root(size)

    rng = random.Random(1)
    indices = [rng.randrange(size) for _ in range(samples)]
    leaf_hashes = {i: leaf_hash(log.leaf_record(i)) for i in indices}
    for i in indices[:20]:  # warm the connection pool and prepared statements
        log.inclusion_proof(index=i, size=size)
    inclusion_ms: list[float] = []
    proofs: list[tuple[int, list[Hash]]] = []
    for i in indices:
        t = time.perf_counter()
        proof = log.inclusion_proof(index=i, size=size)
        inclusion_ms.append((time.perf_counter() - t) * 1000)
        proofs.append((i, proof))
    for i, proof in proofs:
        merkle.verify_inclusion(
            index=i, size=size, leaf_hash=leaf_hashes[i], proof=proof, root=root
        )

    pairs = [sorted(rng.sample(range(1, size + 1), 2)) for _ in range(samples)]
    consistency_ms: list[float] = []
    for size1, size2 in pairs:
        t = time.perf_counter()
        log.consistency_proof(size1=size1, size2=size2)
        consistency_ms.append((time.perf_counter() - t) * 1000)
    for size1, size2 in pairs[:50]:  # correctness on a sample (roots cost a query each)
        merkle.verify_consistency(
            size1=size1,
            size2=size2,
            root1=log.root(size1),
            root2=log.root(size2),
            proof=log.consistency_proof(size1=size1, size2=size2),
        )

    verified = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        for i, proof in proofs[:200]:
            merkle.verify_inclusion(
                index=i, size=size, leaf_hash=leaf_hashes[i], proof=proof, root=root
            )
        verified += len(proofs[:200])
    verify_per_s = verified / (time.perf_counter() - start)
    ledger.close()
    return {
        "leaves": size,
        "load": how,
        "inclusion_p50_ms": round(percentile(inclusion_ms, 0.5), 3),
        "inclusion_p99_ms": round(percentile(inclusion_ms, 0.99), 3),
        "consistency_p50_ms": round(percentile(consistency_ms, 0.5), 3),
        "consistency_p99_ms": round(percentile(consistency_ms, 0.99), 3),
        "verify_per_s": round(verify_per_s),
        "integrate_leaves_per_s": round(size / integrate_s),
        "integrate_s": round(integrate_s, 1),
        "build_s": round(build_s, 1),
        "load_s": round(load_s, 1),
        "samples": samples,
    }


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name}: {r['leaves']:,} leaves (load={r['load']}: {r['build_s']} s signing+loading,"
        f" of which {r['load_s']} s loading)"
    )
    print(f"  integrate        {r['integrate_leaves_per_s']:>10,} leaves/s ({r['integrate_s']} s)")
    print(
        f"  inclusion proof  p50 {r['inclusion_p50_ms']:.3f} ms"
        f"   p99 {r['inclusion_p99_ms']:.3f} ms   (target p50 <= 1 ms on PostgreSQL)"
    )
    print(
        f"  consistency      p50 {r['consistency_p50_ms']:.3f} ms   p99 "
        f"{r['consistency_p99_ms']:.3f} ms"
    )
    print(f"  verify_inclusion {r['verify_per_s']:>10,} /s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_PG_URL)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--load", choices=["copy", "append"], default="copy")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--page", type=int, default=10_000, help="integrate page size")
    parser.add_argument("--sqlite", action="store_true", help="also measure SQLite")
    args = parser.parse_args()
    if args.leaves < 2 * ACTORS:
        parser.error(f"--leaves must be at least {2 * ACTORS}")

    options = {"leaves": args.leaves, "how": args.load, "samples": args.samples, "page": args.page}
    result = measure(args.url, **options)
    show("PostgreSQL", result)
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="hoso-bench-") as tmp:
            lite = measure(f"sqlite:///{Path(tmp) / 'proofs.sqlite'}", **options)
        show("SQLite", lite)
        result["sqlite"] = lite
    print(json.dumps(result))


if __name__ == "__main__":
    main()
