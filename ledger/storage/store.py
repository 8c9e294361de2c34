"""Append signed events to streams, with every check done before a byte is stored.

The store never signs: records arrive signed (by the actor's client, or by the
custodial signer), and the store checks, in order, for each record of a batch:

1. ``record.shape`` / ``encoding.canonical`` — it parses;
2. ``append.origin`` — it belongs to this ledger;
3. ``chain.position`` / ``chain.link`` — it continues its stream's head
   (a byte-identical resubmission of a stored event is reported, not stored twice;
   a different event at a taken position raises :class:`StreamConflict` with the head);
4. ``key.unregistered`` / ``key.revoked`` / ``signature.invalid`` /
   ``signature.actor`` — every signature is valid, by a key registered and not
   revoked, and one of them is the actor's (registry events: authority keys);
5. insertion through eventsourcing's recorder in one transaction, where the
   (stream, n) primary key settles races: exactly one writer wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger.core.errors import VerificationError
from ledger.core.event import SignedEvent, parse_record, verify_link
from ledger.core.hashing import event_signature_message
from ledger.core.registry import (
    REGISTRY_STREAM,
    KeyRegistration,
    KeyRevocation,
    registry_change,
)
from ledger.core.signing import KeyId, PublicKey, verify_signature
from ledger.storage.database import Backend


class StreamConflict(VerificationError):
    """Another event already holds this stream position; carries the current head."""

    check = "append.conflict"

    def __init__(self, detail: str, *, stream: str, head_n: int, head_hash: bytes | None) -> None:
        self.stream = stream
        self.head_n = head_n
        self.head_hash = head_hash
        super().__init__(
            detail, where=f"stream {stream}", expected=f"n={head_n + 1}", found="a taken position"
        )


class OriginMismatch(VerificationError):
    check = "append.origin"


class KeyUnregistered(VerificationError):
    check = "key.unregistered"


class KeyRevoked(VerificationError):
    check = "key.revoked"


class ActorSignatureMissing(VerificationError):
    check = "signature.actor"


class RegistryRejected(VerificationError):
    check = "registry.rejected"


@dataclass(frozen=True, slots=True)
class Appended:
    stream: str
    n: int
    event_hash: bytes
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: KeyId
    public_key: PublicKey
    actor: str
    roles: frozenset[str]
    agency: str
    revoked: bool


class EventStore:
    """Checked, race-safe appends and stream reads."""

    def __init__(
        self, backend: Backend, *, origin: str, authorities: Mapping[KeyId, PublicKey]
    ) -> None:
        self.backend = backend
        self.origin = origin
        self.authorities = dict(authorities)

    # --- reads ------------------------------------------------------------

    def head(self, stream: str) -> SignedEvent | None:
        rows = self.backend.recorder.select_events(stream, desc=True, limit=1)
        return parse_record(rows[0].state) if rows else None

    def read_stream(self, stream: str) -> list[SignedEvent]:
        return [parse_record(r.state) for r in self.backend.recorder.select_events(stream)]

    def event_at(self, stream: str, n: int) -> SignedEvent | None:
        rows = self.backend.recorder.select_events(stream, gt=n - 1, lte=n)
        return parse_record(rows[0].state) if rows else None

    def keys(self, key_ids: Sequence[bytes]) -> dict[KeyId, KeyRecord]:
        if not key_ids:
            return {}
        sql = self.backend.sql
        rows = sql.rows(
            f"SELECT * FROM hoso_keys WHERE key_id IN ({sql.in_list(len(key_ids))})",
            list(key_ids),
        )
        return {
            KeyId(bytes(r["key_id"])): KeyRecord(
                key_id=KeyId(bytes(r["key_id"])),
                public_key=PublicKey(bytes(r["public_key"])),
                actor=r["actor"],
                roles=frozenset(r["roles"].split(",")),
                agency=r["agency"],
                revoked=r["revoked_n"] is not None,
            )
            for r in rows
        }

    # --- append -----------------------------------------------------------

    def append(self, records: Sequence[bytes]) -> list[Appended]:
        """Check and append a batch of records in one transaction."""
        events = [parse_record(r, where=f"record {i}") for i, r in enumerate(records)]
        heads: dict[str, SignedEvent | None] = {}
        results: list[Appended] = []
        fresh: list[SignedEvent] = []
        for event in events:
            duplicate = self._continue_stream(event, heads)
            results.append(
                Appended(event.body.stream, event.body.n, event.event_hash, duplicate=duplicate)
            )
            if not duplicate:
                fresh.append(event)
        if not fresh:
            return results
        statements, key_ids = self._check_signatures(fresh)
        stored = [
            StoredEvent(
                originator_id=e.body.stream,
                originator_version=e.body.n,
                topic=e.body.type,
                state=e.record,
            )
            for e in fresh
        ]
        try:
            self.backend.recorder.insert_events(
                stored, hoso_statements=statements, hoso_key_ids=key_ids
            )
        except IntegrityError as err:
            raise self._conflict_after_race(fresh) from err
        return results

    def _continue_stream(self, event: SignedEvent, heads: dict[str, SignedEvent | None]) -> bool:
        body = event.body
        if body.origin != self.origin:
            raise OriginMismatch(
                "event is for another ledger",
                where=body.position,
                expected=self.origin,
                found=body.origin,
            )
        if body.stream not in heads:
            heads[body.stream] = self.head(body.stream)
        head = heads[body.stream]
        if head is not None and body.n <= head.body.n:
            stored = head if body.n == head.body.n else self.event_at(body.stream, body.n)
            if stored is not None and stored.record == event.record:
                return True
            raise StreamConflict(
                "the stream already has an event at this position; re-sign on the current head",
                stream=body.stream,
                head_n=head.body.n,
                head_hash=head.event_hash,
            )
        verify_link(event, head)
        heads[body.stream] = event
        return False

    def _check_signatures(
        self, events: Sequence[SignedEvent]
    ) -> tuple[list[tuple[str, list[Any]]], list[bytes]]:
        wanted = sorted({s.key_id for e in events for s in e.signatures})
        known = self.keys(wanted)
        statements: list[tuple[str, list[Any]]] = []
        used: set[bytes] = set()
        for event in events:
            message = event_signature_message(event.event_hash)
            if event.body.stream == REGISTRY_STREAM:
                self._check_authority(event, message)
                statements.append(self._apply_registry(event, known))
                continue
            actor_signed = False
            for index, sig in enumerate(event.signatures):
                where = f"{event.body.position} signature {index}"
                record = known.get(sig.key_id)
                if record is None:
                    raise KeyUnregistered(
                        "signature by a key the registry does not know",
                        where=where,
                        found=sig.key_id,
                    )
                if record.revoked:
                    raise KeyRevoked("signature by a revoked key", where=where, found=sig.key_id)
                verify_signature(record.public_key, message, sig.signature, where=where)
                actor_signed = actor_signed or record.actor == event.body.actor
                used.add(sig.key_id)
            if not actor_signed:
                raise ActorSignatureMissing(
                    "no signature is by a key registered to the event's actor",
                    where=event.body.position,
                    expected=event.body.actor,
                    found=sorted({known[s.key_id].actor for s in event.signatures}),
                )
        return statements, sorted(used)

    def _check_authority(self, event: SignedEvent, message: bytes) -> None:
        for index, sig in enumerate(event.signatures):
            where = f"{event.body.position} signature {index}"
            public_key = self.authorities.get(sig.key_id)
            if public_key is None:
                raise RegistryRejected(
                    "registry events are signed by authority keys only",
                    where=where,
                    found=sig.key_id,
                )
            verify_signature(public_key, message, sig.signature, where=where)

    def _apply_registry(
        self, event: SignedEvent, known: dict[KeyId, KeyRecord]
    ) -> tuple[str, list[Any]]:
        change = registry_change(event)
        where = event.body.position
        if isinstance(change, KeyRegistration):
            if change.key_id in known or change.key_id in self.keys([change.key_id]):
                raise RegistryRejected(
                    "key is already registered", where=where, found=change.key_id
                )
            known[change.key_id] = KeyRecord(
                change.key_id, change.public_key, change.actor, change.roles, change.agency, False
            )
            return (
                "INSERT INTO hoso_keys (key_id, public_key, actor, roles, agency, registered_n)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    change.key_id,
                    change.public_key,
                    change.actor,
                    ",".join(sorted(change.roles)),
                    change.agency,
                    event.body.n,
                ],
            )
        return self._apply_revocation(event, change, known)

    def _apply_revocation(
        self, event: SignedEvent, change: KeyRevocation, known: dict[KeyId, KeyRecord]
    ) -> tuple[str, list[Any]]:
        where = event.body.position
        current = known.get(change.key_id) or self.keys([change.key_id]).get(change.key_id)
        if current is None or current.revoked:
            state = "unknown" if current is None else "already revoked"
            raise RegistryRejected(
                f"cannot revoke a key that is {state}", where=where, found=change.key_id
            )
        known[change.key_id] = KeyRecord(
            current.key_id, current.public_key, current.actor, current.roles, current.agency, True
        )
        return (
            "UPDATE hoso_keys SET revoked_n = %s WHERE key_id = %s AND revoked_n IS NULL",
            [event.body.n, change.key_id],
        )

    def _conflict_after_race(self, events: Sequence[SignedEvent]) -> StreamConflict:
        for event in events:
            head = self.head(event.body.stream)
            if head is not None and head.body.n >= event.body.n:
                return StreamConflict(
                    "another writer appended to this stream first; re-sign on the current head",
                    stream=event.body.stream,
                    head_n=head.body.n,
                    head_hash=head.event_hash,
                )
        first = events[0]
        return StreamConflict(
            "the append lost a race",
            stream=first.body.stream,
            head_n=first.body.n - 1,
            head_hash=None,
        )
