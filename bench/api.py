"""API throughput and latency on PostgreSQL: ``hoso serve`` (uvicorn, 2 workers) driven by
``wrk`` (Debian's package; a Python asyncio/httpx load generator when wrk is missing) in a
second process.

    .venv/bin/python -m bench.api [--url postgresql://postgres@127.0.0.1:5432/hoso_api_bench]
        [--dossiers 2000] [--seconds 10] [--concurrency 32] [--port 8765] [--python]

The database in ``--url`` is dropped and re-created; ``ledger.demo.generate.generate_ledger``
writes ``--dossiers`` dossiers, the projections are rebuilt and an inspector token issued.
Endpoints measured, each for ``--seconds`` after a 1 s warm-up, keys chosen at random:

* ``get_dossier``: ``GET /v1/dossiers/{code}`` (token; view row, stream read, results);
* ``inclusion_proof``: ``GET /v1/proofs/inclusion?index=`` (public; the rate limit is off);
* ``seal_verify``: ``POST /v1/seals/verify`` with QR seals issued for the ledger's valid
  results (signature, trust list, result status, inclusion proof against the checkpoint;
  the server holds the generated log key in a keystore, to sign the trust list).

The server and
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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.tokens import TokenStore
from bench._common import reset_postgres_database
from ledger.bootstrap import Ledger, bootstrap
from ledger.core.seal import seal_hs1
from ledger.core.signing import Signer
from ledger.demo.generate import GENERATE_ORIGIN, generate_ledger
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.services.seals.issue import issue_seal
from ledger.settings import Settings
from ledger.storage.database import open_backend
from ledger.storage.keystore import Keystore
from ledger.storage.keystore_format import MIN
from projections.engine import Engine
from projections.rebuild import rebuild

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hoso_api_bench"


PASSPHRASE = "bench-only passphrase"  # noqa: S105 (a throwaway keystore in /tmp)


@dataclass
class Prepared:
    codes: list[str]
    events: int
    token: str
    seals: list[str]  # HS1 texts
    keystore: Path


def prepare(url: str, dossiers: int, seals: int) -> Prepared:
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
    keys = generated.keys()
    keystore_path = Path(tempfile.mkdtemp(prefix="hoso-bench-api-")) / "keystore.json"
    keystore = Keystore.create(keystore_path, PASSPHRASE, limits=MIN)
    keystore.add("ledger-log", seed=keys.log.signer.export_seed())
    keystore.save()
    ledger = bootstrap(Settings(database_url=url, origin=GENERATE_ORIGIN))
    try:
        texts = issue_seals(ledger, generated.codes, keys.people.values(), limit=seals)
    finally:
        ledger.close()
    return Prepared(generated.codes, generated.events, token, texts, keystore_path)


def issue_seals(
    ledger: Ledger, codes: list[str], signers: Iterable[Signer], limit: int
) -> list[str]:
    """HS1 seals for up to ``limit`` valid results, each signed by its agency's seal key."""
    by_kid = {s.key_id: s for s in signers}
    seal_keys = {
        k.registration.agency: by_kid[k.registration.key_id]
        for k in ledger.keys.list()
        if "agency_seal" in k.registration.roles and k.registration.key_id in by_kid
    }
    texts: list[str] = []
    for code in codes:
        state = ledger.dossiers.state(code)
        if state is None:
            continue
        for number, result in state.results.items():
            if result.status == "valid" and state.agency in seal_keys:
                texts.append(seal_hs1(issue_seal(ledger, code, number, seal_keys[state.agency])))
        if len(texts) >= limit:
            break
    return texts[:limit]


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


WRK_SCRIPT = """
local lines = {}
for line in io.lines(os.getenv("HOSO_BENCH_LINES")) do lines[#lines + 1] = line end
local method = os.getenv("HOSO_BENCH_METHOD")
local json = {["Content-Type"] = "application/json"}
request = function()
  local line = lines[math.random(#lines)]
  if method == "POST" then return wrk.format("POST", os.getenv("HOSO_BENCH_PATH"), json, line) end
  return wrk.format("GET", line)
end
"""


def measure_wrk(
    base: str,
    lines: list[str],
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
    *,
    post_to: str | None = None,
) -> dict[str, float]:
    """``wrk`` in its own process: paths (GET) or JSON bodies (POST to ``post_to``)."""
    folder = Path(tempfile.mkdtemp(prefix="hoso-bench-wrk-"))
    (folder / "lines.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "script.lua").write_text(WRK_SCRIPT, encoding="utf-8")
    env = {
        **os.environ,
        "HOSO_BENCH_LINES": str(folder / "lines.txt"),
        "HOSO_BENCH_METHOD": "GET" if post_to is None else "POST",
        "HOSO_BENCH_PATH": post_to or "",
    }
    command = ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += ["-s", str(folder / "script.lua"), base]
    subprocess.run([*command[:3], "-d1s", *command[4:]], env=env, capture_output=True, check=True)  # noqa: S603 (warm-up)
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    if "Non-2xx" in out:
        raise SystemExit(f"non-200 answers: the benchmark is void\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": round(rps, 1), "p50_ms": _wrk_ms(out, "50%"), "p99_ms": _wrk_ms(out, "99%")}


def _wrk_ms(out: str, quantile: str) -> float:
    found = re.search(rf"^\s*{quantile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if found is None:
        raise SystemExit(f"no {quantile} latency in wrk's output\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return round(float(found.group(1)) * scale, 2)


def serve(
    url: str, port: int, workers: int, keystore: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOSO_DATABASE_URL": url,
        "HOSO_ORIGIN": GENERATE_ORIGIN,
        "HOSO_API_PUBLIC_RATE": "0",
        "HOSO_KEYSTORE_PATH": str(keystore or "/nonexistent/keystore.json"),
        "HOSO_KEYSTORE_PASSPHRASE": PASSPHRASE,
        "HOSO_LOG_KEY_NAME": "ledger-log",
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
    parser.add_argument("--seals", type=int, default=200)
    parser.add_argument("--python", action="store_true", help="the httpx generator, not wrk")
    args = parser.parse_args()
    ready = prepare(args.url, args.dossiers, args.seals)
    print(
        f"ledger: {len(ready.codes)} dossiers, {ready.events} events, {len(ready.seals)} seals;"
        f" serving with {args.workers} workers"
    )
    server = serve(args.url, args.port, args.workers, ready.keystore)
    base = f"http://127.0.0.1:{args.port}"
    wrk = shutil.which("wrk") is not None and not args.python
    run = measure_wrk if wrk else measure
    print(f"load generator: {'wrk' if wrk else 'python asyncio/httpx'}")
    try:
        results = {
            "get_dossier": run(
                base,
                [f"/v1/dossiers/{code}" for code in ready.codes],
                {"Authorization": f"Bearer {ready.token}"},
                args.seconds,
                args.concurrency,
            ),
            "inclusion_proof": run(
                base,
                [f"/v1/proofs/inclusion?index={i}" for i in range(0, ready.events, 7)],
                {},
                args.seconds,
                args.concurrency,
            ),
        }
        if wrk:
            results["seal_verify"] = measure_wrk(
                base,
                [json.dumps({"seal": text}) for text in ready.seals],
                {},
                args.seconds,
                args.concurrency,
                post_to="/v1/seals/verify",
            )
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
