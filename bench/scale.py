"""The scale run: one ledger of ~1,000,000 signed events on PostgreSQL, taken through
every stage a deployment runs, each stage timed and its peak memory measured.

    .venv/bin/python -m bench.scale [--url postgresql://postgres@127.0.0.1:5432/hoso_scale]
        [--events 1000000] [--workers N] [--reuse] [--seed 1] [--mix hanoi|scenarios]
        [--stages ingest integrate project verify read]

The database in ``--url`` is dropped and re-created (unless ``--reuse`` finds a ledger
there: then ingest is skipped). Stages, each in its own child process so that no stage
inherits another's peak RSS:

1. **ingest**: ``ledger.demo.generate.generate_ledger`` (``--mix``: the realistic Hanoi mix,
   or the demo's nine scenarios in turn; every event signed by the acting official's
   key and appended through the checked ``EventStore`` in batches of 2,000) with
   enough dossiers for ``--events`` events. The generator also integrates
   the Merkle log and signs checkpoints; for this run its ``MerkleLog`` and
   ``_checkpoint`` are patched to no-ops in the child (``unittest.mock``, nothing
   changes in ``ledger/``), so this stage is appends only;
2. **integrate**: ``MerkleLog.integrate()`` of the whole log from leaf 0, then one
   checkpoint signed with the log key and cosigned by the witness (the generator's
   seeded test keys);
3. **project**: ``projections.rebuild.rebuild`` of every view with ``--workers``;
4. **verify**: ``verify.run.verify_ledger`` (steps 1–9, rules included) over
   ``ledger.services.verify_source.DatabaseSource`` with ``--workers``, under the trust
   roots of the generated ledger; a finding in the ``integrity`` or ``malformed`` family
   fails the run (``rule`` findings are expected: the scenarios plant violations).

Per stage: ``seconds`` (wall, measured in the child around the work itself),
``events_per_s``, ``peak_rss_mb`` (the largest peak RSS of any one process of the
stage: ``os.wait4``'s rusage, which covers the child and the workers it waited for),
``peak_tree_rss_mb`` (the child plus its worker processes together, sampled from
/proc every 0.2 s: a lower bound on the true peak) and the load average before and
after. The baseline, measured last in the same run (stage **read**): one plain
``SELECT state FROM hoso_events ORDER BY notification_id`` streamed through a
server-side cursor — the floor cost of touching every stored record once. Each
stage's ``vs_read`` = its events/s ÷ the baseline's (how many times slower than just
reading the log it is). ``--stages`` runs a subset (e.g. ``--reuse --stages read``).
The machine is shared: numbers are noisy. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal
from unittest import mock

from bench._common import reset_postgres_database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hoso_scale"
STAGES = ("ingest", "integrate", "project", "verify", "read")
NOW_US = 1_780_000_000_000_000  # the verifier's "now": after every generated dossier
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
Mix = Literal["hanoi", "scenarios"]


# --- sizing and trust ---------------------------------------------------------


def events_per_dossier(seed: int, mix: Mix) -> tuple[float, int]:
    """(events per dossier, fixed events) of the generator's ``mix``, measured on SQLite."""
    from ledger.demo.generate import generate_ledger  # noqa: PLC0415

    probe_dossiers = 360
    with tempfile.TemporaryDirectory() as tmp:
        empty = generate_ledger(f"sqlite:///{tmp}/zero.db", dossiers=0, seed=seed, mix=mix)
        probe = generate_ledger(
            f"sqlite:///{tmp}/probe.db", dossiers=probe_dossiers, seed=seed, mix=mix
        )
    return (probe.events - empty.events) / probe_dossiers, empty.events


def trust_text(seed: int) -> str:
    """The trust file of the ledger ``generate_ledger(..., seed=seed)`` writes."""
    from ledger.core.note import format_vkey  # noqa: PLC0415
    from ledger.demo.generate import GENERATE_ORIGIN, GeneratedKeys  # noqa: PLC0415
    from ledger.demo.office import cast  # noqa: PLC0415

    keys = GeneratedKeys.derive(seed, cast(), GENERATE_ORIGIN)
    authority = format_vkey(f"{GENERATE_ORIGIN}/authority", 0x01, keys.authority.public_key)
    return (
        f"origin {GENERATE_ORIGIN}\n"
        f"log {keys.log.verifier.vkey}\n"
        f"authority {authority}\n"
        f"witness {keys.witness.verifier.vkey}\n"
    )


def has_ledger(url: str) -> int:
    """How many events the database at ``url`` holds (0: none, or no database)."""
    import psycopg  # noqa: PLC0415

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT MAX(notification_id) FROM hoso_events").fetchone()
    except psycopg.Error:
        return 0
    return 0 if row is None or row[0] is None else int(row[0])


