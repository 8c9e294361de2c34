"""The stream index (docs/formats.md §12): its cost on integration, lookup proofs at scale,
proof size and offline verification.

    .venv/bin/python -m bench.index [--url postgresql://postgres@127.0.0.1:5432/hoso_bench_index]
        [--events 500000] [--round 100000] [--spread 5] [--streams 1000000] [--samples 2000]
        [--parts integrate lookup]

Two PostgreSQL databases, each dropped and re-created: ``--url`` and ``--url`` + ``_1m``.

**integrate** (``--url``): ``--events`` signed records (10 per dossier stream: a result
issued at n = 7, then revoked, corrected or left alone at n = 9; ``sign_event`` on every
core) are bulk-loaded with ``COPY`` (untimed; bypassing the store's checks, as in
``bench.proofs``) in rounds of ``--round``. A dossier's ten events are spread over two
rounds, so every round both adds streams and updates streams an earlier index holds.
After each round, timed apart:

* ``MerkleLog.integrate()`` — the baseline, integration without the index;
* ``Checkpoints.sign`` with ``IndexCommits`` — what every checkpoint runs on top:
  ``IndexStore.build`` over the newly integrated entries, the log-key-signed
  ``IndexCommitted`` append, its integration, and the checkpoint signature.

``with_index_eps`` = events ÷ (integrate + checkpoint), ``without_index_eps`` = events ÷
integrate, ``ratio`` = the first ÷ the second (target ≥ 20,000 events/s with the index).
Then, at the last checkpoint, standalone index-proof documents
(``services.index_proofs.index_proof``) and ``verify_index_proof`` under the trust roots.

**lookup** (``--url`` + ``_1m``): ``--streams`` synthetic one-event streams — rows of
``hoso_leaves`` only (stream, n = 1, a random event hash), ``COPY``-loaded — indexed by
``IndexStore.build`` in a child process (its time and peak RSS, beside the peak RSS of a
child that only opens the database: the baseline). Then ``IndexStore.prove`` for
``--samples`` random present streams and ``--samples // 4`` absent ones (p50/p99, each
including its database round trips), beside one indexed ``SELECT`` of a value row (the
floor: one round trip); every proof verified against the root (untimed); proof sizes
(the canonical msgpack of a bundle's proof map, §12.3) and ``verify_lookup`` time beside
a bare hashlib fold of as many node hashes.

The machine is shared: read the ratios. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench._common import next_event, percentile, reset_postgres_database, seed
from ledger.core import encoding
from ledger.core.event import SignedEvent
from ledger.core.index import index_key, verify_lookup
from ledger.core.note import Ed25519NoteSigner
from ledger.core.registry import REGISTRY_STREAM, key_registered
from ledger.domain import lifecycle as ev
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.database import Backend, open_backend
from ledger.storage.index_store import IndexStore
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.sql import EVENTS_TABLE
from ledger.storage.store import EventStore
from verify.evidence import StreamProof

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hoso_bench_index"
ORIGIN = "bench.hoso.example/hanoi"
EVENTS_PER_STREAM = 10
ACTORS = 4
SIGN_CHUNK = 500  # streams per signing task
EVENT_COLUMNS = ("originator_id", "originator_version", "topic", "state")
EVENT_TYPES = ("text", "int8", "text", "bytea")
LEAF_COLUMNS = ("leaf_index", "notification_id", "event_hash", "stream", "n")
LEAF_TYPES = ("int8", "int8", "bytea", "text", "int8")
NOW_US = 1_767_225_600_000_000

Row = tuple[str, int, str, bytes]


def stream_name(i: int) -> str:
    return f"000.00.10.H26-260101-{i:07d}"


def _kind(stream: int, n: int) -> tuple[str, dict[str, encoding.Value]]:
    number = f"KQ-{stream}-1"
    if n == 1:
        return "DossierReceived", {"procedure": "1.001193", "note": "x" * 120}
    if n == 7:
        return ev.RESULT_ISSUED, {"result_number": number, "note": "x" * 120}
    if n == 9 and stream % 3 == 0:
        return ev.REVOKED, {"result_number": number, "reason": "x" * 40}
    if n == 9 and stream % 3 == 1:
        return ev.CORRECTED, {"result_number": f"KQ-{stream}-2", "supersedes": number}
    return "DossierUpdated", {"step": n, "note": "x" * 120}


def sign_chains(first: int, count: int) -> list[list[Row]]:
    """The ten signed records of each stream ``first .. first+count-1``."""
    signers = [(f"officer:{i}", seed(f"bench-actor-{i}")) for i in range(ACTORS)]
    chains = []
    for stream in range(first, first + count):
        actor, signer = signers[stream % ACTORS]
        head: SignedEvent | None = None
        chain: list[Row] = []
        for n in range(1, EVENTS_PER_STREAM + 1):
            kind, payload = _kind(stream, n)
            head = next_event(
                head,
                stream=stream_name(stream),
                kind=kind,
                actor=actor,
                signers=[signer],
                payload=payload,
            )
            chain.append((head.body.stream, n, kind, head.record))
        chains.append(chain)
    return chains


def rounds_of_rows(
    events: int, round_size: int, spread: int, pool: ProcessPoolExecutor
) -> list[list[Row]]:
    """``events`` records in rounds of ``round_size``: each block of streams is interleaved
    by position over ``spread`` rounds, so a stream's events straddle checkpoints."""
    streams = events // EVENTS_PER_STREAM
    block = max(1, spread * round_size // EVENTS_PER_STREAM)
    rows: list[Row] = []
    for start in range(0, streams, block):
        count = min(block, streams - start)
        starts = list(range(start, start + count, SIGN_CHUNK))
        chains = [
            c
            for part in pool.map(
                sign_chains, starts, [min(SIGN_CHUNK, start + count - s) for s in starts]
            )
            for c in part
        ]
        rows += [chain[n] for n in range(EVENTS_PER_STREAM) for chain in chains]
    return [rows[i : i + round_size] for i in range(0, len(rows), round_size)]


def open_store(backend: Backend, log_key: Ed25519NoteSigner) -> EventStore:
    authority = seed("bench-authority")
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={authority.key_id: authority.public_key},
        log_keys={log_key.signer.key_id: log_key.signer.public_key},
    )
    head: SignedEvent | None = None
    batch = []
    for i in range(ACTORS):
        signer = seed(f"bench-actor-{i}")
        head = next_event(
            head,
            stream=REGISTRY_STREAM,
            kind="KeyRegistered",
            actor="authority:hanoi",
            signers=[authority],
            payload=key_registered(
                signer.public_key, actor=f"officer:{i}", roles={"handler"}, agency="H26.50.01"
            ),
        )
        batch.append(head.record)
    store.append(batch)
    return store


