"""A fast, seeded, deterministic ledger generator (``hoso generate``).

It runs the demo's realistic dossier lifecycles (:mod:`ledger.demo_scenarios`:
nine scenarios, three of them with planted post-audit violations) through a
local, in-memory dossier service: every event is built by the same domain
commands, folded by the same state machine and signed by the acting
official's key, but instead of one append per event the records are buffered
and appended through :meth:`EventStore.append` in large batches, where the
store re-checks everything (signatures, chains, the key registry and the
dossier lifecycle policy). Then the Merkle log is integrated, a checkpoint is
signed half-way and at the end, and a witness cosigns both.

Every key is derived from the seed (``Signer(SHA-256("hoso/generate/v1" 0x00
|| seed as 8 bytes big-endian || name))``), every time is simulated, so the
same arguments give the same bytes. These are test keys: never use a
generated ledger's keys for anything real.

API (stable; the projections and the scale run reuse it)::

    generated = generate_ledger(url, dossiers=1000, seed=1)
    generated.origin, generated.trust_lines(), generated.events, generated.codes
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from ledger.core.checkpoint import Cosigner, parse_checkpoint_text
from ledger.core.event import EventBody, SignedEvent, sign_event
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.note import Ed25519NoteSigner, format_vkey
from ledger.core.registry import KEY_REGISTERED, REGISTRY_STREAM, key_registered
from ledger.core.signing import KeyId, PublicKey, Signer
from ledger.demo_scenarios import (
    MINUTE,
    POLICE,
    SCENARIOS,
    WARD,
    Office,
    Official,
    cast,
    monday_morning,
)
from ledger.domain import commands as cmd
from ledger.domain.calendar import load_calendar, vn_datetime
from ledger.domain.dossier import DossierState, SignerInfo, evolve, start
from ledger.domain.procedures import load_catalogue
from ledger.dossiers import DossierPolicy, DossierService
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.database import open_backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import Appended, EventStore

GENERATE_ORIGIN: Final = "generated.hoso.example/hanoi"
WITNESS_NAME: Final = "witness.generated.hoso.example/so-tttt"
AUTHORITY_ACTOR: Final = "authority:generated"
START_US: Final = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
DEFAULT_BATCH: Final = 2000
WEEKS: Final = 40  # scenarios start on the Mondays of 40 weeks from 2026-03-02
_POLICE_SCENARIOS: Final = frozenset(
    {
        "residence_with_supplement",
        "criminal_record_interagency",
        "permanent_residence_late",
        "paper_copy_without_basis",
    }
)


def derive_signer(seed: int, name: str) -> Signer:
    """The generator's key called ``name`` for ``seed`` (test keys, derived, never stored)."""
    material = b"hoso/generate/v1\x00" + seed.to_bytes(8, "big") + name.encode()
    return Signer(hashlib.sha256(material).digest())


@dataclass(frozen=True)
class GeneratedKeys:
    """All keys of a generated ledger, derived from its seed."""

    seed: int
    authority: Signer
    log: Ed25519NoteSigner
    witness: Cosigner
    people: dict[str, Signer]

    @classmethod
    def derive(cls, seed: int, people: dict[str, Official], origin: str) -> GeneratedKeys:
        return cls(
            seed=seed,
            authority=derive_signer(seed, "authority"),
            log=Ed25519NoteSigner(origin, derive_signer(seed, "log")),
            witness=Cosigner(WITNESS_NAME, derive_signer(seed, "witness")),
            people={name: derive_signer(seed, f"person/{name}") for name in sorted(people)},
        )


@dataclass(frozen=True)
class GeneratedLedger:
    """What a verifier (or a test) needs to know about a generated ledger."""

    url: str
    origin: str
    seed: int
    events: int
    dossiers: int
    codes: list[str]
    checkpoint_sizes: tuple[int, ...]
    authority_vkey: str
    log_vkey: str
    witness_vkey: str
    people: dict[str, Official] = field(repr=False)

    def trust_lines(self) -> str:
        """The trust file (docs/verify.md §Trust file) for this ledger."""
        return (
            f"# trust roots of the generated ledger (seed {self.seed})\n"
            f"origin {self.origin}\n"
            f"log {self.log_vkey}\n"
            f"authority {self.authority_vkey}\n"
            f"witness {self.witness_vkey}\n"
        )

    def keys(self) -> GeneratedKeys:
        """The ledger's keys, re-derived from the seed (for tests that tamper with it)."""
        return GeneratedKeys.derive(self.seed, self.people, self.origin)


