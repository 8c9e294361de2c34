"""Rebuild throughput of every projection on PostgreSQL, beside eventsourcing's ProjectionRunner.

    .venv/bin/python -m bench.projections [--url postgresql://postgres@127.0.0.1:5432/hoso_proj_bench]
        [--dossiers 25000] [--from-db] [--page 5000] [--sample 3000] [--workers N]

Without ``--from-db`` the database in ``--url`` is dropped and re-created, and
``ledger.demo.generate.generate_ledger`` writes ``--dossiers`` dossiers of the demo's
nine lifecycles (25,000 dossiers ≈ 200,000 signed events). With ``--from-db``
the ledger already there is used as it is (e.g. one made by
``hoso generate --db URL --dossiers N`` or ``hoso demo --rounds 1400 --db URL``).

Measured in the same run:

* **rebuild**: ``projections.rebuild.rebuild`` of every view (dossiers and
  statistics, results, findings, access log, erasures) from the whole log,
  beside the live tables, then swapped in: events/s over the whole log;
* **runner**: eventsourcing 9.5's ``ProjectionRunner`` with an equivalent
  minimal projection (each signed record parsed with ``parse_record``, one row
  per stream upserted with its last position and event type, tracked in the
  same transaction), over the first ``--sample`` events: events/s.

``ratio`` = rebuild_eps / runner_eps. The machine is shared: numbers are noisy.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

from bench._common import reset_postgres_database
from ledger.core.event import SignedEvent, parse_record
from ledger.demo.generate import generate_ledger
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.storage.database import open_backend
from projections.engine import Engine
from projections.rebuild import rebuild

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hoso_proj_bench"
RUNNER_TABLE = "bench_runner_streams"


class RecordMapper(Mapper[str]):
    """Stored states are hoso's signed records, not the library's JSON: parse them."""

    def __init__(self) -> None:
        super().__init__(transcoder=JSONTranscoder())

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return parse_record(stored_event.state)


class Hoso(Application[str]):
    """The ledger as the library sees it: application ``Hoso`` → table ``hoso_events``."""

    name = "Hoso"

    def construct_mapper(self) -> Mapper[str]:
        return RecordMapper()


class StreamsView(PostgresTrackingRecorder):
    """A minimal view: per stream, its last position and event type."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {t} (stream TEXT PRIMARY KEY, n BIGINT, type TEXT)"
            ).format(t=Identifier(RUNNER_TABLE))
        )
        self.upsert_sql = SQL(
            "INSERT INTO {t} (stream, n, type) VALUES (%s, %s, %s) ON CONFLICT (stream)"
            " DO UPDATE SET n = EXCLUDED.n, type = EXCLUDED.type"
        ).format(t=Identifier(RUNNER_TABLE))

    def upsert(self, event: SignedEvent, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            body = event.body
            curs.execute(self.upsert_sql, (body.stream, body.n, body.type), prepare=True)


class StreamsProjection(Projection[StreamsView]):
    name = "benchrunner"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.upsert(domain_event, tracking)


def runner_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_POOL_SIZE": "2",
        "ORIGINATOR_ID_TYPE": "text",
    }


def measure_runner(url: str, *, sample: int) -> tuple[int, float]:
    """(events, seconds) for the library's runner to project the first ``sample`` events."""
    backend = open_backend(url, pool_size=2)
    try:
        notes = backend.recorder.select_notifications(start=1, limit=sample)
        target = notes[-1].id
        with backend.sql.transaction() as curs:
            curs.execute(f"DROP TABLE IF EXISTS {RUNNER_TABLE}")
            curs.execute("DROP TABLE IF EXISTS benchrunner_tracking")
    finally:
        backend.close()
    began = time.perf_counter()
    with ProjectionRunner(
        application_class=Hoso,
        projection_class=StreamsProjection,
        view_class=StreamsView,
        env=runner_env(url),
    ) as runner:
        runner.wait(target, timeout=3600)
        seconds = time.perf_counter() - began
    return len(notes), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--dossiers", type=int, default=25_000)
    parser.add_argument("--from-db", action="store_true", help="use the ledger already at --url")
    parser.add_argument("--page", type=int, default=5_000)
    parser.add_argument("--sample", type=int, default=3_000)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="rebuild processes (1: in-process)"
    )
    args = parser.parse_args()

    if not args.from_db:
        reset_postgres_database(args.url)
        began = time.perf_counter()
        made = generate_ledger(args.url, dossiers=args.dossiers)
        print(
            f"generated {made.events:,} events ({made.dossiers:,} dossiers)"
            f" in {time.perf_counter() - began:.1f} s"
        )
    backend = open_backend(args.url)
    try:
        engine = Engine(backend, book=load_catalogue(), calendar=load_calendar())
        done = rebuild(engine, page=args.page, workers=args.workers)
    finally:
        backend.close()
    print(
        f"rebuild, all views ({', '.join(done.views)}): {done.events:,} events in"
        f" {done.seconds:.2f} s = {done.events_per_second:,.0f} events/s (target >= 30,000)"
    )
    sample, seconds = measure_runner(args.url, sample=args.sample)
    runner_eps = sample / seconds
    print(
        f"eventsourcing ProjectionRunner, minimal projection: {sample:,} events in"
        f" {seconds:.2f} s = {runner_eps:,.0f} events/s"
    )
    print(
        json.dumps(
            {
                "events": done.events,
                "rebuild_eps": round(done.events_per_second),
                "runner_eps": round(runner_eps),
                "ratio": round(done.events_per_second / runner_eps, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