# --- stages (each runs in a child process) -------------------------------------


def stage_ingest(url: str, *, dossiers: int, seed: int, workers: int, mix: Mix) -> dict[str, Any]:
    from ledger.demo import generate  # noqa: PLC0415
    from ledger.storage.database import Backend  # noqa: PLC0415
    from ledger.storage.merkle_log import MerkleLog  # noqa: PLC0415

    class AppendOnlyLog(MerkleLog):
        """Integration deferred to the next stage: ``size`` counts appended events."""

        def __init__(self, backend: Backend) -> None:
            super().__init__(backend)

        def integrate(self, *, page: int = 0, limit: int | None = None) -> int:
            return 0

        def size(self) -> int:
            return int(self.backend.recorder.max_notification_id() or 0)

    def no_checkpoint(*args: object, **kwargs: object) -> int:
        return 0

    started = time.perf_counter()
    with (
        mock.patch.object(generate, "MerkleLog", AppendOnlyLog),
        mock.patch.object(generate, "_checkpoint", no_checkpoint),
    ):
        generated = generate.generate_ledger(url, dossiers=dossiers, seed=seed, mix=mix)
    return {
        "seconds": time.perf_counter() - started,
        "events": generated.events,
        "dossiers": generated.dossiers,
    }


def stage_integrate(
    url: str, *, dossiers: int, seed: int, workers: int, mix: Mix
) -> dict[str, Any]:
    from ledger.core.checkpoint import parse_checkpoint_text  # noqa: PLC0415
    from ledger.demo.generate import GENERATE_ORIGIN, START_US, GeneratedKeys  # noqa: PLC0415
    from ledger.demo.office import cast  # noqa: PLC0415
    from ledger.storage.checkpoints import Checkpoints  # noqa: PLC0415
    from ledger.storage.database import open_backend  # noqa: PLC0415
    from ledger.storage.merkle_log import MerkleLog  # noqa: PLC0415

    keys = GeneratedKeys.derive(seed, cast(), GENERATE_ORIGIN)
    backend = open_backend(url)
    try:
        started = time.perf_counter()
        log = MerkleLog(backend)
        added = log.integrate()
        integrated = time.perf_counter()
        checkpoints = Checkpoints(log, signer=keys.log, witnesses=[keys.witness.verifier])
        note = checkpoints.sign(now_us=START_US + 2)
        checkpoint = parse_checkpoint_text(note.text)
        checkpoints.add_cosignature(
            size=checkpoint.size, signature=keys.witness.cosign(checkpoint, timestamp=2)
        )
        finished = time.perf_counter()
    finally:
        backend.close()
    return {
        "seconds": finished - started,
        "events": added,
        "size": checkpoint.size,
        "integrate_seconds": integrated - started,
        "checkpoint_seconds": finished - integrated,
    }


def stage_project(url: str, *, dossiers: int, seed: int, workers: int, mix: Mix) -> dict[str, Any]:
    from ledger.domain.calendar_data import load_calendar  # noqa: PLC0415
    from ledger.domain.procedures_data import load_catalogue  # noqa: PLC0415
    from ledger.storage.database import open_backend  # noqa: PLC0415
    from projections.engine import Engine  # noqa: PLC0415
    from projections.rebuild import rebuild  # noqa: PLC0415

    backend = open_backend(url)
    try:
        engine = Engine(backend, book=load_catalogue(), calendar=load_calendar())
        started = time.perf_counter()
        rebuilt = rebuild(engine, workers=workers)
        elapsed = time.perf_counter() - started
    finally:
        backend.close()
    return {"seconds": elapsed, "events": rebuilt.events, "views": len(rebuilt.views)}


def stage_verify(url: str, *, dossiers: int, seed: int, workers: int, mix: Mix) -> dict[str, Any]:
    from ledger.domain.calendar_data import load_calendar  # noqa: PLC0415
    from ledger.domain.procedures_data import load_catalogue  # noqa: PLC0415
    from ledger.services.verify_source import DatabaseSource  # noqa: PLC0415
    from verify.run import verify_ledger  # noqa: PLC0415
    from verify.trust import parse_trust  # noqa: PLC0415

    trust = parse_trust(trust_text(seed))
    started = time.perf_counter()
    report = verify_ledger(
        DatabaseSource(url),
        trust,
        catalogue=load_catalogue(),
        calendar=load_calendar(),
        now_us=NOW_US,
        workers=workers,
    )
    elapsed = time.perf_counter() - started
    integrity = report.findings.total("integrity") + report.findings.total("malformed")
    if integrity:
        raise SystemExit(f"verify: {integrity} integrity findings: {report.findings.counts}")
    return {
        "seconds": elapsed,
        "events": report.records,
        "signatures": report.signatures,
        "log_seconds": report.seconds.get("log", 0.0),
        "rules_seconds": report.seconds.get("dossiers", 0.0),
        "findings": {
            family: report.findings.total(family) for family in ("malformed", "integrity", "rule")
        },
    }


