"""A minimal ledger in memory, built with the pure core, for the verifier's step tests.

The clean ledger (:func:`clean_ledger`) holds, in log order:

* leaves 0–3: the key registry (``system/keys``), four ``KeyRegistered`` events
  signed by the trust root authority: a portal key, a reception officer's, a
  leader's and the ward's agency seal;
* leaves 4–8: one dossier (:data:`DOSSIER`, procedure 1.001193, same-day): submitted
  by the portal, its two required components digitised, received with the due
  date :func:`ledger.domain.procedures.compute_due` gives, handed to a handler;

and two checkpoints signed by the log key, each cosigned by the witness: one
of size 4 (the registry) and one of the whole log. The audit's "now" is
:data:`NOW_US`, an hour after the hand-over and before the due date, so the clean
ledger gives no finding at all (``tests/verify/test_steps.py`` asserts it).

A test plants one fault (changes the log before the notes are signed, the
notes, the trust roots or the audit's time), runs :func:`verify` (the real
:func:`verify.run.verify_ledger` over a :class:`verify.source.MemorySource`, no
database) and compares the report's findings with :class:`Expect` rows.

Keys come from fixed seeds (SHA-256 of a label); nothing here reads a file.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import EllipsisType
from typing import Final, NamedTuple

from ledger.core.checkpoint import Checkpoint, Cosigner, sign_checkpoint
from ledger.core.encoding import Value
from ledger.core.event import EventBody, EventSignature, SignedEvent, parse_record, sign_event
from ledger.core.hashing import GENESIS_PREV, EventHash, Hash, leaf_hash
from ledger.core.index import IndexTree
from ledger.core.merkle import root_from_leaves
from ledger.core.note import Ed25519NoteSigner, Note, NoteSignature, format_vkey
from ledger.core.registry import (
    KEY_REGISTERED,
    KEY_REVOKED,
    REGISTRY_STREAM,
    Registration,
    key_registered,
    key_revoked,
    registration_events,
)
from ledger.core.signing import Signer
from ledger.domain import lifecycle as ev
from ledger.domain.calendar import VN_TZ, WorkingCalendar, instant
from ledger.domain.calendar_data import load_calendar
from ledger.domain.due import DueDate, compute_due
from ledger.domain.procedures import Catalogue
from ledger.domain.procedures_data import load_catalogue
from ledger.domain.streams import (
    INDEX_COMMITTED,
    INDEX_STREAM,
    IndexCommit,
    fold_states,
    index_payload,
)
from tests.support.memory_tree import MemoryTree
from verify.bundle import verify_bundle
from verify.bundle_format import Bundle, BundleEntry
from verify.checks import STEPS, Step
from verify.evidence import Evidence, StreamProof
from verify.findings import ReportFinding
from verify.run import Report, verify_ledger
from verify.source import LogEntry, MemorySource
from verify.trust import TrustRoots, parse_trust

ORIGIN: Final = "test.hoso.example/minimal"
OTHER_ORIGIN: Final = "test.hoso.example/elsewhere"
WARD: Final = "000.39.05.H26"
PROCEDURE: Final = "1.001193"  # birth registration: same day, two required components
COMPONENTS: Final = ("GIAY_CHUNG_SINH", "TO_KHAI_KHAI_SINH")
DOSSIER: Final = f"{WARD}-260303-0001"
SECOND_DOSSIER: Final = f"{WARD}-260303-0002"
AUTHORITY_ACTOR: Final = "authority:minimal"
PORTAL: Final = "portal:dichvucong"
RECEPTION: Final = "ward:tiepnhan-01"
LEADER: Final = "ward:lanhdao-01"
SEAL: Final = f"agency:{WARD}"
WITNESS_NAME: Final = "witness.test.hoso.example/w1"

MINUTE: Final = 60_000_000
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR
T0: Final = instant(datetime(2026, 3, 3, 8, 0, tzinfo=VN_TZ))  # a Tuesday, 08:00 in Hanoi
RECEIVED_US: Final = T0 + 40 * MINUTE
NOW_US: Final = T0 + 2 * HOUR  # 10:00: after the hand-over, before the 17:00 due date

CATALOGUE: Final[Catalogue] = load_catalogue()
CALENDAR: Final[WorkingCalendar] = load_calendar()
DUE: Final[DueDate] = compute_due(
    received_us=RECEIVED_US, procedure=CATALOGUE.get(PROCEDURE), calendar=CALENDAR
)

REGISTRY_LEAVES: Final = 4
"""Leaves 0–3 are the registry; the dossier's events follow at leaves 4–8."""


