"""Signed append throughput on PostgreSQL beside plain eventsourcing, in the same run.

    .venv/bin/python -m bench.append [--url postgresql://postgres@127.0.0.1:5432/hoso_bench]
        [--batches 200] [--batch 100] [--streams 1000] [--singles 1000] [--actors 4]
        [--threads 2]

The database named in ``--url`` is dropped and re-created. Three writers, each
on its own streams with the same composition:

* **plain**: eventsourcing 9.5.6's own ``PostgresApplicationRecorder`` (text
  originator ids, the same table shape as ``hoso_events``, in a table of its
  own) inserting unsigned ``StoredEvent``s of the same stream ids, positions,
  topics and state lengths, in the same batches: the library without hoso.
* **hoso**: ``EventStore.append`` of records signed beforehand. Signing is the
  client's cost, not the store's; it is timed separately and a one-core
  sign+append figure is derived from both.
* **hoso, caches off**: the same through ``EventStore(cache_size=0)``.

They run interleaved, round by round in a rotating order, so all see the same
machine noise. Three modes:

* *batched*: ``--batch`` events per transaction, one on each of that many
  streams; untimed warm-up rounds give every stream its first events, so the
  timed rounds continue existing streams;
* *batched, concurrent* (``--threads``, default 2; 0 skips it): the same
  batches from that many client threads per side at once, each on streams of
  its own, every side at the same concurrency: throughput when one writer's
  checks can overlap another's insert;
* *single*: one event per transaction, continuing existing streams; p50/p99
  latency in ms.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from bench._common import (
    DEFAULT_PG_URL,
    ORIGIN,
    Ledger,
    next_event,
    open_ledger,
    percentile,
    reset_postgres_database,
)
from ledger.core.event import SignedEvent
from ledger.storage.database import parse_database_url
from ledger.storage.store import EventStore

PLAIN_TABLE = "plain_events"


def open_plain(url: str) -> PostgresApplicationRecorder:
    """eventsourcing's recorder on the same server, text ids, its own table."""
    parsed = parse_database_url(url)
    datastore = PostgresDatastore(
        parsed.dbname,
        parsed.host,
        parsed.port,
        parsed.user,
        parsed.password,
        pool_size=5,
        originator_id_type="text",
        lock_timeout=30,
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name=PLAIN_TABLE)
    recorder.create_table()
    return recorder


def plain_twin(event: SignedEvent) -> StoredEvent:
    """The unsigned stored event of the same shape: same ids and topic, same state length."""
    body = event.body_bytes
    state = body + b"\x00" * (len(event.record) - len(body))
    return StoredEvent(
        originator_id=event.body.stream,
        originator_version=event.body.n,
        topic=event.body.type,
        state=state,
    )


class Workload:
    """Pre-signed events continuing ``streams`` streams named ``{prefix}.H26-…``, one actor key
    per stream. Each side of the comparison has its own, with the same composition."""

    def __init__(self, ledger: Ledger, *, streams: int, prefix: str) -> None:
        self.actors = ledger.actors
        self.prefix = prefix
        self.heads: list[SignedEvent | None] = [None] * streams
        self.signing_s = 0.0
        self.signed = 0

    def next(self, stream: int) -> SignedEvent:
        actor, signer = self.actors[stream % len(self.actors)]
        head = self.heads[stream]
        start = time.perf_counter()
        event = next_event(
            head,
            stream=f"{self.prefix}.H26-260101-{stream:06d}",
            kind="DossierReceived" if head is None else "DossierUpdated",
            actor=actor,
            signers=[signer],
        )
        self.signing_s += time.perf_counter() - start
        self.signed += 1
        self.heads[stream] = event
        return event

    def batch(self, index: int, size: int) -> list[SignedEvent]:
        count = len(self.heads)
        return [self.next((index * size + j) % count) for j in range(size)]


Side = Callable[[list[SignedEvent]], float]


