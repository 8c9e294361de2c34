"""What the access log costs a read of personal data, beside the same read unlogged.

    .venv/bin/python -m bench.privacy [--url postgresql://postgres@127.0.0.1:5432/hoso_bench]
        [--subjects 200] [--reads 2000] [--flush-every 64]

The database named in ``--url`` is dropped and re-created (a ``sqlite:///`` URL
is started afresh). ``--subjects`` citizens are enrolled in the vault with one
dossier record each. Then, interleaved read by read so both see the same noise:

* **unlogged**: ``Vault.open`` — unwrap the subject's data key, decrypt and
  check the sealed record;
* **logged**: the same plus ``AccessLog.record`` — the durable queue insert
  every official read pays — with the signed ``DataAccessed`` batch appended
  every ``--flush-every`` reads, its cost spread over the reads that trigger it.

The last line is one JSON object: p50/p99 in ms of both, and the ratio of the
p50s (logged / unlogged).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench._common import DEFAULT_PG_URL, open_ledger, percentile, reset_postgres_database
from ledger.demo.people import synthetic_person
from ledger.domain.privacy import AccessEntry
from ledger.privacy.access_log import AccessLog
from ledger.privacy.crypto import MasterKey, MasterKeys
from ledger.privacy.vault import Vault
from ledger.storage.database import parse_database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_PG_URL)
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--flush-every", type=int, default=64)
    args = parser.parse_args()

    parsed = parse_database_url(args.url)
    if parsed.kind == "postgresql":
        reset_postgres_database(args.url)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.path + suffix).unlink(missing_ok=True)
    ledger = open_ledger(args.url, actors=1)
    clock = time.time_ns
    vault = Vault(
        ledger.backend.sql,
        keys=MasterKeys(MasterKey(os.urandom(32))),
        index_key=os.urandom(32),
        clock_us=lambda: clock() // 1000,
    )
    actor, signer = ledger.actors[0]
    log = AccessLog(
        ledger.backend.sql,
        ledger.store,
        clock_us=lambda: clock() // 1000,
        signer=signer,
        flush_every=args.flush_every,
    )
    subjects = []
    for i in range(args.subjects):
        person = synthetic_person(f"bench {i}")
        subject = vault.enroll(person)
        vault.deposit(subject, f"D-{i}", person)
        subjects.append((subject, f"D-{i}"))

    unlogged: list[float] = []
    logged: list[float] = []
    for i in range(args.reads):
        subject, ref = subjects[i % len(subjects)]
        started = time.perf_counter()
        vault.open(subject, ref)
        unlogged.append(time.perf_counter() - started)
        started = time.perf_counter()
        vault.open(subject, ref)
        log.record(
            AccessEntry(actor, "H26.50.01", "handler", subject, ref, "processing", clock() // 1000)
        )
        logged.append(time.perf_counter() - started)
    log.flush()
    batches = len(ledger.store.read_stream("system/access"))
    ledger.close()

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q) * 1000, 3)

    result = {
        "backend": parsed.kind,
        "reads": args.reads,
        "batches": batches,
        "unlogged_p50_ms": ms(unlogged, 0.5),
        "unlogged_p99_ms": ms(unlogged, 0.99),
        "logged_p50_ms": ms(logged, 0.5),
        "logged_p99_ms": ms(logged, 0.99),
        "ratio": round(percentile(logged, 0.5) / percentile(unlogged, 0.5), 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
