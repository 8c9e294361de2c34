"""``hoso demo``: a realistic Hanoi ledger end to end on a real database (SQLite by default).

The generator (:mod:`ledger.generate`, ``mix="hanoi"``, personal data on) writes
the key registry and the dossiers of seven Hanoi agencies over four months
across Tết, integrates them into the Merkle log, signs checkpoints and has the
witness cosign; then the demo rebuilds the projections and the rule findings,
writes result sheets with QR seals, runs the offline verifier over the whole
database (with its HTML report), shows one flipped bit caught, and prepares
what ``hoso serve`` needs to browse it (:mod:`ledger.demo_steps`). The output
goes to ``hoso-data/`` (beside the SQLite file). Every key is derived from
``--seed``: demo-only keys, never for real use.

``DemoKeys``, ``registry_events`` and ``verify_from_bytes`` are the small
nine-scenario kit that tests build their own ledgers with.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.core import merkle
from ledger.core.checkpoint import Cosigner, open_checkpoint, verify_cosignatures
from ledger.core.event import (
    SignedEvent,
    parse_record,
    verify_link,
    verify_signatures,
)
from ledger.core.note import Ed25519NoteSigner
from ledger.core.registry import (
    REGISTRY_STREAM,
    Registration,
    RegistryState,
    registration_events,
    registry_change,
)
from ledger.core.signing import KeyId, PublicKey, Signer
from ledger.demo_scenarios import (
    DAY,
    Official,
    generate_keys,
)
from ledger.demo_steps import (
    Sheets,
    open_ledger,
    projections_and_findings,
    result_sheets,
    serve_files,
    tamper,
    verify,
)
from ledger.demo_summary import passed, print_summary, summary_json, tally
from ledger.generate import GeneratedLedger, generate_ledger
from ledger.privacy.records import PersonalRecord
from ledger.settings import Settings
from ledger.storage.database import open_backend, parse_database_url
from verify.run import Report

ORIGIN = "demo.hoso.example/hanoi"
DEFAULT_DB = "sqlite:///hoso-data/demo.sqlite"
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
# the default retention of a resultless dossier (what `hoso privacy audit` applies)
DEMO_RETENTION_US = Settings.model_fields["retention_days_without_result"].default * DAY


class DemoError(Exception):
    """The demo can't run here (e.g. a non-empty PostgreSQL database)."""


@dataclass(frozen=True)
class DemoKeys:
    """The demo's keys. Seeds come from the OS here, at the edge, never from the core."""

    authority: Signer
    log: Ed25519NoteSigner
    witness: Cosigner
    people: dict[str, Signer]

    @classmethod
    def generate(cls, people: dict[str, Official]) -> DemoKeys:
        return cls(
            authority=Signer(os.urandom(32)),
            log=Ed25519NoteSigner(ORIGIN, Signer(os.urandom(32))),
            witness=Cosigner("witness.demo.hoso.example/so-tttt", Signer(os.urandom(32))),
            people=generate_keys(people),
        )

    def authorities(self) -> dict[KeyId, PublicKey]:
        return {self.authority.key_id: self.authority.public_key}


def registry_events(keys: DemoKeys, people: dict[str, Official]) -> list[SignedEvent]:
    """Authority-signed registrations of every official's key, in name order."""
    return registration_events(
        [
            Registration(keys.people[name].public_key, o.actor, o.roles, o.agency)
            for name, o in sorted(people.items())
        ],
        origin=ORIGIN,
        authority=keys.authority,
        authority_actor="authority:demo",
        time_us=START_US,
    )


def verify_from_bytes(
    records: list[bytes], checkpoint_note: bytes, keys: DemoKeys
) -> tuple[int, dict[str, int]]:
    """Re-verify from raw stored bytes with the pure core: the checkpoint and its
    cosignature, every signature against the registry *as of its log position*,
    every chain, and every record's inclusion under the checkpoint root."""
    checkpoint, note = open_checkpoint(checkpoint_note, origin=ORIGIN, log_keys=[keys.log.verifier])
    cosigned = verify_cosignatures(note, [keys.witness.verifier])
    registry = RegistryState()
    heads: dict[str, SignedEvent] = {}
    tree = merkle.MemoryTree()
    for index, record in enumerate(records[: checkpoint.size]):
        event = parse_record(record, where=f"leaf {index}")
        if event.body.stream == REGISTRY_STREAM:
            verify_signatures(event, keys.authorities())
            registry.apply(registry_change(event), position=index)
        else:
            trusted = {
                s.key_id: registry.check(s.key_id, position=index).public_key
                for s in event.signatures
            }
            verify_signatures(event, trusted)
        verify_link(event, heads.get(event.body.stream))
        heads[event.body.stream] = event
        tree.append(event.leaf_hash)
    for index in range(tree.size):
        merkle.verify_inclusion(
            index=index,
            size=checkpoint.size,
            leaf_hash=tree.get_nodes([merkle.NodeID(0, index)])[0],
            proof=tree.inclusion_proof(index=index, size=checkpoint.size),
            root=checkpoint.root,
        )
    return checkpoint.size, cosigned