def _signer(label: str) -> Signer:
    return Signer(hashlib.sha256(f"hoso minimal ledger: {label}".encode()).digest())


@dataclass(frozen=True)
class Keys:
    """Every key of the minimal ledger, from fixed test seeds."""

    authority: Signer = field(default_factory=lambda: _signer("authority"))
    portal: Signer = field(default_factory=lambda: _signer("portal"))
    reception: Signer = field(default_factory=lambda: _signer("reception"))
    leader: Signer = field(default_factory=lambda: _signer("leader"))
    seal: Signer = field(default_factory=lambda: _signer("agency seal"))
    stranger: Signer = field(default_factory=lambda: _signer("a key nobody registered"))
    log: Ed25519NoteSigner = field(
        default_factory=lambda: Ed25519NoteSigner(ORIGIN, _signer("log"))
    )
    witness: Cosigner = field(default_factory=lambda: Cosigner(WITNESS_NAME, _signer("witness")))

    def registrations(self) -> list[Registration]:
        """The clean registry, in leaf order 0–3."""
        return [
            Registration(self.portal.public_key, PORTAL, frozenset({"portal"}), "NATIONAL"),
            Registration(self.reception.public_key, RECEPTION, frozenset({"reception"}), WARD),
            Registration(self.leader.public_key, LEADER, frozenset({"leader"}), WARD),
            Registration(self.seal.public_key, SEAL, frozenset({"agency_seal"}), WARD),
        ]


class Expect(NamedTuple):
    """One finding a test expects: check id, step, family and where it was found.

    ``expected`` and ``found`` are compared too unless left as ``...`` (a test
    that pins them computes them from what it planted)."""

    check: str
    step: int
    family: str
    stream: str | None = None
    n: int | None = None
    leaf: int | None = None
    where: str | None = None
    expected: str | EllipsisType | None = ...
    found: str | EllipsisType | None = ...


def as_expect(finding: ReportFinding, like: Expect | None = None) -> Expect:
    """A report finding in :class:`Expect` form; expected/found kept only where ``like``
    pins them (so rows that leave them open still compare equal)."""
    pin_expected = like is not None and not isinstance(like.expected, EllipsisType)
    pin_found = like is not None and not isinstance(like.found, EllipsisType)
    return Expect(
        finding.check,
        finding.step,
        finding.family,
        finding.stream,
        finding.n,
        finding.leaf,
        finding.where,
        finding.expected if pin_expected else ...,
        finding.found if pin_found else ...,
    )


def _place(e: Expect) -> tuple[str, ...]:
    """Check, step, family and where: what must match before expected/found are compared."""
    return tuple(repr(x) for x in e[:7])


def _order(e: Expect) -> str:
    return repr(tuple(e))


def matched(report: Report, expected: list[Expect]) -> list[Expect]:
    """The report's findings as :class:`Expect` rows, each pinning expected/found as the
    expected row at the same place does (none where no row is there), in a fixed order."""
    by_place = {_place(e): e for e in expected}
    found = [as_expect(f, by_place.get(_place(as_expect(f)))) for f in report.findings.kept]
    return sorted(found, key=_order)


def assert_findings(report: Report, expected: list[Expect]) -> None:
    """The report holds exactly ``expected`` (as a multiset), and counted nothing more."""
    found, wanted = matched(report, expected), sorted(expected, key=_order)
    assert found == wanted, "\n".join(
        [
            "findings differ:",
            *(f"  found    {f}" for f in found),
            *(f"  expected {w}" for w in wanted),
        ]
    )
    assert sum(report.findings.counts.values()) == len(expected), report.findings.counts


