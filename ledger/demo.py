"""``hoso demo``: the pure core end to end, in memory.

Actors sign dossier events, each dossier's events chain by ``prev``, every
record becomes a leaf of the RFC 9162 Merkle log, the ledger signs a C2SP
checkpoint, a witness checks consistency and cosigns, and an inspector-style
check re-verifies everything from the raw record bytes alone, then shows that
a single flipped byte is caught. No personal data appears anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.core import merkle
from ledger.core.checkpoint import (
    Checkpoint,
    Cosigner,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignatures,
)
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
from ledger.core.signing import KeyId, PublicKey, Signer

ORIGIN = "demo.hoso.example/hanoi"
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z

# (event type, role of the primary signer, needs the agency seal as well)
LIFECYCLE = (
    ("DossierSubmitted", "portal", False),
    ("DossierReceived", "reception", False),
    ("DossierAssigned", "reception", False),
    ("DossierResolved", "handler", False),
    ("ResultIssued", "leader", True),
    ("ResultDelivered", "reception", False),
)


@dataclass(frozen=True)
class DemoKeys:
    """The demo's actors. Seeds come from the OS here, at the edge, never from the core."""

    log: Ed25519NoteSigner
    witness: Cosigner
    actors: dict[str, Signer]
    seal: Signer

    @classmethod
    def generate(cls) -> DemoKeys:
        def fresh() -> Signer:
            return Signer(os.urandom(32))

        roles = ("portal", "reception", "handler", "leader")
        return cls(
            log=Ed25519NoteSigner(ORIGIN, fresh()),
            witness=Cosigner("witness.demo.hoso.example/so-tttt", fresh()),
            actors={role: fresh() for role in roles},
            seal=fresh(),
        )

    def trusted(self) -> dict[KeyId, PublicKey]:
        signers = [*self.actors.values(), self.seal]
        return {s.key_id: s.public_key for s in signers}


def build_events(keys: DemoKeys, *, count: int) -> list[SignedEvent]:
    """``count`` events over as many dossiers as needed, interleaved as a real log is."""
    heads: dict[str, SignedEvent] = {}
    out: list[SignedEvent] = []
    dossiers = max(1, (count + len(LIFECYCLE) - 1) // len(LIFECYCLE))
    for i in range(count):
        number = i % dossiers
        stream = f"000.00.10.H26-260101-{number + 1:04d}"
        before = heads.get(stream)
        n = 1 if before is None else before.body.n + 1
        kind, role, sealed = LIFECYCLE[(n - 1) % len(LIFECYCLE)]
        body = EventBody(
            origin=ORIGIN,
            stream=stream,
            n=n,
            prev=GENESIS_PREV if before is None else EventHash(before.event_hash),
            type=kind,
            actor=f"demo:{role}",
            time_us=START_US + i * 60_000_000,
            payload={"procedure": "1.001193", "agency": "H26.50.01"},
        )
        signers = [keys.actors[role], keys.seal] if sealed else [keys.actors[role]]
        event = sign_event(body, signers)
        heads[stream] = event
        out.append(event)
    return out


def verify_from_bytes(
    records: list[bytes], checkpoint_note: bytes, keys: DemoKeys
) -> tuple[Checkpoint, dict[str, int]]:
    """Re-verify everything from raw bytes: records, chains, tree, checkpoint, cosignature."""
    checkpoint, note = open_checkpoint(checkpoint_note, origin=ORIGIN, log_keys=[keys.log.verifier])
    cosigned = verify_cosignatures(note, [keys.witness.verifier])
    tree = merkle.MemoryTree()
    heads: dict[str, SignedEvent] = {}
    trusted = keys.trusted()
    for index, record in enumerate(records):
        event = parse_record(record, where=f"leaf {index}")
        verify_signatures(event, trusted)
        verify_link(event, heads.get(event.body.stream))
        heads[event.body.stream] = event
        tree.append(event.leaf_hash)
    for index, record in enumerate(records):
        proof = tree.inclusion_proof(index=index, size=checkpoint.size)
        merkle.verify_inclusion(
            index=index,
            size=checkpoint.size,
            leaf_hash=parse_record(record).leaf_hash,
            proof=proof,
            root=checkpoint.root,
        )
    return checkpoint, cosigned


def run_demo(*, events: int, console: Console | None = None) -> int:
    """Run the demo; return the process exit code (0 when every check passed)."""
    out = console or Console()
    keys = DemoKeys.generate()
    signed = build_events(keys, count=events)
    out.rule("[bold]hoso demo[/]: signed events, Merkle log, witnessed checkpoint")
    table = Table("leaf", "stream (dossier)", "n", "type", "signatures", "event hash")
    for index, event in enumerate(signed[:12]):
        body = event.body
        table.add_row(
            str(index),
            body.stream,
            str(body.n),
            body.type,
            str(len(event.signatures)),
            event.event_hash.hex()[:16] + "…",
        )
    out.print(table)
    if len(signed) > 12:
        out.print(f"… and {len(signed) - 12} more events")

    tree = merkle.MemoryTree()
    half = len(signed) // 2
    tree.extend([e.leaf_hash for e in signed[:half]])
    earlier = Checkpoint(origin=ORIGIN, size=half, root=tree.root())
    tree.extend([e.leaf_hash for e in signed[half:]])
    latest = Checkpoint(origin=ORIGIN, size=tree.size, root=tree.root())

    # The witness cosigns only after checking the log grew append-only.
    proof = tree.consistency_proof(size1=earlier.size, size2=latest.size)
    merkle.verify_consistency(
        size1=earlier.size, size2=latest.size, root1=earlier.root, root2=latest.root, proof=proof
    )
    note = sign_checkpoint(latest, keys.log)
    note = note.with_signatures([keys.witness.cosign(latest, timestamp=START_US // 1_000_000)])
    note_bytes = note.serialise()
    out.print(
        f"\n[bold]Signed checkpoint[/] (C2SP tlog-checkpoint, cosigned by a witness; "
        f"consistency {earlier.size}→{latest.size} checked with {len(proof)} hashes):"
    )
    out.print(note_bytes.decode(), markup=False, highlight=False, soft_wrap=True)

    records = [e.record for e in signed]
    try:
        checkpoint, cosigned = verify_from_bytes(records, note_bytes, keys)
    except HosoError as err:
        out.print(f"[red]verification failed[/]: {escape(str(err))}")
        return 1
    out.print(
        f"[green]✓ verified[/] {len(records)} records from raw bytes: signatures, "
        f"{len({e.body.stream for e in signed})} dossier chain(s), "
        f"{checkpoint.size} inclusion proofs against the checkpoint root, "
        f"log signature, cosignatures by {', '.join(cosigned)}"
    )

    tampered = list(records)
    target = len(tampered) // 2
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