def bench_integrate(
    url: str, *, events: int, round_size: int, spread: int, samples: int
) -> dict[str, Any]:
    reset_postgres_database(url)
    backend = open_backend(url)
    log_key = Ed25519NoteSigner(ORIGIN, seed("bench-log"))
    store = open_store(backend, log_key)
    log = MerkleLog(backend)
    checkpoints = Checkpoints(log, signer=log_key, commits=IndexCommits(store, log))
    started = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        rounds = rounds_of_rows(events, round_size, spread, pool)
    sign_s = time.perf_counter() - started
    per_round = []
    for number, rows in enumerate(rounds):
        with backend.sql.transaction() as curs:
            curs.insert_many(EVENTS_TABLE, EVENT_COLUMNS, EVENT_TYPES, rows)
        t0 = time.perf_counter()
        added = log.integrate()
        t1 = time.perf_counter()
        note = checkpoints.sign(now_us=NOW_US + number)
        t2 = time.perf_counter()
        per_round.append({"events": added, "integrate_s": t1 - t0, "checkpoint_s": t2 - t1})
        print(
            f"  round {number}: {added:,} events, integrate {t1 - t0:.2f} s,"
            f" index + checkpoint {t2 - t1:.2f} s ({note.text.splitlines()[1]} leaves)",
            flush=True,
        )
    # Rounds after the first: the steady state (the first also pays for the registry).
    total = sum(r["events"] for r in per_round)
    integrate_s = sum(r["integrate_s"] for r in per_round)
    checkpoint_s = sum(r["checkpoint_s"] for r in per_round)
    proofs = bench_documents(backend, log_key, events // EVENTS_PER_STREAM, samples)
    backend.close()
    return {
        "events": total,
        "rounds": len(per_round),
        "round": round_size,
        "spread": spread,
        "sign_s": round(sign_s, 1),
        "integrate_s": round(integrate_s, 2),
        "index_checkpoint_s": round(checkpoint_s, 2),
        "without_index_eps": round(total / integrate_s),
        "with_index_eps": round(total / (integrate_s + checkpoint_s)),
        "ratio": round(integrate_s / (integrate_s + checkpoint_s), 3),
        "index_only_eps": round(total / checkpoint_s),
        "per_round": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in per_round
        ],
        "documents": proofs,
    }