@dataclass
class MinimalLedger:
    """A log being built, with what the store's columns claim about each record.

    ``checkpoint_sizes`` and the whole log's size are signed (and cosigned by the
    witness, but for the sizes in ``uncosigned``) over the log as it is when
    :meth:`notes` is called, so a fault planted in the log is one the operator
    checkpointed; ``extra_notes`` are further stored notes, as given.
    """

    keys: Keys = field(default_factory=Keys)
    entries: list[LogEntry] = field(default_factory=list)
    heads: dict[str, SignedEvent] = field(default_factory=dict)
    checkpoint_sizes: list[int] = field(default_factory=list)
    uncosigned: set[int] = field(default_factory=set)
    sign_latest: bool = True
    more_witnesses: list[Cosigner] = field(default_factory=list)
    extra_notes: list[bytes] = field(default_factory=list)
    min_witnesses: int = 1
    policy_lines: str = ""
    """Further trust-file lines (tlog-policy witnesses, groups, a quorum)."""
    now_us: int = NOW_US

    # --- the log -----------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self.entries)

    def append(
        self,
        event: SignedEvent,
        *,
        stream: str | None = None,
        n: int | None = None,
        claimed_hash: bytes | None = None,
    ) -> int:
        """Store ``event`` as the next leaf (columns and index as a store writes them,
        unless given); it becomes its stream's head. Returns its leaf index."""
        self.entries.append(
            LogEntry(
                event.record,
                stream=event.body.stream if stream is None else stream,
                n=event.body.n if n is None else n,
                claimed_hash=event.event_hash if claimed_hash is None else claimed_hash,
            )
        )
        self.heads[event.body.stream] = event
        return self.size - 1

    def append_raw(self, record: bytes, *, stream: str, n: int) -> int:
        """Store bytes that may not parse (no index hash: the store could not compute one)."""
        self.entries.append(LogEntry(record, stream=stream, n=n))
        return self.size - 1

    def next_event(
        self,
        stream: str,
        kind: str,
        actor: str,
        payload: dict[str, Value],
        signers: list[Signer],
        *,
        time_us: int | None = None,
        n: int | None = None,
        prev: bytes | None = None,
        origin: str = ORIGIN,
    ) -> SignedEvent:
        """The event that would follow ``stream``'s head (n + 1, its hash as prev, a
        minute later), with any of those overridden. Not stored."""
        head = self.heads.get(stream)
        body = EventBody(
            origin=origin,
            stream=stream,
            n=(1 if head is None else head.body.n + 1) if n is None else n,
            prev=EventHash(
                (GENESIS_PREV if head is None else head.event_hash) if prev is None else prev
            ),
            type=kind,
            actor=actor,
            time_us=(T0 if head is None else head.body.time_us + MINUTE)
            if time_us is None
            else time_us,
            payload=payload,
        )
        return sign_event(body, signers)

    def add(
        self,
        stream: str,
        kind: str,
        actor: str,
        payload: dict[str, Value],
        signers: list[Signer],
        *,
        time_us: int | None = None,
    ) -> SignedEvent:
        """Build the next event of ``stream`` (:meth:`next_event`) and store it."""
        event = self.next_event(stream, kind, actor, payload, signers, time_us=time_us)
        self.append(event)
        return event

    def event_at(self, leaf: int) -> SignedEvent:
        """The stored event at ``leaf`` (negative: from the end)."""
        return parse_record(self.entries[leaf].record)

    # --- convenient events ---------------------------------------------------------

    def register(self, registration: Registration) -> SignedEvent:
        """The authority registers a key: the registry's next event, stored."""
        return self.add(
            REGISTRY_STREAM,
            KEY_REGISTERED,
            AUTHORITY_ACTOR,
            key_registered(
                registration.public_key,
                actor=registration.actor,
                roles=registration.roles,
                agency=registration.agency,
            ),
            [self.keys.authority],
        )

    def revoke(self, signer: Signer, *, reason: str = "token lost") -> SignedEvent:
        """The authority revokes ``signer``'s key: the registry's next event, stored."""
        return self.add(
            REGISTRY_STREAM,
            KEY_REVOKED,
            AUTHORITY_ACTOR,
            key_revoked(signer.key_id, reason=reason),
            [self.keys.authority],
        )

    def withdrawal_requested(
        self,
        stream: str = DOSSIER,
        *,
        time_us: int | None = None,
        n: int | None = None,
        prev: bytes | None = None,
        origin: str = ORIGIN,
        reason: str = "applicant moved",
    ) -> SignedEvent:
        """A neutral next event (the portal asks to withdraw; no rule looks at it), not stored."""
        return self.next_event(
            stream,
            ev.WITHDRAWAL_REQUESTED,
            PORTAL,
            {"reason": reason},
            [self.keys.portal],
            time_us=time_us,
            n=n,
            prev=prev,
            origin=origin,
        )

    def submission(
        self,
        stream: str,
        *,
        time_us: int | None = None,
        n: int | None = None,
        prev: bytes | None = None,
        origin: str = ORIGIN,
    ) -> SignedEvent:
        """A dossier's ``DossierSubmitted`` by the portal (n = 1 unless overridden), not stored."""
        return self.next_event(
            stream,
            ev.SUBMITTED,
            PORTAL,
            submission_payload(stream),
            [self.keys.portal],
            time_us=time_us,
            n=n,
            prev=prev,
            origin=origin,
        )

    def result_issued(
        self, *, signers: list[Signer] | None = None, time_us: int | None = None
    ) -> SignedEvent:
        """The dossier's electronic result, by the leader with the agency seal; not stored."""
        return self.next_event(
            DOSSIER,
            ev.RESULT_ISSUED,
            LEADER,
            {
                "result_number": "KS-0001",
                "result_type": "GIAY_KHAI_SINH",
                "document_hash": digest("giay khai sinh"),
                "outcome": "granted",
                "medium": "electronic",
            },
            [self.keys.leader, self.keys.seal] if signers is None else signers,
            time_us=time_us,
        )

    # --- anchors and trust -----------------------------------------------------------

    def checkpoint(self) -> None:
        """Sign a checkpoint of the log's current size when the notes are made."""
        self.checkpoint_sizes.append(self.size)

    def root(self, size: int | None = None) -> Hash:
        """The RFC 9162 root over the first ``size`` stored records (default: all)."""
        size = self.size if size is None else size
        return root_from_leaves([leaf_hash(e.record) for e in self.entries[:size]])

    def signed(self, size: int, *, cosigned: bool = True) -> Note:
        """The log's signed note over the first ``size`` records (cosigned by the witnesses)."""
        checkpoint = Checkpoint(origin=ORIGIN, size=size, root=self.root(size))
        note = sign_checkpoint(checkpoint, self.keys.log)
        if cosigned:
            note = note.with_signatures(
                [
                    witness.cosign(checkpoint, timestamp=cosigned_at(size))
                    for witness in self.witnesses()
                ]
            )
        return note

    def witnesses(self) -> list[Cosigner]:
        """The trusted witnesses, each of which cosigns every cosigned checkpoint."""
        return [self.keys.witness, *self.more_witnesses]

    def sizes(self) -> list[int]:
        """The sizes signed by :meth:`notes`: ``checkpoint_sizes``, then the whole log's
        (unless ``sign_latest`` is off or it is already there)."""
        sizes = list(self.checkpoint_sizes)
        if self.sign_latest and self.size not in sizes:
            sizes.append(self.size)
        return sizes

    def notes(self) -> list[bytes]:
        signed = [
            self.signed(size, cosigned=size not in self.uncosigned).serialise()
            for size in self.sizes()
        ]
        return signed + self.extra_notes

    def trust_text(self) -> str:
        authority = format_vkey(f"{ORIGIN}/authority", 0x01, self.keys.authority.public_key)
        return (
            f"origin {ORIGIN}\n"
            f"log {self.keys.log.verifier.vkey}\n"
            f"authority {authority}\n"
            + "".join(f"witness {w.verifier.vkey}\n" for w in self.witnesses())
            + f"min-witnesses {self.min_witnesses}\n"
            + self.policy_lines
        )

    def trust(self) -> TrustRoots:
        return parse_trust(self.trust_text())

    def recs(self) -> list[bytes]:
        """The stored records, in leaf order."""
        return [e.record for e in self.entries]

    def source(self) -> MemorySource:
        return MemorySource(list(self.entries), self.notes())


