"""``hoso demo``: the ledger end to end on a real database (SQLite by default).

An authority registers the officials' keys; officials of three Hanoi agencies
take nine dossiers through realistic lifecycles (ledger.demo_scenarios), each
event signed by the acting official and checked by the store against the
dossier lifecycle; the integrator turns every stored record into a Merkle
leaf; the ledger signs C2SP checkpoints and a witness cosigns after checking
consistency. Then an inspector-style pass re-verifies everything from the raw
stored bytes with the pure core alone, the post-audit rules report the
planted violations, and one flipped bit is shown to be caught. The demo's keys
are generated for the run and never written anywhere; no personal data
appears in any event.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.core import merkle
from ledger.core.checkpoint import Cosigner, open_checkpoint, verify_cosignatures
from ledger.core.errors import HosoError
from ledger.core.event import (
    EventBody,
    SignedEvent,
    parse_record,
    sign_event,
    verify_link,
    verify_signatures,
)
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.note import Ed25519NoteSigner, Note
from ledger.core.registry import (
    KEY_REGISTERED,
    REGISTRY_STREAM,
    RegistryState,
    key_registered,
    registry_change,
)
from ledger.core.signing import KeyId, PublicKey, Signer
from ledger.demo_scenarios import (
    DAY,
    MINUTE,
    POLICE,
    SCENARIOS,
    WARD,
    Office,
    Official,
    Scenario,
    SimClock,
    cast,
    generate_keys,
    monday_morning,
)
from ledger.domain.calendar import load_calendar, vn_datetime
from ledger.domain.procedures import load_catalogue
from ledger.domain.rules import Finding
from ledger.dossiers import DossierPolicy, DossierService
from ledger.privacy.access_log import AccessLog
from ledger.privacy.crypto import MasterKey, MasterKeys
from ledger.privacy.records import PersonalRecord
from ledger.privacy.service import PersonalData
from ledger.privacy.vault import Vault
from ledger.result_sheet import demo_sheets
from ledger.settings import Settings
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.custodian import Custodian
from ledger.storage.database import Backend, open_backend, parse_database_url
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore

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
    """Authority-signed registrations of every official's key."""
    out: list[SignedEvent] = []
    prev = GENESIS_PREV
    for n, (name, official) in enumerate(sorted(people.items()), start=1):
        payload = key_registered(
            keys.people[name].public_key,
            actor=official.actor,
            roles=set(official.roles),
            agency=official.agency,
        )
        body = EventBody(
            origin=ORIGIN,
            stream=REGISTRY_STREAM,
            n=n,
            prev=prev,
            type=KEY_REGISTERED,
            actor="authority:demo",
            time_us=START_US,
            payload=payload,
        )
        event = sign_event(body, [keys.authority])
        out.append(event)
        prev = EventHash(event.event_hash)
    return out


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