def bench_documents(
    backend: Backend, log_key: Ed25519NoteSigner, streams: int, samples: int
) -> dict[str, Any]:
    """Standalone index proofs at the latest checkpoint: served, sized, verified offline."""
    from ledger.services.index_proofs import index_proof  # noqa: PLC0415
    from verify.evidence import verify_index_proof  # noqa: PLC0415

    rng = random.Random(2)
    names = [stream_name(rng.randrange(streams)) for _ in range(min(samples, 500))]
    serve_ms, verify_ms, sizes = [], [], []
    for name in names:
        t = time.perf_counter()
        document = index_proof(backend, [name]).encode()
        serve_ms.append((time.perf_counter() - t) * 1000)
        sizes.append(len(document))
        t = time.perf_counter()
        answer = verify_index_proof(
            document, origin=ORIGIN, log_keys=[log_key.verifier], witnesses=[], stream=name
        )
        verify_ms.append((time.perf_counter() - t) * 1000)
        if answer.state is None or answer.state.n != EVENTS_PER_STREAM:
            raise SystemExit(f"index proof of {name} says {answer.state}")
    return {
        "documents": len(names),
        "serve_p50_ms": round(percentile(serve_ms, 0.5), 3),
        "serve_p99_ms": round(percentile(serve_ms, 0.99), 3),
        "document_bytes_median": round(statistics.median(sizes)),
        "document_bytes_max": max(sizes),
        "verify_document_p50_ms": round(percentile(verify_ms, 0.5), 3),
    }


# --- pipelined: the index built by a follower beside integration ---------------------


def _follow(url: str, stop: Any, poll: float) -> None:
    """The follower process (``hoso index follow``): keep the index built up to the log."""
    backend = open_backend(url)
    index, log = IndexStore(backend), MerkleLog(backend)
    with index.following():
        while not stop.is_set():
            index.catch_up(log.size())
            time.sleep(poll)
    backend.close()


def bench_pipelined(url: str, *, events: int, round_size: int, spread: int) -> dict[str, Any]:
    """The same rounds twice, each into its own new database: integration alone (the
    baseline), then integration with a follower process building the index beside it and a
    checkpoint (tail build, commit, signature) at the end of each round."""
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        rounds = rounds_of_rows(events, round_size, spread, pool)
    log_key = Ed25519NoteSigner(ORIGIN, seed("bench-log"))
    figures: dict[str, list[dict[str, float]]] = {}
    for mode in ("baseline", "pipelined"):
        where = f"{url}_base" if mode == "baseline" else url
        reset_postgres_database(where)
        backend = open_backend(where)
        store = open_store(backend, log_key)
        log = MerkleLog(backend)
        commits = IndexCommits(store, log)
        checkpoints = Checkpoints(log, signer=log_key, commits=commits)
        stop = multiprocessing.Event()
        follower = None
        if mode == "pipelined":
            follower = multiprocessing.Process(target=_follow, args=(where, stop, 0.05))
            follower.start()
        per_round = []
        for number, rows in enumerate(rounds):
            with backend.sql.transaction() as curs:
                curs.insert_many(EVENTS_TABLE, EVENT_COLUMNS, EVENT_TYPES, rows)
            t0 = time.perf_counter()
            added = log.integrate()
            t1 = time.perf_counter()
            behind = 0
            if mode == "pipelined":
                built = commits.index.latest_built()
                behind = log.size() - (0 if built is None else built.version)
                checkpoints.sign(now_us=NOW_US + number)
            t2 = time.perf_counter()
            per_round.append(
                {"events": added, "integrate_s": t1 - t0, "tail_s": t2 - t1, "behind": behind}
            )
            print(
                f"  {mode} round {number}: {added:,} events, integrate {t1 - t0:.2f} s,"
                f" checkpoint {t2 - t1:.2f} s (the follower {behind:,} entries behind)",
                flush=True,
            )
        stop.set()
        if follower is not None:
            follower.join()
        backend.close()
        figures[mode] = per_round
    total = sum(r["events"] for r in figures["baseline"])
    base_s = sum(r["integrate_s"] for r in figures["baseline"])
    with_s = sum(r["integrate_s"] + r["tail_s"] for r in figures["pipelined"])
    return {
        "events": total,
        "rounds": len(rounds),
        "round": round_size,
        "spread": spread,
        "without_index_eps": round(total / base_s),
        "with_index_eps": round(total / with_s),
        "ratio": round(base_s / with_s, 3),
        "per_round": {
            m: [{k: round(v, 2) for k, v in r.items()} for r in rs] for m, rs in figures.items()
        },
    }