def cosigned_at(size: int) -> int:
    """The witness's cosignature time for a checkpoint of ``size`` (POSIX seconds)."""
    return T0 // 1_000_000 + 3600 + size


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def submission_payload(stream: str) -> dict[str, Value]:
    return {
        "procedure": PROCEDURE,
        "agency": WARD,
        "channel": "online",
        "applicant": digest(f"applicant commitment of {stream}"),
        "applicant_kind": 1,
        "legal_basis": "state_duty",
    }


def received_payload(
    *,
    due_us: int = DUE.due_us,
    rule_version: str = DUE.rule_version,
    calendar_version: str = DUE.calendar_version,
) -> dict[str, Value]:
    return {
        "received_us": DUE.received_us,
        "receipt_hash": digest("giay tiep nhan"),
        "clock_start_us": DUE.clock_start_us,
        "due_us": due_us,
        "rule_version": rule_version,
        "calendar_version": calendar_version,
    }


def registry(ledger: MinimalLedger) -> None:
    """Leaves 0–3: the clean registry (the same events as ``registration_events``)."""
    for event in registration_events(
        ledger.keys.registrations(),
        origin=ORIGIN,
        authority=ledger.keys.authority,
        authority_actor=AUTHORITY_ACTOR,
        time_us=T0,
    ):
        ledger.append(event)


