"""API throughput, latency and CPU per request on PostgreSQL: ``hoso serve`` (2 workers,
uvicorn and granian in turn) driven by ``wrk`` (Debian's package; a Python
asyncio/httpx load generator when wrk is missing) in a second process.

    .venv/bin/python -m bench.api [--url postgresql://postgres@127.0.0.1:5432/hoso_api_bench]
        [--dossiers 2000] [--seconds 10] [--concurrency 32] [--port 8765]
        [--servers uvicorn,granian] [--python]

The database in ``--url`` is dropped and re-created; ``ledger.demo.generate.generate_ledger``
writes ``--dossiers`` dossiers, the projections are rebuilt and an inspector token issued.
Endpoints measured, each for ``--seconds`` after a 1 s warm-up, keys chosen at random:

* ``healthz``: ``GET /healthz``, the baseline: the server and framework alone, no
  database, measured in the same run so the others can be read as ratios of it on a
  machine whose load changes (other jobs share the cores);
* ``get_dossier``: ``GET /v1/dossiers/{code}`` (token; the read document, one SELECT);
* ``list_dossiers``: ``GET /v1/dossiers?state=…&limit=20``, a first page (token);
* ``inclusion_proof``: ``GET /v1/proofs/inclusion?index=`` (public; the rate limit is off);
* ``seal_verify``: ``POST /v1/seals/verify`` with QR seals issued for the ledger's valid
  results (signature, trust list, result status, inclusion proof against the checkpoint;
  the server holds the generated log key in a keystore, to sign the trust list).

CPU per request is the CPU time the server's processes (``server_cpu_ms``) and the
database's backends for the bench database (``db_cpu_ms``) used during the run, divided
by the requests answered (from ``/proc``; the load generator's own CPU is not counted).
The last line is one JSON object: server → endpoint → ``{"rps", "p50_ms", "p99_ms",
"server_cpu_ms", "db_cpu_ms", "rps_vs_healthz"}``.
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
    url: str, port: int, workers: int, keystore: Path | None = None, server: str = "uvicorn"
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
    command += ["--server", server, "--dev"]  # a throwaway ledger: the development keys
    process = subprocess.Popen(command, env=env)  # noqa: S603 (our own console script)
    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("hoso serve did not come up")


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _db_backends(url: str) -> list[int]:
    import psycopg  # noqa: PLC0415

    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname],
        ).fetchall()
    return [int(r[0]) for r in rows]


def run_endpoint(
    run: Any,
    server: subprocess.Popen[bytes],
    url: str,
    *args: Any,
    **kwargs: Any,
) -> dict[str, float]:
    """One measurement, with the CPU the server and the database used for it."""
    processes = _tree(server.pid)
    backends = _db_backends(url)
    before = sum(map(_cpu_s, processes)), sum(map(_cpu_s, backends))
    seconds = args[3]
    result: dict[str, float] = run(*args, **kwargs)
    after = sum(map(_cpu_s, processes)), sum(map(_cpu_s, backends))
    # the warm-up second also ran (wrk -d1s, the python generator's first second)
    requests = result["rps"] * (seconds + 1.0)
    result["server_cpu_ms"] = round((after[0] - before[0]) * 1000 / requests, 3)
    result["db_cpu_ms"] = round((after[1] - before[1]) * 1000 / requests, 3)
    return result


def measure_server(
    ready: Prepared, args: argparse.Namespace, server_name: str, wrk: bool
) -> dict[str, dict[str, float]]:
    run = measure_wrk if wrk else measure
    server = serve(args.url, args.port, args.workers, ready.keystore, server_name)
    base = f"http://127.0.0.1:{args.port}"
    token = {"Authorization": f"Bearer {ready.token}"}
    states = ["received", "processing", "resolved", "delivered", "supplement_requested"]
    try:
        results = {
            "healthz": run_endpoint(
                run, server, args.url, base, ["/healthz"], {}, args.seconds, args.concurrency
            ),
            "get_dossier": run_endpoint(
                run,
                server,
                args.url,
                base,
                [f"/v1/dossiers/{code}" for code in ready.codes],
                token,
                args.seconds,
                args.concurrency,
            ),
            "list_dossiers": run_endpoint(
                run,
                server,
                args.url,
                base,
                [f"/v1/dossiers?state={s}&limit=20" for s in states] + ["/v1/dossiers?limit=20"],
                token,
                args.seconds,
                args.concurrency,
            ),
            "inclusion_proof": run_endpoint(
                run,
                server,
                args.url,
                base,
                [f"/v1/proofs/inclusion?index={i}" for i in range(0, ready.events, 7)],
                {},
                args.seconds,
                args.concurrency,
            ),
        }
        if wrk:
            results["seal_verify"] = run_endpoint(
                measure_wrk,
                server,
                args.url,
                base,
                [json.dumps({"seal": text}) for text in ready.seals],
                {},
                args.seconds,
                args.concurrency,
                post_to="/v1/seals/verify",
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # (granian may linger on SIGTERM)
            server.kill()
            server.wait(timeout=30)
    floor = results["healthz"]["rps"]
    for result in results.values():
        result["rps_vs_healthz"] = round(result["rps"] / floor, 3)
    return results


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
    parser.add_argument("--servers", default="uvicorn,granian", help="comma-separated")
    args = parser.parse_args()
    ready = prepare(args.url, args.dossiers, args.seals)
    print(
        f"ledger: {len(ready.codes)} dossiers, {ready.events} events, {len(ready.seals)} seals;"
        f" serving with {args.workers} workers"
    )
    wrk = shutil.which("wrk") is not None and not args.python
    print(f"load generator: {'wrk' if wrk else 'python asyncio/httpx'}")
    results = {}
    for name in args.servers.split(","):
        results[name] = measure_server(ready, args, name, wrk)
        for endpoint, r in results[name].items():
            print(
                f"{name} {endpoint}: {r['rps']} req/s, p50 {r['p50_ms']} ms,"
                f" p99 {r['p99_ms']} ms, server CPU {r['server_cpu_ms']} ms/req,"
                f" db CPU {r['db_cpu_ms']} ms/req ({r['rps_vs_healthz']} of healthz)"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