def stage_read(url: str, *, dossiers: int, seed: int, workers: int, mix: Mix) -> dict[str, Any]:
    """The baseline: stream every stored record's bytes in log order, nothing else."""
    import psycopg  # noqa: PLC0415

    started = time.perf_counter()
    count = size = 0
    with psycopg.connect(url) as conn, conn.cursor(name="hoso_scale_read") as curs:
        curs.itersize = 5000
        curs.execute("SELECT state FROM hoso_events ORDER BY notification_id")
        for (state,) in curs:
            count += 1
            size += len(state)
    return {"seconds": time.perf_counter() - started, "events": count, "bytes": size}


RUNNERS = {
    "ingest": stage_ingest,
    "integrate": stage_integrate,
    "project": stage_project,
    "verify": stage_verify,
    "read": stage_read,
}


# --- the parent: one child per stage, its peak memory from wait4 and /proc ------


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and its descendants now (0 if it is gone)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(statm.split()[1]) * PAGE_SIZE
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += rss.get(pid, 0)
        frontier.extend(child for child, parent in parents.items() if parent == pid)
    return total


def run_stage(stage: str, args: argparse.Namespace, dossiers: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    command = [
        sys.executable,
        "-m",
        "bench.scale",
        "--child",
        stage,
        "--url",
        args.url,
        "--dossiers",
        str(dossiers),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--mix",
        args.mix,
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.wait(0.2):
            peak_tree = max(peak_tree, tree_rss_bytes(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    seconds = float(result["seconds"])
    for key, value in result.items():
        if isinstance(value, float):
            result[key] = round(value, 1)
    result["events_per_s"] = round(result["events"] / seconds) if seconds > 0 else 0
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: kilobytes
    result["peak_tree_rss_mb"] = round(peak_tree / 2**20, 1)
    result["load_avg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--mix",
        choices=("hanoi", "scenarios"),
        default="hanoi",
        help="the generator's realistic Hanoi mix, or the demo's nine scenarios in turn",
    )
    parser.add_argument("--reuse", action="store_true", help="keep a ledger already in --url")
    parser.add_argument(
        "--stages", nargs="+", choices=STAGES, default=list(STAGES), help="stages to run"
    )
    parser.add_argument("--child", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--dossiers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        out = RUNNERS[args.child](
            args.url, dossiers=args.dossiers, seed=args.seed, workers=args.workers, mix=args.mix
        )
        print(json.dumps(out))
        return

    per_dossier, fixed = events_per_dossier(args.seed, args.mix)
    dossiers = max(1, round((args.events - fixed) / per_dossier))
    existing = has_ledger(args.url) if args.reuse else 0
    stages = [s for s in STAGES if s in args.stages and not (existing and s == "ingest")]
    if not existing:
        if "ingest" not in stages:
            raise SystemExit(f"no ledger in {args.url}: run the ingest stage first")
        reset_postgres_database(args.url)
    print(
        f"{dossiers} dossiers (≈{per_dossier:.2f} events each + {fixed}), "
        f"workers {args.workers}, stages {', '.join(stages)}",
        file=sys.stderr,
    )
    results: dict[str, dict[str, Any]] = {}
    load_start = os.getloadavg()
    started = time.perf_counter()
    for stage in stages:
        results[stage] = run_stage(stage, args, dossiers)
        print(f"{stage}: {json.dumps(results[stage])}", file=sys.stderr)
    events = has_ledger(args.url)
    read_eps = results.get("read", {}).get("events_per_s", 0)
    for stage, result in results.items():
        if read_eps and stage != "read":
            result["vs_read"] = round(result["events_per_s"] / read_eps, 3)
    print(
        json.dumps(
            {
                "events": events,
                "dossiers": dossiers,
                "workers": args.workers,
                "mix": args.mix,
                "cpus": os.cpu_count(),
                "reused": bool(existing),
                "load_avg_start": [round(x, 2) for x in load_start],
                "load_avg_end": [round(x, 2) for x in os.getloadavg()],
                "total_seconds": round(time.perf_counter() - started, 1),
                "stages": results,
            }
        )
    )


if __name__ == "__main__":
    main()