def dossier_until_received(ledger: MinimalLedger, received: dict[str, Value]) -> None:
    """The dossier's first four events: submitted, two inputs digitised, received."""
    keys = ledger.keys
    ledger.append(ledger.submission(DOSSIER, time_us=T0 + 10 * MINUTE))
    for i, component in enumerate(COMPONENTS):
        ledger.add(
            DOSSIER,
            ev.INPUT,
            RECEPTION,
            {"component": component, "document_hash": digest(component), "source": "scanned"},
            [keys.reception],
            time_us=T0 + (20 + 10 * i) * MINUTE,
        )
    ledger.add(DOSSIER, ev.RECEIVED, RECEPTION, received, [keys.reception], time_us=RECEIVED_US)


def clean_ledger(*, received: dict[str, Value] | None = None) -> MinimalLedger:
    """The clean minimal ledger (module docstring); ``received`` replaces the reception's
    payload (step 8's faults are in it, signed as recorded)."""
    ledger = MinimalLedger()
    registry(ledger)
    ledger.checkpoint()
    dossier_until_received(ledger, received_payload() if received is None else received)
    ledger.add(
        DOSSIER,
        ev.ASSIGNED,
        RECEPTION,
        {"handler": "ward:chuyenvien-01", "department": "tu-phap"},
        [ledger.keys.reception],
        time_us=RECEIVED_US + 10 * MINUTE,
    )
    return ledger


def verify(ledger: MinimalLedger, *, batch: int = 1000, retention_us: int | None = None) -> Report:
    """The real verifier over the ledger in memory (one process, no database); with
    ``retention_us``, step 9 also audits the access log and erasures."""
    return verify_ledger(
        ledger.source(),
        ledger.trust(),
        catalogue=CATALOGUE,
        calendar=CALENDAR,
        now_us=ledger.now_us,
        batch=batch,
        retention_us=retention_us,
    )


# --- offline bundles ------------------------------------------------------------------


def with_index_commit(ledger: MinimalLedger) -> MinimalLedger:
    """A copy of ``ledger`` with the log key's ``IndexCommitted`` record over all its
    records appended (docs/formats.md §12), as the store ends each checkpoint."""
    states = fold_states((e.body, e.event_hash) for e in map(parse_record, ledger.recs()))
    tree = IndexTree()
    tree.set(states.values())
    committed = replace(ledger, entries=list(ledger.entries), heads=dict(ledger.heads))
    payload = index_payload(IndexCommit(ledger.size, tree.root.hash, len(tree.values)))
    last = parse_record(ledger.entries[-1].record).body.time_us if ledger.entries else T0
    committed.add(
        INDEX_STREAM, INDEX_COMMITTED, ORIGIN, payload, [ledger.keys.log.signer], time_us=last
    )
    return committed