class BufferedService(DossierService):
    """The dossier service with a local, in-memory view of the dossiers it writes.

    ``execute`` signs on the local head and buffers the record; ``flush``
    appends the buffer in one checked batch. Reads come from the local view,
    which the store's checks confirm at flush time.
    """

    def __init__(
        self, store: EventStore, *, signers: dict[str, Signer], people: dict[str, Official]
    ) -> None:
        super().__init__(
            store,
            catalogue=load_catalogue(),
            calendar=load_calendar(),
            signer_for=signers.__getitem__,
            clock_us=lambda: START_US,
        )
        self._info = {
            signers[name].key_id: SignerInfo(o.actor, o.roles, o.agency)
            for name, o in people.items()
        }
        self._heads: dict[str, tuple[SignedEvent, DossierState]] = {}
        self.buffer: list[bytes] = []
        self.appended = 0

    def state(self, code: str) -> DossierState | None:
        head = self._heads.get(code)
        return None if head is None else head[1]

    def execute(
        self,
        code: str,
        draft: cmd.Draft,
        *,
        actor: str,
        keys: Sequence[str],
        time_us: int | None = None,
    ) -> Appended:
        head = self._heads.get(code)
        body = EventBody(
            origin=self.store.origin,
            stream=code,
            n=1 if head is None else head[0].body.n + 1,
            prev=GENESIS_PREV if head is None else EventHash(head[0].event_hash),
            type=draft.type,
            actor=actor,
            time_us=self.clock_us() if time_us is None else time_us,
            payload=draft.payload,
        )
        event = sign_event(body, [self.signer_for(name) for name in keys])
        signers = tuple(self._info[s.key_id] for s in event.signatures)
        state = (
            start(body, signers) if head is None else evolve(head[1], body, signers, self.catalogue)
        )
        self._heads[code] = (event, state)
        self.buffer.append(event.record)
        return Appended(code, body.n, event.event_hash)

    def forget(self, code: str) -> None:
        """Drop a finished dossier's local view (memory stays flat)."""
        self._heads.pop(code, None)

    def flush(self) -> None:
        if self.buffer:
            self.store.append(self.buffer)
            self.appended += len(self.buffer)
            self.buffer = []


def registry_records(keys: GeneratedKeys, people: dict[str, Official], origin: str) -> list[bytes]:
    """Authority-signed registrations of every official's key, in name order."""
    out: list[bytes] = []
    prev = GENESIS_PREV
    for n, (name, official) in enumerate(sorted(people.items()), start=1):
        payload = key_registered(
            keys.people[name].public_key,
            actor=official.actor,
            roles=set(official.roles),
            agency=official.agency,
        )
        body = EventBody(
            origin=origin,
            stream=REGISTRY_STREAM,
            n=n,
            prev=prev,
            type=KEY_REGISTERED,
            actor=AUTHORITY_ACTOR,
            time_us=START_US,
            payload=payload,
        )
        event = sign_event(body, [keys.authority])
        out.append(event.record)
        prev = EventHash(event.event_hash)
    return out


def dossier_code(index: int, start_us: int, scenario: str) -> str:
    """``<agency>-<yymmdd>-<index, 6 digits>``: unique per generated dossier."""
    agency = POLICE if scenario in _POLICE_SCENARIOS else WARD
    return f"{agency}-{vn_datetime(start_us).strftime('%y%m%d')}-{index:06d}"


def generate_ledger(
    url: str,
    *,
    dossiers: int,
    seed: int = 1,
    origin: str = GENERATE_ORIGIN,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> GeneratedLedger:
    """Create the schema at ``url`` (which must hold no ledger yet) and write a ledger:
    key registrations, ``dossiers`` dossier histories cycling through the demo's
    nine scenarios, the Merkle log, a checkpoint half-way and one at the end, each
    cosigned by the witness. ``progress(done, total)`` is called per dossier batch.
    """
    if dossiers < 0:
        raise ValueError("dossiers must be >= 0")
    people = cast()
    keys = GeneratedKeys.derive(seed, people, origin)
    backend = open_backend(url)
    try:
        if backend.recorder.max_notification_id():
            raise ValueError(f"{url} already holds a ledger; generate into an empty database")
        authorities: dict[KeyId, PublicKey] = {keys.authority.key_id: keys.authority.public_key}
        catalogue = load_catalogue()
        store = EventStore(
            backend, origin=origin, authorities=authorities, policy=DossierPolicy(catalogue)
        )
        store.append(registry_records(keys, people, origin))
        service = BufferedService(store, signers=keys.people, people=people)
        office = Office(service, people)
        log = MerkleLog(backend)
        checkpoints = Checkpoints(log, signer=keys.log, witnesses=[keys.witness.verifier])
        codes: list[str] = []
        half = dossiers // 2
        signed: list[int] = []
        for index in range(dossiers):
            scenario = SCENARIOS[index % len(SCENARIOS)]
            week = (index // len(SCENARIOS)) % WEEKS
            slot = index // (len(SCENARIOS) * WEEKS)
            start_us = monday_morning(week) + (index % len(SCENARIOS)) * 17 * MINUTE + slot
            code = dossier_code(index, start_us, scenario.__name__)
            scenario(office, code, start_us)
            service.forget(code)
            codes.append(code)
            if len(service.buffer) >= batch:
                service.flush()
                if progress is not None:
                    progress(index + 1, dossiers)
            if index + 1 == half:
                service.flush()
                log.integrate()
                signed.append(_checkpoint(checkpoints, keys, timestamp=1))
        service.flush()
        if progress is not None:
            progress(dossiers, dossiers)
        log.integrate()
        signed.append(_checkpoint(checkpoints, keys, timestamp=2))
        total = log.size()
    finally:
        backend.close()
    return GeneratedLedger(
        url=url,
        origin=origin,
        seed=seed,
        events=total,
        dossiers=dossiers,
        codes=codes,
        checkpoint_sizes=tuple(dict.fromkeys(signed)),
        authority_vkey=format_vkey(f"{origin}/authority", 0x01, keys.authority.public_key),
        log_vkey=keys.log.verifier.vkey,
        witness_vkey=keys.witness.verifier.vkey,
        people=people,
    )


def _checkpoint(checkpoints: Checkpoints, keys: GeneratedKeys, *, timestamp: int) -> int:
    """Sign a checkpoint at the integrated size and have the witness cosign it."""
    note = checkpoints.sign(now_us=START_US + timestamp)
    checkpoint = parse_checkpoint_text(note.text)
    checkpoints.add_cosignature(
        size=checkpoint.size, signature=keys.witness.cosign(checkpoint, timestamp=timestamp)
    )
    return checkpoint.size
