"""``hoso demo``: the ledger end to end on a real database (SQLite by default).

An authority registers officers', a leader's and an agency seal's keys; the
officers sign dossier events that chain per dossier; the store checks and
appends them; the integrator turns every stored record into a Merkle leaf;
the ledger signs C2SP checkpoints and a witness cosigns after checking
consistency. Then an inspector-style pass re-verifies everything from the raw
stored bytes with the pure core alone, and shows that one flipped bit is
caught. The demo's keys are generated for the run and never written anywhere;
no personal data appears in any event.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.core import merkle
from ledger.core.checkpoint import Cosigner, open_checkpoint, verify_cosignatures
from ledger.core.encoding import Value
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
from ledger.core.note import Ed25519NoteSigner
from ledger.core.registry import (
    KEY_REGISTERED,
    REGISTRY_STREAM,
    RegistryState,
    key_registered,
    registry_change,
)
from ledger.core.signing import KeyId, PublicKey, Signer
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.database import Backend, open_backend, parse_database_url
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore

ORIGIN = "demo.hoso.example/hanoi"
DEFAULT_DB = "sqlite:///hoso-data/demo.sqlite"
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
AGENCY = "H26.50.01"

# (event type, signing role, needs the agency seal as well)
LIFECYCLE = (
    ("DossierSubmitted", "portal", False),
    ("DossierReceived", "reception", False),
    ("DossierAssigned", "reception", False),
    ("DossierResolved", "handler", False),
    ("ResultIssued", "leader", True),
    ("ResultDelivered", "reception", False),
)


class DemoError(Exception):
    """The demo can't run here (e.g. a non-empty PostgreSQL database)."""


@dataclass(frozen=True)
class DemoKeys:
    """The demo's actors. Seeds come from the OS here, at the edge, never from the core."""

    authority: Signer
    log: Ed25519NoteSigner
    witness: Cosigner
    actors: dict[str, Signer]
    seal: Signer

    @classmethod
    def generate(cls) -> DemoKeys:
        def fresh() -> Signer:
            return Signer(os.urandom(32))

        return cls(
            authority=fresh(),
            log=Ed25519NoteSigner(ORIGIN, fresh()),
            witness=Cosigner("witness.demo.hoso.example/so-tttt", fresh()),
            actors={role: fresh() for role in ("portal", "reception", "handler", "leader")},
            seal=fresh(),
        )

    def authorities(self) -> dict[KeyId, PublicKey]:
        return {self.authority.key_id: self.authority.public_key}


def registry_events(keys: DemoKeys) -> list[SignedEvent]:
    """Authority-signed registrations of every demo key."""
    entries: list[tuple[Signer, str, set[str]]] = [
        (signer, f"demo:{role}", {role}) for role, signer in keys.actors.items()
    ]
    entries.append((keys.seal, f"agency:{AGENCY}", {"agency_seal"}))
    out: list[SignedEvent] = []
    prev = GENESIS_PREV
    for n, (signer, actor, roles) in enumerate(entries, start=1):
        payload = key_registered(signer.public_key, actor=actor, roles=roles, agency=AGENCY)
        body = _body(
            REGISTRY_STREAM,
            n,
            prev,
            kind=KEY_REGISTERED,
            actor="authority:demo",
            time_us=START_US,
            payload=payload,
        )
        event = sign_event(body, [keys.authority])
        out.append(event)
        prev = event.event_hash
    return out