def bundle_of(ledger: MinimalLedger, *, dossier: str = DOSSIER, result: str = "") -> Bundle:
    """The bundle of ``dossier`` at the checkpoint over ``ledger`` and its index commit
    (docs/formats.md §10): its records and every registry record, each with its inclusion
    proof, and the index evidence (the commit and the lookup proofs of both streams)."""
    committed = with_index_commit(ledger)
    tree = MemoryTree([leaf_hash(e.record) for e in committed.entries])
    size = committed.size

    def entry(leaf: int) -> BundleEntry:
        proof = tree.inclusion_proof(index=leaf, size=size)
        return BundleEntry(leaf, committed.entries[leaf].record, tuple(proof))

    streams = [parse_record(e.record).body.stream for e in committed.entries]
    states = fold_states((e.body, e.event_hash) for e in map(parse_record, committed.recs()[:-1]))
    index = IndexTree()
    index.set(states.values())
    return Bundle(
        origin=ORIGIN,
        checkpoint=committed.signed(size).serialise(),
        dossier=dossier,
        result=result,
        events=tuple(entry(i) for i, s in enumerate(streams) if s == dossier),
        registry=tuple(entry(i) for i, s in enumerate(streams) if s == REGISTRY_STREAM),
        index=Evidence(
            entry(size - 1),
            (
                StreamProof(dossier, index.prove(dossier)),
                StreamProof(REGISTRY_STREAM, index.prove(REGISTRY_STREAM)),
            ),
        ),
    )


def verify_bundle_bytes(ledger: MinimalLedger, data: bytes) -> Report:
    """The real bundle verifier, under the minimal ledger's trust roots."""
    return verify_bundle(
        data, ledger.trust(), catalogue=CATALOGUE, calendar=CALENDAR, now_us=ledger.now_us
    )


# --- faults shared by the step tests ---------------------------------------------------


def access_by_an_unassigned_handler() -> MinimalLedger:
    """A system key (registered at leaf 9) logs, at leaf 10, a read of the dossier by a
    handler who is not the one it was handed to."""
    ledger = clean_ledger()
    system = ledger.keys.stranger
    ledger.register(
        Registration(system.public_key, "system:access-log", frozenset({"system"}), WARD)
    )
    ledger.add(
        "system/access",
        "DataAccessed",
        "system:access-log",
        {
            "queue": [1],
            "entries": [
                {
                    "reader": "ward:chuyenvien-02",
                    "agency": WARD,
                    "role": "handler",
                    "subject": digest(f"applicant commitment of {DOSSIER}"),
                    "dossier": DOSSIER,
                    "purpose": "processing",
                    "time": RECEIVED_US + 20 * MINUTE,
                }
            ],
        },
        [system],
        time_us=RECEIVED_US + 30 * MINUTE,
    )
    return ledger


def other_log_key() -> Ed25519NoteSigner:
    """A log key under the ledger's own origin name that the trust roots don't hold."""
    return Ed25519NoteSigner(ORIGIN, Signer(digest("another log key")))


def forged_bad_signature(event: SignedEvent, index: int = 0) -> SignedEvent:
    """``event`` with signature ``index`` flipped in its last byte (still 64 bytes)."""
    sigs = list(event.signatures)
    kid, sig = sigs[index]
    sigs[index] = EventSignature(kid, sig[:-1] + bytes([sig[-1] ^ 0x01]))
    return SignedEvent(event.body, tuple(sigs))


def stranger_registration(ledger: MinimalLedger, signer: Signer) -> SignedEvent:
    """The registry's next event: registering the stranger's key, signed by ``signer``."""
    return ledger.next_event(
        REGISTRY_STREAM,
        KEY_REGISTERED,
        AUTHORITY_ACTOR,
        key_registered(
            ledger.keys.stranger.public_key, actor="ward:stranger", roles={"handler"}, agency="X"
        ),
        [signer],
    )


def tampered_cosignature(ledger: MinimalLedger, size: int) -> tuple[Note, int]:
    """The note of ``size`` with its cosignature's timestamp moved on by a second: the
    witness's Ed25519 signature no longer covers it. Returns the note and that time."""
    note = ledger.signed(size)
    log_line, witness_line = note.signatures
    timestamp = cosigned_at(size) + 1
    moved = NoteSignature(
        witness_line.name,
        witness_line.key_id,
        struct.pack(">Q", timestamp) + witness_line.signature[8:],
    )
    return Note(note.text, (log_line, moved)), timestamp


def step_of(check: str, steps: Sequence[Step] = STEPS) -> int:
    """The step whose ``checks`` list ``check`` (or a ``family.*`` wildcard of it)."""
    for step in steps:
        if check in step.checks:
            return step.number
    for step in steps:
        if any(c.endswith(".*") and check.startswith(c[:-1]) for c in step.checks):
            return step.number
    raise AssertionError(f"{check} is in no step")
