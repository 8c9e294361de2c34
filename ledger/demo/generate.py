"""A fast, seeded, deterministic ledger generator (``hoso generate``, ``hoso demo``).

Two mixes. ``mix="hanoi"`` (the default) is the realistic one
(:mod:`ledger.demo.generator`): the Public Administration Service Center, three
ward People's Committees, a district police office, the city police and the
Department of Justice; arrivals over the working days of January–April 2026
across Tết; a weighted mix of lifecycles (on time, supplements, apologies with
a new date, inter-agency transfers, refusals, withdrawals, post-audits,
revocations, corrections) and a handful of planted violations, one of each
kind, whose rule ids :attr:`GeneratedLedger.planted` names. ``privacy=True``
puts each applicant in the vault, logs officials' reads and erases a couple of
applicants past retention (the demo); benchmarks leave it off. ``mix="scenarios"``
cycles the demo's nine scenarios (:mod:`ledger.demo.scenarios`), which some
tests index by position.

Either way every event is built by the same domain commands, folded by the
same state machine and signed by the acting official's key, but instead of
one append per event the records are buffered and appended through
:meth:`EventStore.append` in large batches, where the store re-checks
everything (signatures, chains, the key registry and the dossier lifecycle
policy). Then the Merkle log is integrated, a checkpoint is signed half-way
and at the end, and a witness cosigns both.

Every key is derived from the seed (``Signer(SHA-256("hoso/generate/v1" 0x00
|| seed as 8 bytes big-endian || name))``), every time and choice is
simulated, so the same arguments give the same ledger bytes (the vault's
ciphertext, with ``privacy``, uses fresh nonces). These are test keys: never
use a generated ledger's keys for anything real.

API (stable; the projections, the benchmarks and the scale run reuse it)::

    generated = generate_ledger(url, dossiers=1000, seed=1)
    generated.origin, generated.trust_lines(), generated.events, generated.codes
    generated.planted  # rule id → planted findings
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from ledger.core.checkpoint import Cosigner, parse_checkpoint_text
from ledger.core.event import parse_stored
from ledger.core.note import Ed25519NoteSigner, format_vkey
from ledger.core.registry import (
    Registration,
    registration_events,
)
from ledger.core.signing import KeyId, PublicKey, Signer
from ledger.demo.generator.buffered import BufferedService
from ledger.demo.generator.hanoi import hanoi_cast
from ledger.demo.generator.lifecycles import Case, Story
from ledger.demo.generator.run import PrivacyKeys, Written, write_hanoi
from ledger.demo.office import MINUTE, POLICE, WARD, Office, Official, cast, monday_morning
from ledger.demo.scenarios import SCENARIOS
from ledger.domain.calendar import vn_datetime
from ledger.domain.procedures_data import load_catalogue
from ledger.privacy.records import PersonalRecord
from ledger.services.dossiers import DossierPolicy
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.database import open_backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore

__all__ = [
    "AUTHORITY_ACTOR",
    "GENERATE_ORIGIN",
    "BufferedService",
    "GeneratedKeys",
    "GeneratedLedger",
    "derive_signer",
    "generate_ledger",
]

Mix = Literal["hanoi", "scenarios"]
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
    planted: dict[str, int] = field(default_factory=dict)  # rule id → planted findings
    lifecycles: dict[str, int] = field(default_factory=dict)  # lifecycle → dossiers
    cases: list[Case] = field(default_factory=list, repr=False)
    subjects: int = 0  # applicants in the vault
    reads: int = 0  # officials' reads in the access log
    erased: list[str] = field(default_factory=list)  # dossiers whose applicant was erased
    applicants: dict[str, PersonalRecord] = field(default_factory=dict, repr=False)
    privacy_keys: PrivacyKeys | None = field(default=None, repr=False)

    def trust_lines(self) -> str:
        """The trust file (docs/verify.md §Trust file) for this ledger."""
        return (
            f"# trust roots of the generated ledger (seed {self.seed})\n"
            f"origin {self.origin}\n"
            f"log {self.log_vkey}\n"
            f"authority {self.authority_vkey}\n"
            f"witness {self.witness_vkey}\n"
            f"quorum {WITNESS_NAME}\n"
        )

    def keys(self) -> GeneratedKeys:
        """The ledger's keys, re-derived from the seed (for tests that tamper with it)."""
        return GeneratedKeys.derive(self.seed, self.people, self.origin)


def registry_records(keys: GeneratedKeys, people: dict[str, Official], origin: str) -> list[bytes]:
    """Authority-signed registrations of every official's key, in name order."""
    events = registration_events(
        [
            Registration(keys.people[name].public_key, o.actor, o.roles, o.agency)
            for name, o in sorted(people.items())
        ],
        origin=origin,
        authority=keys.authority,
        authority_actor=AUTHORITY_ACTOR,
        time_us=START_US,
    )
    return [e.record for e in events]


def dossier_code(index: int, start_us: int, scenario: str) -> str:
    """``<agency>-<yymmdd>-<index, 6 digits>``: unique per generated dossier."""
    agency = POLICE if scenario in _POLICE_SCENARIOS else WARD
    return f"{agency}-{vn_datetime(start_us).strftime('%y%m%d')}-{index:06d}"


def privacy_keys(seed: int) -> PrivacyKeys:
    """The vault's keys for a generated ledger with personal data (demo-only, from the seed)."""

    def derive(name: str) -> bytes:
        return hashlib.sha256(
            b"hoso/generate/v1\x00" + seed.to_bytes(8, "big") + name.encode()
        ).digest()

    return PrivacyKeys(derive("vault/master"), derive("vault/index"))


