"""Verifier throughput and memory: events verified per second on a PostgreSQL ledger,
beside the raw PyNaCl verify rate × cores measured in the same run, and peak RSS.

    .venv/bin/python -m bench.verify [--url postgresql://postgres@127.0.0.1:5432/hoso_bench_verify]
        [--dossiers 25000] [--rss-dossiers 125000] [--workers N] [--reuse]

The database in ``--url`` is dropped and re-created (unless ``--reuse`` finds a ledger
there) and filled by ``ledger.demo.generate`` (the demo's scenarios, ~8 events per dossier:
25,000 dossiers ≈ 200,000 events). The verifier (steps 1–7: integrity; rules are
timed separately) runs in a child process so its peak RSS is its own.

* ``limit_eps``: single-core ``crypto_sign_open`` rate (PyNaCl's binding, the call the
  verifier makes) × workers ÷ signatures per event: the event rate if signature checks
  were the only cost and every worker did nothing else.
* ``ratio`` = ``verify_eps`` / ``limit_eps`` (target ≥ 0.8).
* ``peak_rss_mb``: the largest peak RSS of the verifier process and its workers while
  verifying the ``--rss-dossiers`` ledger (≈ 1,000,000 events at 125,000; target ≤ 300 MB).

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from nacl.bindings import crypto_sign_open

from bench._common import reset_postgres_database
from ledger.core.signing import Signer
from ledger.demo.generate import generate_ledger

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hoso_bench_verify"


def raw_verify_rate(seconds: float = 2.0) -> float:
    """Ed25519 verifications per second on one core, the same call the verifier makes."""
    signer = Signer(bytes(32))
    message = b"hoso/event-signature/v1\x00" + bytes(range(32))
    signed = signer.sign(message) + message
    public_key = signer.public_key
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(500):
            crypto_sign_open(signed, public_key)
        count += 500
    return count / (time.perf_counter() - start)


def ensure_ledger(url: str, dossiers: int, *, reuse: bool) -> str:
    """Generate the ledger (or reuse one); return its trust file text."""
    trust_path = f"/tmp/hoso-bench-verify-{abs(hash(url)) % 10**8}-{dossiers}.trust"  # noqa: S108
    if reuse and os.path.exists(trust_path):
        with open(trust_path, encoding="utf-8") as handle:
            return handle.read()
    reset_postgres_database(url)
    started = time.perf_counter()
    generated = generate_ledger(url, dossiers=dossiers, seed=1)
    print(
        f"generated {generated.events} events in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    with open(trust_path, "w", encoding="utf-8") as handle:
        handle.write(generated.trust_lines())
    return generated.trust_lines()


def run_child(url: str, trust: str, workers: int, *, rules: bool) -> dict[str, float]:
    """Verify in a child process; it prints its timings and peak RSS as JSON."""
    out = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "bench.verify", "--child", url, "--workers", str(workers)]
        + ([] if rules else ["--no-rules"]),
        input=trust,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def child(url: str, workers: int, *, rules: bool) -> None:
    from ledger.domain.calendar_data import load_calendar  # noqa: PLC0415
    from ledger.domain.procedures_data import load_catalogue  # noqa: PLC0415
    from ledger.services.verify_source import DatabaseSource  # noqa: PLC0415
    from verify.run import verify_ledger  # noqa: PLC0415
    from verify.trust import parse_trust  # noqa: PLC0415

    trust = parse_trust(sys.stdin.read())
    started = time.perf_counter()
    report = verify_ledger(
        DatabaseSource(url),
        trust,
        catalogue=load_catalogue(),
        calendar=load_calendar(),
        now_us=1_780_000_000_000_000,
        workers=workers,
        rules=rules,
    )
    elapsed = time.perf_counter() - started
    assert report.findings.total("integrity") == 0, report.findings.counts
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "events": report.records,
                "signatures": report.signatures,
                "log_seconds": report.seconds["log"],
                "rules_seconds": report.seconds.get("dossiers", 0.0),
                "seconds": elapsed,
                "rss_mb": own,
                "worker_rss_mb": workers_rss,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--dossiers", type=int, default=25_000)
    parser.add_argument("--rss-dossiers", type=int, default=125_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reuse", action="store_true", help="reuse a ledger generated before")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--no-rules", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workers, rules=not args.no_rules)
        return
    trust = ensure_ledger(args.url, args.dossiers, reuse=args.reuse)
    raw = raw_verify_rate()
    timed = run_child(args.url, trust, args.workers, rules=False)
    with_rules = run_child(args.url, trust, args.workers, rules=True)
    per_event = timed["signatures"] / timed["events"]
    limit_eps = raw * args.workers / per_event
    verify_eps = timed["events"] / timed["log_seconds"]
    print(
        f"{timed['events']:.0f} events, {per_event:.2f} signatures/event; raw verify "
        f"{raw:,.0f}/s/core; integrity {verify_eps:,.0f} events/s with {args.workers} "
        f"workers; with rules {with_rules['events'] / with_rules['seconds']:,.0f} events/s",
        file=sys.stderr,
    )
    rss_url = args.url + "_1m"
    rss_trust = ensure_ledger(rss_url, args.rss_dossiers, reuse=args.reuse)
    big = run_child(rss_url, rss_trust, args.workers, rules=True)
    print(
        f"{big['events']:.0f} events: {big['seconds']:.0f} s, peak RSS {big['rss_mb']:.0f} MB "
        f"(workers {big['worker_rss_mb']:.0f} MB)",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "events": int(timed["events"]),
                "verify_eps": round(verify_eps),
                "limit_eps": round(limit_eps),
                "ratio": round(verify_eps / limit_eps, 3),
                "peak_rss_mb": round(max(big["rss_mb"], big["worker_rss_mb"]), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