def dossier_events(keys: DemoKeys, *, count: int) -> list[SignedEvent]:
    """``count`` events over as many dossiers as needed, interleaved as a real log is."""
    heads: dict[str, SignedEvent] = {}
    out: list[SignedEvent] = []
    dossiers = max(1, (count + len(LIFECYCLE) - 1) // len(LIFECYCLE))
    for i in range(count):
        stream = f"000.00.10.H26-260101-{i % dossiers + 1:04d}"
        before = heads.get(stream)
        n = 1 if before is None else before.body.n + 1
        kind, role, sealed = LIFECYCLE[(n - 1) % len(LIFECYCLE)]
        prev = GENESIS_PREV if before is None else EventHash(before.event_hash)
        payload: dict[str, Value] = {"procedure": "1.001193", "agency": AGENCY}
        body = _body(
            stream,
            n,
            prev,
            kind=kind,
            actor=f"demo:{role}",
            time_us=START_US + i * 60_000_000,
            payload=payload,
        )
        signers = [keys.actors[role], keys.seal] if sealed else [keys.actors[role]]
        heads[stream] = sign_event(body, signers)
        out.append(heads[stream])
    return out


def _body(
    stream: str,
    n: int,
    prev: EventHash,
    *,
    kind: str,
    actor: str,
    time_us: int,
    payload: dict[str, Value],
) -> EventBody:
    return EventBody(
        origin=ORIGIN,
        stream=stream,
        n=n,
        prev=prev,
        type=kind,
        actor=actor,
        time_us=time_us,
        payload=payload,
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


def run_demo(*, events: int, db: str = DEFAULT_DB, console: Console | None = None) -> int:
    """Run the demo; return the process exit code (0 when every check passed)."""
    out = console or Console()
    prepare_database(db)
    backend = open_backend(db)
    try:
        if backend.recorder.max_notification_id():
            raise DemoError(f"{parse_database_url(db)} already holds a ledger; use an empty one")
        return _run(out, backend_url=db, backend=backend, events=events)
    finally:
        backend.close()


def _run(out: Console, *, backend_url: str, backend: Backend, events: int) -> int:
    keys = DemoKeys.generate()
    store = EventStore(backend, origin=ORIGIN, authorities=keys.authorities())
    log = MerkleLog(backend)
    checkpoints = Checkpoints(log, signer=keys.log, witnesses=[keys.witness.verifier])
    out.rule("[bold]hoso demo[/]: signed events, a stored Merkle log, witnessed checkpoints")
    out.print(f"database: {escape(str(parse_database_url(backend_url)))}")

    registrations = registry_events(keys)
    store.append([e.record for e in registrations])
    out.print(f"key registry: {len(registrations)} keys registered by the authority")

    signed = dossier_events(keys, count=events)
    half = len(signed) // 2
    for start in range(0, half, 100):
        store.append([e.record for e in signed[start : min(start + 100, half)]])
    log.integrate()
    first = open_checkpoint(
        checkpoints.sign(now_us=START_US).serialise(), origin=ORIGIN, log_keys=[keys.log.verifier]
    )[0]
    checkpoints.add_cosignature(size=first.size, signature=keys.witness.cosign(first, timestamp=1))
    for start in range(half, len(signed), 100):
        store.append([e.record for e in signed[start : start + 100]])
    integrated = log.integrate()
    note = checkpoints.sign(now_us=START_US + 1)
    latest = open_checkpoint(note.serialise(), origin=ORIGIN, log_keys=[keys.log.verifier])[0]
    # The ledger accepts the cosignature only after checking consistency first.size → latest.size.
    cosigned = checkpoints.add_cosignature(
        size=latest.size, signature=keys.witness.cosign(latest, timestamp=2)
    )
    out.print(
        f"appended {len(signed)} dossier events; integrated {first.size} + {integrated} leaves"
    )
    _print_events(out, signed)
    out.print(
        f"\n[bold]Signed checkpoint[/] (C2SP tlog-checkpoint), cosigned by the witness after a "
        f"consistency proof {first.size}→{latest.size}:"
    )
    note_bytes = cosigned.serialise()
    out.print(note_bytes.decode(), markup=False, highlight=False, soft_wrap=True)

    records = [n.state for n in backend.recorder.select_notifications(start=1, limit=10**9)]
    try:
        size, witnesses = verify_from_bytes(records, note_bytes, keys)
    except HosoError as err:
        out.print(f"[red]verification failed[/]: {escape(str(err))}")
        return 1
    out.print(
        f"[green]✓ verified from the stored bytes[/]: {size} records — signatures against the "
        f"key registry at each log position, {len({e.body.stream for e in signed})} dossier "
        f"chain(s), {size} inclusion proofs against the checkpoint root, the log's signature, "
        f"cosignature by {', '.join(witnesses)}"
    )
    tampered = list(records)
    target = len(registrations) + half
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


def _print_events(out: Console, signed: list[SignedEvent]) -> None:
    """One dossier's whole chain: each event's prev is the previous event's hash."""
    stream = signed[0].body.stream
    table = Table(title=f"dossier {stream}", title_justify="left")
    for column in ("n", "type", "actor", "signatures", "prev", "event hash"):
        table.add_column(column, no_wrap=True)
    for event in (e for e in signed if e.body.stream == stream):
        body = event.body
        table.add_row(
            str(body.n),
            body.type,
            body.actor,
            str(len(event.signatures)),
            body.prev.hex()[:8] + "…",
            event.event_hash.hex()[:8] + "…",
        )
    out.print(table)