def run_demo(
    *,
    rounds: int,
    db: str = DEFAULT_DB,
    console: Console | None = None,
    applicants: dict[str, PersonalRecord] | None = None,
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
        return _run(out, backend_url=db, backend=backend, rounds=rounds, applicants=applicants)
    finally:
        backend.close()


def _run(
    out: Console,
    *,
    backend_url: str,
    backend: Backend,
    rounds: int,
    applicants: dict[str, PersonalRecord] | None,
) -> int:
    people = cast()
    keys = DemoKeys.generate(people)
    catalogue, calendar = load_catalogue(), load_calendar()
    store = EventStore(
        backend, origin=ORIGIN, authorities=keys.authorities(), policy=DossierPolicy(catalogue)
    )
    log = MerkleLog(backend)
    checkpoints = Checkpoints(log, signer=keys.log, witnesses=[keys.witness.verifier])
    service = DossierService(
        store,
        catalogue=catalogue,
        calendar=calendar,
        signer_for=keys.people.__getitem__,
        clock_us=lambda: START_US,
    )
    out.rule("[bold]hoso demo[/]: Hanoi dossiers on a signed, verifiable ledger")
    out.print(f"database: {escape(str(parse_database_url(backend_url)))}")
    registrations = registry_events(keys, people)
    store.append([e.record for e in registrations])
    out.print(f"key registry: {len(registrations)} officials' keys registered by the authority")

    clock = SimClock(START_US)
    privacy = demo_privacy(backend, service, keys, clock)
    office = Office(service, people, privacy, clock)
    office.applicants = {} if applicants is None else applicants
    stories: list[tuple[str, str]] = []
    for week in range(rounds):
        start_us = monday_morning(week)
        for number, scenario in enumerate(SCENARIOS, start=1):
            code = f"{_agency_of(scenario)}-{_yymmdd(start_us)}-{week * 100 + number:04d}"
            stories.append((code, scenario(office, code, start_us + number * 17 * MINUTE)))
            if week == 0 and number == len(SCENARIOS) // 2:
                log.integrate()
                first = checkpoints.sign(now_us=START_US)
    _print_dossiers(out, service, stories[: len(SCENARIOS)])
    privacy_findings = _privacy_story(out, office, stories)

    note_bytes = _checkpoint_and_cosign(out, log, checkpoints, keys, first)
    sheets = demo_sheets(
        backend,
        service,
        log,
        checkpoints,
        keys.people,
        people,
        [c for c, _ in stories],
        backend_url,
    )
    out.print(escape(sheets), highlight=False, soft_wrap=True)

    records = [n.state for n in backend.recorder.select_notifications(start=1, limit=10**9)]
    try:
        size, witnesses = verify_from_bytes(records, note_bytes, keys)
    except HosoError as err:
        out.print(f"[red]verification failed[/]: {escape(str(err))}")
        return 1
    out.print(
        f"[green]✓ verified from the stored bytes[/]: {size} records — every signature against "
        f"the key registry at its log position, {len(stories)} dossier chains, {size} inclusion "
        f"proofs against the checkpoint root, the log's signature, cosignature by "
        f"{', '.join(witnesses)}"
    )
    codes = [code for code, _ in stories]
    now = max(service.history(c)[-1].body.time_us for c in codes) + 1
    findings = service.audit(codes, now_us=now)
    _print_findings(out, findings + privacy_findings)
    tampered = list(records)
    target = len(registrations) + 3
    flipped = bytearray(tampered[target])
    flipped[len(flipped) // 3] ^= 0x01
    tampered[target] = bytes(flipped)
    try:
        verify_from_bytes(tampered, note_bytes, keys)
    except HosoError as err:
        out.print(
            f"[green]✓ tamper caught[/]: one bit flipped in leaf {target} → {escape(str(err))}"
        )
        return 0
    out.print("[red]✗ a flipped bit went unnoticed[/]")
    return 1


def _checkpoint_and_cosign(
    out: Console, log: MerkleLog, checkpoints: Checkpoints, keys: DemoKeys, first: Note
) -> bytes:
    """Sign the latest checkpoint; the witness cosigns the first, then the latest."""
    log.integrate()
    note = checkpoints.sign(now_us=START_US + 1)
    latest = open_checkpoint(note.serialise(), origin=ORIGIN, log_keys=[keys.log.verifier])[0]
    earlier = open_checkpoint(first.serialise(), origin=ORIGIN, log_keys=[keys.log.verifier])[0]
    checkpoints.add_cosignature(
        size=earlier.size, signature=keys.witness.cosign(earlier, timestamp=1)
    )
    # The ledger accepts this cosignature only after checking consistency earlier → latest.
    cosigned = checkpoints.add_cosignature(
        size=latest.size, signature=keys.witness.cosign(latest, timestamp=2)
    )
    out.print(
        f"\n[bold]Signed checkpoint[/] (C2SP tlog-checkpoint), cosigned by the witness after a "
        f"consistency proof {earlier.size}→{latest.size}:"
    )
    note_bytes = cosigned.serialise()
    out.print(note_bytes.decode(), markup=False, highlight=False, soft_wrap=True)
    return note_bytes


def demo_privacy(
    backend: Backend, service: DossierService, keys: DemoKeys, clock: SimClock
) -> PersonalData:
    """The vault and access log, with fresh random secrets for this run only."""
    vault = Vault(
        backend.sql,
        keys=MasterKeys(MasterKey(os.urandom(32))),
        index_key=os.urandom(32),
        clock_us=clock,
    )
    access = AccessLog(backend.sql, service.store, clock_us=clock, signer=keys.people["access"])
    return PersonalData(
        vault,
        access,
        service,
        clock_us=clock,
        retention_us=DEMO_RETENTION_US,
        custodian=Custodian(service.store, keys.people.__getitem__, clock_us=clock),
    )


def _privacy_story(out: Console, office: Office, stories: list[tuple[str, str]]) -> list[Finding]:
    """A planted out-of-scope read, an erasure, the access log flushed; their findings."""
    privacy = office.privacy
    assert privacy is not None  # noqa: S101 (the demo always enables it)
    by_procedure: dict[str, str] = {}
    for code, _ in stories:
        by_procedure.setdefault(office.state(code).procedure, code)
    latest = max(office.service.history(c)[-1].body.time_us for c, _ in stories)
    office.clock.now = latest + DAY
    # PLANTED: a police officer opens a ward dossier's applicant record.
    office.read_personal(by_procedure["1.001193"], "police.reception", "processing")
    refused = office.state(by_procedure["1.000894"])  # marriage, refused at reception
    office.clock.now = latest + DEMO_RETENTION_US + DAY
    privacy.erase(
        refused.applicant,
        basis="no_retention_duty",
        request_hash=hashlib.sha256(b"demo erasure request").digest(),
        actor=office.people["ward.leader"].actor,
        keys=["ward.leader"],
    )
    logged = privacy.access.flush()
    subjects = len(stories)
    out.print(
        f"\n[bold]Personal data[/]: {subjects} applicants' records in the vault, each encrypted "
        f"under its own key; the ledger holds only salted commitments. {logged} reads by "
        f"officials logged as signed DataAccessed batches on system/access. The refused "
        f"marriage applicant's data was erased (signed SubjectErased; key and records destroyed)."
    )
    return privacy.audit()


def _agency_of(scenario: Scenario) -> str:
    police = {
        "residence_with_supplement",
        "criminal_record_interagency",
        "permanent_residence_late",
        "paper_copy_without_basis",
    }
    return POLICE if scenario.__name__ in police else WARD


def _yymmdd(t_us: int) -> str:
    return vn_datetime(t_us).strftime("%y%m%d")


def _print_dossiers(out: Console, service: DossierService, stories: list[tuple[str, str]]) -> None:
    table = Table("dossier", "procedure", "status", "events", "what happened", title="Dossiers")
    for code, story in stories:
        state = service.state(code)
        assert state is not None  # noqa: S101 (the scenario created it)
        flags = [
            f
            for f, on in (
                ("rescheduled", state.rescheduled),
                ("revoked", state.revoked),
                ("corrected", state.corrected),
            )
            if on
        ]
        status = f"{state.portal_code} {state.state.label}" + (
            f" ({', '.join(flags)})" if flags else ""
        )
        table.add_row(code, state.procedure, status, str(state.n), story)
    out.print(table)


def _print_findings(out: Console, findings: list[Finding]) -> None:
    table = Table(
        "rule",
        "dossier",
        "event",
        "agency",
        "expected",
        "found",
        title=f"Post-audit rules: {len(findings)} finding(s)",
    )
    for f in findings:
        table.add_row(
            f.rule, f.stream, "" if f.n is None else str(f.n), f.agency, f.expected, f.found
        )
    out.print(table)