def plain_side(recorder: PostgresApplicationRecorder) -> Side:
    def run(events: list[SignedEvent]) -> float:
        twins = [plain_twin(e) for e in events]
        start = time.perf_counter()
        recorder.insert_events(twins)
        return time.perf_counter() - start

    return run


def hoso_side(store: EventStore) -> Side:
    def run(events: list[SignedEvent]) -> float:
        records = [e.record for e in events]
        start = time.perf_counter()
        results = store.append(records)
        elapsed = time.perf_counter() - start
        assert not any(r.duplicate for r in results)
        return elapsed

    return run


def rounds(
    sides: dict[str, tuple[Side, Workload]],
    count: int,
    make: Callable[[Workload, int], list[SignedEvent]],
) -> dict[str, list[float]]:
    """``count`` rounds; each side runs once per round, in a rotating order (same noise)."""
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(count):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            run, work = sides[name]
            times[name].append(run(make(work, r)))
    return times


def concurrent_rounds(
    sides: dict[str, tuple[Side, list[Workload]]],
    count: int,
    *,
    batch: int,
    per_thread: int,
) -> dict[str, float]:
    """``count`` rounds; in each, every side in a rotating order runs its threads at
    once, each appending ``per_thread`` batches signed beforehand on its own streams.
    Returns each side's total wall time."""
    names = list(sides)
    wall = dict.fromkeys(names, 0.0)
    errors: list[BaseException] = []

    def append_all(run: Side, mine: list[list[SignedEvent]]) -> None:
        try:
            for events in mine:
                run(events)
        except BaseException as err:  # re-raised below, in the main thread
            errors.append(err)

    for r in range(count):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            run, works = sides[name]
            threads = [
                threading.Thread(
                    target=append_all,
                    args=(run, [work.batch(r * per_thread + i, batch) for i in range(per_thread)]),
                )
                for work in works
            ]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall[name] += time.perf_counter() - start
            if errors:
                raise errors[0]
    return wall


SIDES = (("plain", "plain eventsourcing"), ("hoso", "hoso"), ("cold", "hoso, caches off"))


def measure_batched(
    sides: dict[str, tuple[Side, Workload]], args: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float | int]]:
    """--batch streams per transaction. The warm-up rounds give every stream its first
    events, so the timed rounds continue existing streams."""

    def batch_of(work: Workload, r: int) -> list[SignedEvent]:
        return work.batch(r, args.batch)

    rounds(sides, args.warmup, batch_of)
    hoso_work = sides["hoso"][1]
    hoso_work.signing_s, hoso_work.signed = 0.0, 0
    batched_s = rounds(sides, args.batches, batch_of)
    sign_eps = hoso_work.signed / hoso_work.signing_s
    events = args.batches * args.batch
    eps = {name: events / sum(times) for name, times in batched_s.items()}
    return eps, {
        "hoso_eps": round(eps["hoso"]),
        "plain_eps": round(eps["plain"]),
        "ratio": round(eps["hoso"] / eps["plain"], 3),
        "hoso_nocache_eps": round(eps["cold"]),
        "nocache_ratio": round(eps["cold"] / eps["plain"], 3),
        "events": events,
        "batch": args.batch,
        "sign_eps": round(sign_eps),
        "sign_and_append_eps": round(1 / (1 / eps["hoso"] + 1 / sign_eps)),
    }


