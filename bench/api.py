"""API throughput and latency on PostgreSQL: ``hoso serve`` (uvicorn, 2 workers) driven by a
Python asyncio/httpx load generator in a second process.

    .venv/bin/python -m bench.api [--url postgresql://postgres@127.0.0.1:5432/hoso_api_bench]
        [--dossiers 2000] [--seconds 10] [--concurrency 32] [--port 8765]

The database in ``--url`` is dropped and re-created; ``ledger.generate.generate_ledger``
writes ``--dossiers`` dossiers, the projections are rebuilt and an inspector token issued.
Endpoints measured, each for ``--seconds`` after a 1 s warm-up, keys chosen at random:

* ``get_dossier``: ``GET /v1/dossiers/{code}`` (token; view row, stream read, results);
* ``inclusion_proof``: ``GET /v1/proofs/inclusion?index=`` (public; the rate limit is off).

Seal verification is not measured: that endpoint lives on the QR branch. The server and
the load generator share this machine's cores (and other engineers' jobs): numbers are
noisy and a lower bound of what a dedicated host would do. The last line is one JSON
object mapping each endpoint to ``{"rps", "p50_ms", "p99_ms"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from api.tokens import TokenStore
from bench._common import reset_postgres_database
from ledger.domain.calendar import load_calendar
from ledger.domain.procedures import load_catalogue
from ledger.generate import GENERATE_ORIGIN, generate_ledger
from ledger.storage.database import open_backend
from projections.engine import Engine
from projections.rebuild import rebuild

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hoso_api_bench"


def prepare(url: str, dossiers: int) -> tuple[list[str], int, str]:
    reset_postgres_database(url)
    generated = generate_ledger(url, dossiers=dossiers)
    backend = open_backend(url)
    try:
        rebuild(Engine(backend, book=load_catalogue(), calendar=load_calendar()))
        store = TokenStore(backend.sql, clock_us=lambda: time.time_ns() // 1000)
        store.create_table()
        token = store.issue(kind="inspector", actor="inspector:bench", agency="BENCH").token
    finally:
        backend.close()
    return generated.codes, generated.events, token


async def _drive(
    base: str, paths: list[str], headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def worker(deadline: float, record: bool) -> None:
            nonlocal errors
            rng = random.Random()
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await client.get(rng.choice(paths))
                if record:
                    latencies.append(time.perf_counter() - began)
                    errors += response.status_code != 200

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(worker(warm, False) for _ in range(concurrency)))
        began = time.perf_counter()
        deadline = began + seconds
        await asyncio.gather(*(worker(deadline, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, errors, elapsed


def load(job: tuple[str, list[str], dict[str, str], float, int], out: Any) -> None:
    """Runs in its own process: the load generator."""
    latencies, errors, elapsed = asyncio.run(_drive(*job))
    out.put((latencies, errors, elapsed))


def measure(
    base: str, paths: list[str], headers: dict[str, str], seconds: float, concurrency: int
) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=load, args=((base, paths, headers, seconds, concurrency), queue))
    proc.start()
    latencies, errors, elapsed = queue.get()
    proc.join()
    if errors:
        raise SystemExit(f"{errors} non-200 answers: the benchmark is void")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOSO_DATABASE_URL": url,
        "HOSO_ORIGIN": GENERATE_ORIGIN,
        "HOSO_API_PUBLIC_RATE": "0",
        "HOSO_KEYSTORE_PATH": "/nonexistent/keystore.json",
    }
    hoso = Path(sys.executable).with_name("hoso")
    command = [str(hoso), "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env)  # noqa: S603 (our own console script)
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("hoso serve did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    codes, events, token = prepare(args.url, args.dossiers)
    print(f"ledger: {len(codes)} dossiers, {events} events; serving with {args.workers} workers")
    server = serve(args.url, args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"
    try:
        results = {
            "get_dossier": measure(
                base,
                [f"/v1/dossiers/{code}" for code in codes],
                {"Authorization": f"Bearer {token}"},
                args.seconds,
                args.concurrency,
            ),
            "inclusion_proof": measure(
                base,
                [f"/v1/proofs/inclusion?index={i}" for i in range(0, events, 7)],
                {},
                args.seconds,
                args.concurrency,
            ),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, result in results.items():
        print(
            f"{name}: {result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
