"""Pass 1, steps 1–5, streaming over the log in leaf order.

For each record: 1 canonical encoding and shape; 2 its hash against the one the
store's index claims, and its origin; 3 every signature, by a key registered
for the actor (in a role the event type needs) and not revoked at this leaf
position — registry events by trusted authority keys, folded into the registry
as they come; 4 its stream's chain (n, prev, time order) and the stored row's
(stream, n) columns; 5 the leaf joins a compact Merkle range, whose root is
kept at every size a checkpoint names.

Memory: the compact range (log₂ n hashes), one head per stream and the key
registry; records are held only while their batch is in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ledger.core import merkle
from ledger.core.chain import StreamHead, verify_position
from ledger.core.errors import (
    EventHashMismatch,
    HosoError,
    MalformedError,
    SignatureInvalid,
    SignatureUnknownKey,
    VerificationError,
)
from ledger.core.event import parse_record
from ledger.core.hashing import EventHash, Hash
from ledger.core.registry import (
    REGISTRY_STREAM,
    KeyNotValid,
    KeyRegistration,
    RegistryState,
    registry_change,
)
from ledger.core.signing import KeyId, PublicKey
from ledger.domain.streams import INDEX_STREAM, SignatureRoleMissing, acting_agency
from verify.checks import (
    ChainTimeBackwards,
    EventOriginMismatch,
    LogRowMismatch,
    RegistryChangeRefused,
)
from verify.findings import Findings, ReportFinding
from verify.index import IndexCheck
from verify.roles import acting_roles
from verify.sigpool import BatchChecker, Malformed, Parsed, signature_ok
from verify.source import LogEntry


class Head(NamedTuple):
    n: int
    event_hash: bytes
    time_us: int


@dataclass
class KeyBook:
    """The key registry as folded so far, plus every registration seen (for pass 2)."""

    authorities: Mapping[KeyId, PublicKey]
    state: RegistryState = field(default_factory=RegistryState)
    registrations: dict[bytes, KeyRegistration] = field(default_factory=dict)
    public_keys: dict[bytes, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.public_keys.update((bytes(k), bytes(v)) for k, v in self.authorities.items())
        self.state = RegistryState(roots=self.authorities)


@dataclass
class LogResult:
    size: int
    roots: dict[int, Hash]
    keys: KeyBook
    streams: int
    signatures: int


def batched(entries: Iterable[LogEntry], size: int) -> Iterator[list[LogEntry]]:
    batch: list[LogEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class LogPass:
    """Steps 1–5 over the records of ``entries``, in order."""

    def __init__(
        self,
        *,
        origin: str,
        authorities: Mapping[KeyId, PublicKey],
        findings: Findings,
        root_sizes: Iterable[int] = (),
        log_keys: Mapping[KeyId, PublicKey] | None = None,
        rebuild_index: bool = True,
    ) -> None:
        """``rebuild_index=False`` for a partial log (a bundle): its commits are checked by
        their lookup proofs instead of a rebuild."""
        self.origin = origin
        self.rebuild_index = rebuild_index
        self.findings = findings
        self.keys = KeyBook(authorities)
        self.log_keys = dict(log_keys or {})
        self.keys.public_keys.update((bytes(k), bytes(v)) for k, v in self.log_keys.items())
        self.index = IndexCheck(findings)
        self.heads: dict[str, Head] = {}
        self.compact = merkle.CompactRange()
        self.root_sizes = set(root_sizes)
        self.roots: dict[int, Hash] = {}
        self.signatures = 0
        self.registry_applied: list[tuple[int, bytes]] = []  # (leaf, record) folded in
        if 0 in self.root_sizes:
            self.roots[0] = self.compact.root()

    def run(
        self,
        entries: Iterable[LogEntry],
        checker: BatchChecker,
        progress: Callable[[int], None] | None = None,
    ) -> LogResult:
        batches = batched(entries, checker.batch)
        pending: dict[int, list[LogEntry]] = {}

        def records() -> Iterator[Sequence[bytes]]:
            for number, batch in enumerate(batches):
                pending[number] = batch
                yield [e.record for e in batch]

        for number, (_, results) in enumerate(checker.run(records(), self.keys.public_keys)):
            for entry, checked in zip(pending.pop(number), results, strict=True):
                self._one(entry, checked)
            if progress is not None:
                progress(self.compact.size)
        return LogResult(self.compact.size, self.roots, self.keys, len(self.heads), self.signatures)

    # --- one record ------------------------------------------------------------

    def _one(self, entry: LogEntry, checked: Parsed | Malformed) -> None:
        leaf = self.compact.size if entry.leaf is None else entry.leaf
        if isinstance(checked, Malformed):
            self.findings.add(
                ReportFinding(
                    checked.check,
                    1,
                    "malformed",
                    checked.detail,
                    stream=entry.stream,
                    n=entry.n,
                    leaf=leaf,
                    where=checked.where,
                )
            )
        else:
            self._hashes(entry, checked, leaf)
            self._schema(checked, leaf)
            self._signatures(entry, checked, leaf)
            self._chain(entry, checked, leaf)
            self._index(checked, leaf)
        self.compact.append(Hash(checked.leaf_hash))
        if self.compact.size in self.root_sizes:
            self.roots[self.compact.size] = self.compact.root()

    def _report(self, err: HosoError, step: int, p: Parsed, leaf: int) -> None:
        self.findings.error(err, step=step, stream=p.stream, n=p.n, leaf=leaf)

    def _hashes(self, entry: LogEntry, p: Parsed, leaf: int) -> None:
        where = f"leaf {leaf}"
        if entry.claimed_hash is not None and entry.claimed_hash != p.event_hash:
            self._report(
                EventHashMismatch(
                    "the store's leaf index claims another hash for this record",
                    where=where,
                    expected=entry.claimed_hash,
                    found=p.event_hash,
                ),
                2,
                p,
                leaf,
            )
        if p.origin != self.origin:
            self._report(
                EventOriginMismatch(
                    "record is from another ledger",
                    where=where,
                    expected=self.origin,
                    found=p.origin,
                ),
                2,
                p,
                leaf,
            )

    def _signatures(self, entry: LogEntry, p: Parsed, leaf: int) -> None:
        self.signatures += len(p.key_ids)
        where = f"leaf {leaf}"
        valid = [index not in p.bad for index in range(len(p.key_ids))]
        for index in p.unchecked:
            public_key = self.keys.public_keys.get(p.key_ids[index])
            if public_key is None:
                valid[index] = False
                self._report(
                    SignatureUnknownKey(
                        "signature by a key no trust root or registration names",
                        where=f"{where} signature {index}",
                        found=p.key_ids[index],
                    ),
                    3,
                    p,
                    leaf,
                )
                continue
            record_sig = parse_record(entry.record).signatures[index].signature
            valid[index] = signature_ok(public_key, p.event_hash, record_sig)
        for index in p.bad:
            self._report(
                SignatureInvalid(
                    f"Ed25519 signature by key {p.key_ids[index].hex()} does not verify",
                    where=f"{where} signature {index}",
                ),
                3,
                p,
                leaf,
            )
        for index in p.unchecked:
            if not valid[index] and p.key_ids[index] in self.keys.public_keys:
                self._report(
                    SignatureInvalid(
                        f"Ed25519 signature by key {p.key_ids[index].hex()} does not verify",
                        where=f"{where} signature {index}",
                    ),
                    3,
                    p,
                    leaf,
                )
        if p.stream == REGISTRY_STREAM:
            self._registry(entry, p, leaf, valid)
        elif p.stream == INDEX_STREAM:
            self._log_signed(p, leaf)
        else:
            self._key_roles(p, leaf, valid)

    def _schema(self, p: Parsed, leaf: int) -> None:
        """The stream holds this event type with this payload shape (steps 1 and 4)."""
        if p.schema is None:
            return
        self.findings.add(
            ReportFinding(
                p.schema.check,
                1 if p.schema.malformed else 4,
                "malformed" if p.schema.malformed else "integrity",
                p.schema.detail,
                stream=p.stream,
                n=p.n,
                leaf=leaf,
                where=p.schema.where,
                expected=p.schema.expected,
                found=p.schema.found,
            )
        )

    def _log_signed(self, p: Parsed, leaf: int) -> None:
        """An index commit is signed by the trusted log key (as checkpoints are)."""
        for index, kid in enumerate(p.key_ids):
            if kid not in self.log_keys and kid in self.keys.public_keys:
                self._report(
                    SignatureUnknownKey(
                        "an index commit must be signed by the trusted log key only",
                        where=f"leaf {leaf} signature {index}",
                        found=kid,
                    ),
                    3,
                    p,
                    leaf,
                )

    def _index(self, p: Parsed, leaf: int) -> None:
        """Step 10: feed the index rebuild; at a commit, compare the roots."""
        if not self.rebuild_index:
            return
        if p.commit is not None and all(k in self.log_keys for k in p.key_ids) and not p.bad:
            self.index.commit(p.commit, leaf=leaf, stream=p.stream, n=p.n)
        self.index.observe(leaf=leaf, stream=p.stream, n=p.n, head=p.event_hash, results=p.results)

    def _registry(self, entry: LogEntry, p: Parsed, leaf: int, valid: list[bool]) -> None:
        for index, kid in enumerate(p.key_ids):
            if kid not in self.keys.public_keys:
                return  # an unknown key: reported once already, as signature.unknown_key
            try:  # a trust-root authority not revoked, or a registered authority key
                self.keys.state.check_authority(KeyId(kid), position=leaf)
            except KeyNotValid as err:
                self._report(
                    SignatureUnknownKey(
                        "a key-registry event must be signed by authority keys valid here"
                        f" ({err.detail})",
                        where=f"leaf {leaf} signature {index}",
                        found=kid,
                    ),
                    3,
                    p,
                    leaf,
                )
                return
        if not all(valid):
            return  # reported; an unproven registry change is not applied
        try:
            change = registry_change(parse_record(entry.record))
            self.keys.state.apply(change, position=leaf)
        except KeyNotValid as err:
            self._report(
                RegistryChangeRefused(err.detail, where=err.where, found=err.found), 3, p, leaf
            )
            return
        except HosoError as err:
            # a payload that does not parse is step 1's (record.shape), else step 3's
            self._report(err, 1 if isinstance(err, MalformedError) else 3, p, leaf)
            return
        self.registry_applied.append((leaf, entry.record))
        if isinstance(change, KeyRegistration):
            self.keys.registrations[change.key_id] = change
            self.keys.public_keys[change.key_id] = change.public_key

    def _key_roles(self, p: Parsed, leaf: int, valid: list[bool]) -> None:
        roles = acting_roles(p.type)
        agency = acting_agency(p.stream)
        acting = False
        for index, kid in enumerate(p.key_ids):
            try:
                registration = self.keys.state.check(KeyId(kid), position=leaf)
            except KeyNotValid as err:
                self._report(err, 3, p, leaf)
                continue
            if (
                valid[index]
                and registration.actor == p.actor
                and (roles is None or registration.roles & roles)
                and (agency is None or registration.agency == agency)
            ):
                acting = True
        if not acting:
            self._report(
                SignatureRoleMissing(
                    f"{p.type} needs a valid signature by its actor's key in one of these roles",
                    where=f"leaf {leaf}",
                    expected=f"{p.actor} as {' or '.join(sorted(roles or {'any role'}))}"
                    + ("" if agency is None else f" of {agency}"),
                    found=", ".join(
                        f"{r.actor} as {'/'.join(sorted(r.roles))}"
                        + ("" if agency is None else f" of {r.agency}")
                        for kid in p.key_ids
                        if (r := self.keys.registrations.get(kid)) is not None
                    )
                    or "no registered key",
                ),
                3,
                p,
                leaf,
            )

    def _chain(self, entry: LogEntry, p: Parsed, leaf: int) -> None:
        where = f"stream {p.stream} n={p.n}"
        if (entry.stream is not None and entry.stream != p.stream) or (
            entry.n is not None and entry.n != p.n
        ):
            self._report(
                LogRowMismatch(
                    "the stored row's stream and position differ from the signed body",
                    where=f"leaf {leaf}",
                    expected=f"{p.stream} n={p.n}",
                    found=f"{entry.stream} n={entry.n}",
                ),
                4,
                p,
                leaf,
            )
        head = self.heads.get(p.stream)
        try:
            verify_position(
                n=p.n,
                prev=p.prev,
                head=None if head is None else StreamHead(head.n, EventHash(head.event_hash)),
                where=where,
            )
        except VerificationError as err:
            self._report(err, 4, p, leaf)
        if head is not None and p.time_us < head.time_us:
            self._report(
                ChainTimeBackwards(
                    "claimed time is earlier than the stream's previous event's",
                    where=where,
                    expected=f">= {head.time_us}",
                    found=p.time_us,
                ),
                4,
                p,
                leaf,
            )
        self.heads[p.stream] = Head(p.n, p.event_hash, p.time_us)