def measure_concurrent(
    ledger: Ledger, sides: dict[str, tuple[Side, Workload]], args: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float | int]]:
    """The same batches from --threads client threads per side, each thread on streams
    of its own (warmed up like the others), about as many events in all."""
    per_thread = 4
    thread_sides = {
        name: (
            run,
            [
                Workload(ledger, streams=args.streams, prefix=f"000.01.{i}{t}")
                for t in range(args.threads)
            ],
        )
        for i, (name, (run, _)) in enumerate(sides.items())
    }
    warm = -(-args.warmup // per_thread)
    concurrent_rounds(thread_sides, warm, batch=args.batch, per_thread=per_thread)
    count = max(1, args.batches // (args.threads * per_thread))
    wall = concurrent_rounds(thread_sides, count, batch=args.batch, per_thread=per_thread)
    events = count * args.threads * per_thread * args.batch
    eps = {name: events / seconds for name, seconds in wall.items()}
    return eps, {
        "threads": args.threads,
        "hoso_eps": round(eps["hoso"]),
        "plain_eps": round(eps["plain"]),
        "ratio": round(eps["hoso"] / eps["plain"], 3),
        "hoso_nocache_eps": round(eps["cold"]),
        "nocache_ratio": round(eps["cold"] / eps["plain"], 3),
        "events": events,
    }


def measure_single(
    sides: dict[str, tuple[Side, Workload]], args: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float], dict[str, float | int]]:
    """One event per transaction, continuing existing streams."""

    def one(work: Workload, r: int) -> list[SignedEvent]:
        return [work.next((r * 7919) % args.streams)]

    rounds(sides, args.warmup, one)
    single_s = rounds(sides, args.singles, one)
    p50 = {name: percentile(times, 0.5) * 1000 for name, times in single_s.items()}
    p99 = {name: percentile(times, 0.99) * 1000 for name, times in single_s.items()}
    return (
        p50,
        p99,
        {
            "hoso_p50_ms": round(p50["hoso"], 3),
            "plain_p50_ms": round(p50["plain"], 3),
            "ratio": round(p50["hoso"] / p50["plain"], 3),
            "hoso_nocache_p50_ms": round(p50["cold"], 3),
            "nocache_ratio": round(p50["cold"] / p50["plain"], 3),
            "hoso_p99_ms": round(p99["hoso"], 3),
            "plain_p99_ms": round(p99["plain"], 3),
            "transactions": args.singles,
        },
    )


def print_throughput(title: str, eps: dict[str, float]) -> None:
    print(title)
    for name, label in SIDES:
        print(f"  {label:22} {eps[name]:>9,.0f} ev/s   ratio {eps[name] / eps['plain']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_PG_URL)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--actors", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=12, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=2, help="concurrent mode: 0 skips it")
    args = parser.parse_args()
    if args.batch > args.streams:
        parser.error("--batch must not exceed --streams (one event per stream per batch)")

    reset_postgres_database(args.url)
    ledger = open_ledger(args.url, actors=args.actors)
    plain = open_plain(args.url)
    cold = EventStore(
        ledger.backend, origin=ORIGIN, authorities=ledger.store.authorities, cache_size=0
    )
    sides = {
        name: (run, Workload(ledger, streams=args.streams, prefix=prefix))
        for name, run, prefix in (
            ("plain", plain_side(plain), "000.00.10"),
            ("hoso", hoso_side(ledger.store), "000.00.11"),
            ("cold", hoso_side(cold), "000.00.12"),
        )
    }
    eps, batched = measure_batched(sides, args)
    ceps, concurrent = measure_concurrent(ledger, sides, args) if args.threads > 0 else ({}, {})
    p50, p99, single = measure_single(sides, args)
    ledger.close()
    plain.datastore.close()

    print_throughput(
        f"batched, {args.batch} events/tx, {batched['events']:,} events per side"
        " (target: hoso >= 0.85 x plain and >= 10,000 ev/s)",
        eps,
    )
    print(
        f"  signing (client cost)  {batched['sign_eps']:>9,} ev/s   sign+append on one core "
        f"{batched['sign_and_append_eps']:,} ev/s"
    )
    if ceps:
        print_throughput(
            f"batched, {args.threads} client threads per side at once,"
            f" {concurrent['events']:,} events per side",
            ceps,
        )
    print(f"single, 1 event/tx, {args.singles:,} tx per side (target: hoso p50 <= 1.2 x plain)")
    for name, label in SIDES:
        print(
            f"  {label:22} p50 {p50[name]:6.3f} ms   p99 {p99[name]:6.3f} ms"
            f"   ratio {p50[name] / p50['plain']:.2f}"
        )
    print(json.dumps({"batched": batched, "concurrent": concurrent, "single": single}))


if __name__ == "__main__":
    main()