def generate_ledger(
    url: str,
    *,
    dossiers: int,
    seed: int = 1,
    origin: str = GENERATE_ORIGIN,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    mix: Mix = "hanoi",
    privacy: bool = False,
) -> GeneratedLedger:
    """Create the schema at ``url`` (which must hold no ledger yet) and write a ledger:
    key registrations, ``dossiers`` dossier histories (``mix``), the Merkle log, a
    checkpoint half-way and one at the end, each cosigned by the witness.
    ``progress(done, total)`` is called per dossier batch.
    """
    if dossiers < 0:
        raise ValueError("dossiers must be >= 0")
    if privacy and mix != "hanoi":
        raise ValueError("personal data comes with the hanoi mix")
    people = hanoi_cast() if mix == "hanoi" else cast()
    keys = GeneratedKeys.derive(seed, people, origin)
    backend = open_backend(url)
    try:
        if backend.recorder.max_notification_id():
            raise ValueError(f"{url} already holds a ledger; generate into an empty database")
        authorities: dict[KeyId, PublicKey] = {keys.authority.key_id: keys.authority.public_key}
        store = EventStore(
            backend,
            origin=origin,
            authorities=authorities,
            policy=DossierPolicy(load_catalogue()),
            log_keys={keys.log.signer.key_id: keys.log.signer.public_key},
        )
        store.append(registry_records(keys, people, origin))
        log = MerkleLog(backend)
        checkpoints = Checkpoints(
            log,
            signer=keys.log,
            witnesses=[keys.witness.verifier],
            commits=IndexCommits(store, log),
        )
        signed: list[int] = []

        def half_way() -> None:
            log.integrate()
            signed.append(_checkpoint(checkpoints, keys, timestamp=1))

        pkeys = privacy_keys(seed) if privacy else None
        if mix == "hanoi":
            written = write_hanoi(
                backend,
                store,
                signers=keys.people,
                people=people,
                dossiers=dossiers,
                seed=seed,
                batch=batch,
                privacy=pkeys,
                progress=progress,
                half_way=half_way,
            )
        else:
            written = _write_scenarios(store, keys, people, dossiers, batch, progress, half_way)
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
        codes=[c.code for c in written.cases],
        checkpoint_sizes=tuple(dict.fromkeys(signed)),
        authority_vkey=format_vkey(f"{origin}/authority", 0x01, keys.authority.public_key),
        log_vkey=keys.log.verifier.vkey,
        witness_vkey=keys.witness.verifier.vkey,
        people=people,
        planted=dict(sorted(written.planted().items())),
        lifecycles=dict(sorted(written.lifecycles().items())),
        cases=written.cases,
        subjects=written.subjects,
        reads=written.reads,
        erased=written.erased,
        applicants=written.applicants,
        privacy_keys=pkeys,
    )


def _write_scenarios(  # noqa: PLR0917
    store: EventStore,
    keys: GeneratedKeys,
    people: dict[str, Official],
    dossiers: int,
    batch: int,
    progress: Callable[[int, int], None] | None,
    half_way: Callable[[], None],
) -> Written:
    """The nine demo scenarios in turn, on the Mondays of ``WEEKS`` weeks."""
    service = BufferedService(store, signers=keys.people, people=people)
    office = Office(service, people)
    written = Written([], {})
    for index in range(dossiers):
        scenario = SCENARIOS[index % len(SCENARIOS)]
        week = (index // len(SCENARIOS)) % WEEKS
        slot = index // (len(SCENARIOS) * WEEKS)
        start_us = monday_morning(week) + (index % len(SCENARIOS)) * 17 * MINUTE + slot
        code = dossier_code(index, start_us, scenario.__name__)
        story = scenario(office, code, start_us)
        state = office.state(code)
        written.cases.append(Case(code, state.procedure, state.agency, start_us, scenario.__name__))
        planted = {
            "permanent_residence_late": ("rule.handover_late", "rule.late_without_apology"),
            "paper_copy_without_basis": ("rule.paper_copy_without_basis",),
        }.get(scenario.__name__, ())
        written.stories[code] = Story(scenario.__name__ if story else "", planted)
        service.forget(code)
        if len(service.buffer) >= batch:
            service.flush()
            if progress is not None:
                progress(index + 1, dossiers)
        if index + 1 == dossiers // 2:
            service.flush()
            half_way()
    service.flush()
    if progress is not None:
        progress(dossiers, dossiers)
    return written


def _checkpoint(checkpoints: Checkpoints, keys: GeneratedKeys, *, timestamp: int) -> int:
    """Sign a checkpoint at the integrated size and have the witness cosign it, a minute
    after the latest event so far (deterministic: the generated events' own clock; the
    ``timestamp``-th second of that minute keeps the two checkpoints' times apart)."""
    log = checkpoints.log
    size = log.size()
    last_us = parse_stored(log.leaf_record(size - 1)).body.time_us if size else START_US
    at_s = last_us // 1_000_000 + 60 + timestamp
    if checkpoints.commits is not None and (head := checkpoints.commits.latest()) is not None:
        at_s = max(at_s, head.event.body.time_us // 1_000_000 + 1)  # the index stream's order
    note = checkpoints.sign(now_us=at_s * 1_000_000)
    checkpoint = parse_checkpoint_text(note.text)
    checkpoints.add_cosignature(
        size=checkpoint.size, signature=keys.witness.cosign(checkpoint, timestamp=at_s)
    )
    return checkpoint.size