# --- lookup at scale ------------------------------------------------------------------


def _child_build(url: str, end: int, queue: Any) -> None:
    backend = open_backend(url)
    started = time.perf_counter()
    built = IndexStore(backend).build(end=end) if end else None
    elapsed = time.perf_counter() - started
    backend.close()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((elapsed, rss_kb, None if built is None else built.streams))


def build_in_child(url: str, end: int) -> tuple[float, int, int | None]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_build, args=(url, end, queue))
    child.start()
    result = queue.get()
    child.join()
    return result  # type: ignore[no-any-return]


def load_leaves(backend: Backend, streams: int) -> None:
    batch = 100_000
    for first in range(0, streams, batch):
        rows = [
            (i, i + 1, hashlib.sha256(b"bench leaf %d" % i).digest(), stream_name(i), 1)
            for i in range(first, min(first + batch, streams))
        ]
        with backend.sql.transaction() as curs:
            curs.insert_many("hoso_leaves", LEAF_COLUMNS, LEAF_TYPES, rows)


def bench_lookup(url: str, *, streams: int, samples: int) -> dict[str, Any]:
    reset_postgres_database(url)
    backend = open_backend(url)
    t = time.perf_counter()
    load_leaves(backend, streams)
    load_s = time.perf_counter() - t
    backend.close()
    _, base_rss_kb, _ = build_in_child(url, 0)
    build_s, rss_kb, count = build_in_child(url, streams)
    print(f"  built {count:,} streams in {build_s:.1f} s, peak RSS {rss_kb / 1024:.0f} MB")
    backend = open_backend(url)
    index = IndexStore(backend)
    built = index.built(streams)
    if built is None or built.streams != streams:
        raise SystemExit(f"the index at {streams} holds {built}")
    rng = random.Random(1)
    present = [stream_name(rng.randrange(streams)) for _ in range(samples)]
    absent = [stream_name(streams + rng.randrange(streams)) for _ in range(samples // 4)]
    for name in present[:20]:  # warm the pool and prepared statements
        index.prove(name, version=streams)
    floor_ms = []
    for name in present:
        t = time.perf_counter()
        backend.sql.rows(
            "SELECT value FROM hoso_index_values WHERE key = %s AND version <= %s"
            " ORDER BY version DESC LIMIT 1",
            [index_key(name), streams],
        )
        floor_ms.append((time.perf_counter() - t) * 1000)
    timings: dict[str, list[float]] = {"present": [], "absent": []}
    proofs = []
    for kind, names in (("present", present), ("absent", absent)):
        for name in names:
            t = time.perf_counter()
            proof = index.prove(name, version=streams)
            timings[kind].append((time.perf_counter() - t) * 1000)
            proofs.append((kind, name, proof))
    sizes: dict[str, list[int]] = {"present": [], "absent": []}
    depths = []
    for kind, name, proof in proofs:
        state = verify_lookup(proof, root=built.root.hash, stream=name)
        if (state is None) != (kind == "absent"):
            raise SystemExit(f"{name}: the proof says {state}")
        sizes[kind].append(len(encoding.encode(StreamProof(name, proof).to_map())))
        depths.append(len(proof.siblings))
    verify_us = _per_call_us(
        lambda: [verify_lookup(p, root=built.root.hash, stream=s) for _, s, p in proofs[:200]],
        200,
    )
    mean_depth = statistics.fmean(depths)
    pair = bytes(64)
    fold_us = _per_call_us(
        lambda: [
            hashlib.sha256(b"hoso/index/node/v1\x00" + pair).digest()
            for _ in range(round(mean_depth) * 200)
        ],
        200,
    )
    backend.close()
    return {
        "streams": streams,
        "load_s": round(load_s, 1),
        "build_s": round(build_s, 1),
        "build_streams_per_s": round(streams / build_s),
        "build_peak_rss_mb": round(rss_kb / 1024),
        "baseline_peak_rss_mb": round(base_rss_kb / 1024),
        "proof_p50_ms": round(percentile(timings["present"], 0.5), 3),
        "proof_p99_ms": round(percentile(timings["present"], 0.99), 3),
        "absent_p50_ms": round(percentile(timings["absent"], 0.5), 3),
        "absent_p99_ms": round(percentile(timings["absent"], 0.99), 3),
        "floor_p50_ms": round(percentile(floor_ms, 0.5), 3),
        "proof_vs_floor": round(percentile(timings["present"], 0.5) / percentile(floor_ms, 0.5), 2),
        "depth_mean": round(mean_depth, 1),
        "depth_max": max(depths),
        "proof_bytes_median": round(statistics.median(sizes["present"])),
        "proof_bytes_max": max(sizes["present"]),
        "absent_bytes_median": round(statistics.median(sizes["absent"])),
        "absent_bytes_max": max(sizes["absent"]),
        "verify_us": round(verify_us, 1),
        "bare_fold_us": round(fold_us, 1),
        "verify_vs_bare": round(verify_us / fold_us, 2),
        "samples": len(present),
    }


def _per_call_us(work: Any, calls: int, seconds: float = 1.0) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        work()
        done += calls
    return (time.perf_counter() - started) / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--round", type=int, default=100_000)
    parser.add_argument("--spread", type=int, default=5, help="rounds a stream's events span")
    parser.add_argument("--streams", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--parts", nargs="+", choices=["integrate", "pipelined", "lookup"])
    args = parser.parse_args()
    parts = args.parts or ["integrate", "lookup"]
    load = os.getloadavg()
    result: dict[str, Any] = {"load_before": [round(x, 2) for x in load]}
    if "integrate" in parts:
        print(f"integrate: {args.events:,} events in rounds of {args.round:,}", flush=True)
        r = bench_integrate(
            args.url,
            events=args.events,
            round_size=args.round,
            spread=args.spread,
            samples=args.samples,
        )
        print(
            f"  with index {r['with_index_eps']:,} ev/s, without {r['without_index_eps']:,} ev/s"
            f" (ratio {r['ratio']}; target >= 20,000 ev/s with the index)"
        )
        print(f"  documents: {r['documents']}")
        result["integrate"] = r
    if "pipelined" in parts:
        print(f"pipelined: {args.events:,} events in rounds of {args.round:,}", flush=True)
        r = bench_pipelined(args.url, events=args.events, round_size=args.round, spread=args.spread)
        print(
            f"  with index {r['with_index_eps']:,} ev/s, without {r['without_index_eps']:,} ev/s"
            f" (ratio {r['ratio']}; target >= 20,000 ev/s with the index)"
        )
        result["pipelined"] = r
    if "lookup" in parts:
        print(f"lookup: {args.streams:,} streams", flush=True)
        r = bench_lookup(f"{args.url}_1m", streams=args.streams, samples=args.samples)
        print(
            f"  proof p50 {r['proof_p50_ms']} ms p99 {r['proof_p99_ms']} ms (target p50 <= 2 ms);"
            f" absent p50 {r['absent_p50_ms']} ms; floor {r['floor_p50_ms']} ms"
        )
        print(
            f"  proof bytes median {r['proof_bytes_median']} max {r['proof_bytes_max']};"
            f" verify {r['verify_us']} us (bare fold {r['bare_fold_us']} us)"
        )
        result["lookup"] = r
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