def prepare_database(url: str) -> None:
    """Start the demo's SQLite file afresh (a PostgreSQL database must already be empty)."""
    parsed = parse_database_url(url)
    if parsed.kind == "sqlite" and parsed.path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.path + suffix).unlink(missing_ok=True)


@dataclass
class DemoRun:
    """What the demo did, for the summary (rich or ``--json``)."""

    db: str
    folder: Path
    generated: GeneratedLedger
    seconds: dict[str, float] = field(default_factory=dict)
    findings_table: int = 0
    sheets: Sheets | None = None
    report: Report | None = None
    tamper: str = ""
    env: Path | None = None
    token: str = ""
    states: Counter[str] = field(default_factory=Counter)
    by_agency: dict[str, Counter[str]] = field(default_factory=dict)
    on_time: dict[str, tuple[int, int]] = field(default_factory=dict)  # agency → (on time, all)
    tet_pushed: int = 0


def run_demo(
    *,
    dossiers: int = 1000,
    db: str = DEFAULT_DB,
    seed: int = 1,
    console: Console | None = None,
    applicants: dict[str, PersonalRecord] | None = None,
    as_json: bool = False,
) -> int:
    """Run the demo; return the process exit code (0 when every check passed).

    ``applicants`` (if given) receives each dossier's synthetic personal record, so a
    test can search the stored bytes for every personal value the run used."""
    out = console or Console()
    prepare_database(db)
    backend = open_backend(db)
    try:
        if backend.recorder.max_notification_id():
            raise DemoError(f"{parse_database_url(db)} already holds a ledger; use an empty one")
    finally:
        backend.close()
    parsed = parse_database_url(db)
    folder = Path(parsed.path).parent if parsed.kind == "sqlite" else Path("hoso-data")
    folder.mkdir(parents=True, exist_ok=True)
    run = _run(out, db=db, folder=folder, dossiers=dossiers, seed=seed, quiet=as_json)
    if applicants is not None:
        applicants.update(run.generated.applicants)
    ok = passed(run)
    if as_json:
        out.print_json(data=summary_json(run, ok=ok))
    else:
        print_summary(out, run, ok=ok)
    return 0 if ok else 1


def _run(out: Console, *, db: str, folder: Path, dossiers: int, seed: int, quiet: bool) -> DemoRun:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=out, disable=quiet) as bars:

        def step(label: str, total: int) -> Callable[[int, int], None]:
            task = bars.add_task(label, total=total)

            def tick(done: int, of: int) -> None:
                bars.update(task, completed=done, total=of)

            return tick

        began = time.perf_counter()
        generated = generate_ledger(
            db,
            dossiers=dossiers,
            seed=seed,
            origin=ORIGIN,
            privacy=True,
            progress=step("registry, keys, dossiers, checkpoints, cosignatures", dossiers),
        )
        run = DemoRun(db, folder, generated)
        run.seconds["generate"] = time.perf_counter() - began
        ledger = open_ledger(db, generated)
        try:
            began = time.perf_counter()
            tick = step("projections and rule findings", 1)
            run.findings_table = projections_and_findings(ledger, tick)
            run.seconds["projections"] = time.perf_counter() - began
            began = time.perf_counter()
            run.sheets = result_sheets(ledger, generated, folder / "results")
            run.seconds["result_sheets"] = time.perf_counter() - began
            began = time.perf_counter()
            tick = step("offline verifier", generated.events)
            run.report = verify(
                ledger, db, generated, folder / "trust.txt", folder / "report.html", tick
            )
            run.seconds["verify"] = time.perf_counter() - began
            run.tamper = tamper(ledger, generated)
            run.env, run.token = serve_files(ledger, generated, folder, db)
            tally(run, ledger)
        finally:
            ledger.close()
    return run
