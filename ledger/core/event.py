"""Signed event records: the unit of the ledger (docs/formats.md §4).

A record is the canonical msgpack map ``{"body": bin, "sigs": [...]}`` where
``body`` holds the canonical encoding of the event body and each signature
is ``{"kid": 16-byte key id, "sig": 64-byte Ed25519 signature}`` over
``b"hoso/event-signature/v1\\x00" || event hash``, sorted by key id.
The stored bytes are exactly the record, so anyone can check a row with
msgpack, SHA-256 and Ed25519 alone.

:class:`SignedEvent` computes every derived value (body bytes, event hash,
record bytes, leaf hash) in its one constructor, so a half-built record can't
exist. Parsing (:func:`parse_record`) and checking (:func:`verify_event_hash`,
:func:`verify_signatures`) are separate steps that raise typed errors naming the
check, the position, and the expected and found values. How events chain within a
stream is :mod:`ledger.core.chain`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import msgpack

from ledger.core import encoding
from ledger.core.encoding import Value
from ledger.core.errors import (
    EventHashMismatch,
    MalformedEncoding,
    MalformedRecord,
    SignatureUnknownKey,
)
from ledger.core.hashing import (
    HASH_SIZE,
    EventHash,
    Hash,
    event_hash,
    event_signature_message,
    leaf_hash,
)
from ledger.core.signing import (
    KEY_ID_SIZE,
    SIGNATURE_SIZE,
    KeyId,
    PublicKey,
    Signer,
    verify_signature,
)

FORMAT_VERSION: Final = 1
MAX_SIGNATURES: Final = 16
MAX_NAME_BYTES: Final = 255
MAX_INT64: Final = 2**63 - 1
BODY_FIELDS: Final = frozenset(
    {"v", "origin", "stream", "n", "prev", "type", "actor", "time", "payload"}
)


class EventSignature(NamedTuple):
    """One Ed25519 signature on an event, naming the key that made it."""

    key_id: KeyId
    signature: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBody:
    """The signed, hashed part of an event. Times are integer microseconds UTC."""

    origin: str
    stream: str
    n: int
    prev: EventHash
    type: str
    actor: str
    time_us: int
    payload: dict[str, Value]
    version: int = FORMAT_VERSION
    encoded: bytes = field(init=False, repr=False, compare=False)
    """The canonical body bytes, computed once here."""

    def __post_init__(self) -> None:
        self._validate()
        object.__setattr__(self, "encoded", encoding.encode(self.to_map()))

    def _validate(self) -> None:
        where = f"stream {self.stream!r} n={self.n!r}"
        if self.version != FORMAT_VERSION or type(self.version) is not int:
            raise MalformedRecord(
                f"format version {self.version!r} is not {FORMAT_VERSION}", where=where
            )
        for name in ("origin", "stream", "type", "actor"):
            _check_name(name, getattr(self, name), where)
        if type(self.n) is not int or not 1 <= self.n <= MAX_INT64:
            raise MalformedRecord(
                f"position n={self.n!r} is not an int in [1, 2^63-1]", where=where
            )
        if not isinstance(self.prev, bytes) or len(self.prev) != HASH_SIZE:
            raise MalformedRecord(f"prev must be {HASH_SIZE} bytes", where=where)
        if type(self.time_us) is not int or not 0 <= self.time_us <= MAX_INT64:
            raise MalformedRecord(
                f"time {self.time_us!r} is not integer microseconds in [0, 2^63-1]", where=where
            )
        if not isinstance(self.payload, dict):
            raise MalformedRecord("payload must be a map", where=where)

    @property
    def position(self) -> str:
        """Where this event sits, for error messages: ``stream S n=N``."""
        return f"stream {self.stream} n={self.n}"

    def to_map(self) -> dict[str, Value]:
        """The body as the canonical map (field names as in docs/formats.md)."""
        return {
            "v": self.version,
            "origin": self.origin,
            "stream": self.stream,
            "n": self.n,
            "prev": self.prev,
            "type": self.type,
            "actor": self.actor,
            "time": self.time_us,
            "payload": self.payload,
        }

    @classmethod
    def from_map(cls, raw: Value, *, where: str | None = None) -> EventBody:
        """Build a body from a decoded map; raise MalformedRecord on any shape error."""
        return cls(**_body_fields(raw, where))


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """A body with its signatures; everything else is derived here, once."""

    body: EventBody
    signatures: tuple[EventSignature, ...]
    body_bytes: bytes = field(init=False, repr=False)
    event_hash: EventHash = field(init=False)
    record: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        where = self.body.position
        _check_signatures(self.signatures, where)
        body_bytes = self.body.encoded
        record = encoding.encode(
            {
                "body": body_bytes,
                "sigs": [{"kid": s.key_id, "sig": s.signature} for s in self.signatures],
            }
        )
        object.__setattr__(self, "body_bytes", body_bytes)
        object.__setattr__(self, "event_hash", event_hash(body_bytes))
        object.__setattr__(self, "record", record)

    @property
    def leaf_hash(self) -> Hash:
        """This event's RFC 9162 leaf hash in the global Merkle log (leaf = record bytes)."""
        return leaf_hash(self.record)

    @property
    def key_ids(self) -> tuple[KeyId, ...]:
        return tuple(s.key_id for s in self.signatures)


def signing_message(body: EventBody) -> bytes:
    """The bytes an actor signs for ``body`` (for clients that sign elsewhere)."""
    return event_signature_message(event_hash(body.encoded))


def sign_event(body: EventBody, signers: Sequence[Signer]) -> SignedEvent:
    """Sign ``body`` with every signer (e.g. the competent signer and the agency seal)."""
    message = signing_message(body)
    signatures = sorted(
        (EventSignature(s.key_id, s.sign(message)) for s in signers), key=lambda s: s.key_id
    )
    return SignedEvent(body, tuple(signatures))


def parse_record(record: bytes, *, where: str | None = None) -> SignedEvent:
    """Parse stored record bytes; raise MalformedEncoding/MalformedRecord unless well-formed."""
    raw = encoding.decode(record)
    if not isinstance(raw, dict) or set(raw) != {"body", "sigs"}:
        raise MalformedRecord("record must be a map with exactly 'body' and 'sigs'", where=where)
    body_bytes, sigs = raw["body"], raw["sigs"]
    if not isinstance(body_bytes, bytes):
        raise MalformedRecord("record 'body' must be bin (the canonical body bytes)", where=where)
    if not isinstance(sigs, list):
        raise MalformedRecord("record 'sigs' must be an array", where=where)
    try:
        body_value = encoding.decode(body_bytes)
    except MalformedEncoding as err:
        raise MalformedEncoding(f"event body: {err.detail}", where=where or err.where) from err
    fields = _body_fields(body_value, where)
    signatures = []
    for i, item in enumerate(sigs):
        if not isinstance(item, dict) or set(item) != {"kid", "sig"}:
            raise MalformedRecord(f"signature {i} must be a map of 'kid' and 'sig'", where=where)
        kid, sig = item["kid"], item["sig"]
        if not isinstance(kid, bytes) or not isinstance(sig, bytes):
            raise MalformedRecord(f"signature {i}: 'kid' and 'sig' must be bin", where=where)
        signatures.append(EventSignature(KeyId(kid), sig))
    return _parsed_event(fields, tuple(signatures), body_bytes=body_bytes, record=record)


def parse_stored(record: bytes) -> SignedEvent:
    """Decode record bytes the store accepted, without proving them again.

    The store ran :func:`parse_record` (canonical encoding, field shapes) and the
    signature checks before it wrote ``record``; read models rebuilt from the
    store (projections) decode with this, at a quarter of the cost. It still
    refuses what it can't decode (``MalformedRecord``). The verifier must not use
    it: it trusts nothing the server wrote.
    """
    try:
        raw = msgpack.unpackb(record, raw=False, use_list=True)
        body_bytes = raw["body"]
        body_value = msgpack.unpackb(body_bytes, raw=False, use_list=True)
        fields = {
            "origin": body_value["origin"],
            "stream": body_value["stream"],
            "n": body_value["n"],
            "prev": EventHash(body_value["prev"]),
            "type": body_value["type"],
            "actor": body_value["actor"],
            "time_us": body_value["time"],
            "payload": body_value["payload"],
            "version": body_value["v"],
        }
        signatures = tuple(EventSignature(KeyId(s["kid"]), s["sig"]) for s in raw["sigs"])
    except (ValueError, TypeError, KeyError, msgpack.UnpackException) as err:
        raise MalformedRecord(f"stored record does not decode: {err}") from err
    body = object.__new__(EventBody)
    for name, value in fields.items():
        object.__setattr__(body, name, value)
    object.__setattr__(body, "encoded", body_bytes)
    event = object.__new__(SignedEvent)
    object.__setattr__(event, "body", body)
    object.__setattr__(event, "signatures", signatures)
    object.__setattr__(event, "body_bytes", body_bytes)
    object.__setattr__(event, "event_hash", event_hash(body_bytes))
    object.__setattr__(event, "record", record if type(record) is bytes else bytes(record))
    return event


def _parsed_event(
    fields: dict[str, Any],
    signatures: tuple[EventSignature, ...],
    *,
    body_bytes: bytes,
    record: bytes,
) -> SignedEvent:
    """``SignedEvent(EventBody(**fields), signatures)`` for parse_record, which has just
    decoded ``record`` and ``body_bytes`` from canonical bytes: the same checks in the
    same order, but the derived bytes are the decoded ones instead of an encoding of
    them. They are equal, because decode accepts only ``b`` with
    ``encode(decode(b)) == b`` and ``fields`` and ``signatures`` are those decoded
    values, unchanged: a parsed event equals the constructed one, field for field.
    Only parse_record may call this; elsewhere the bytes are not proven canonical.
    """
    body = object.__new__(EventBody)
    for name, value in fields.items():
        object.__setattr__(body, name, value)
    body._validate()
    object.__setattr__(body, "encoded", body_bytes)
    event = object.__new__(SignedEvent)
    object.__setattr__(event, "body", body)
    object.__setattr__(event, "signatures", signatures)
    _check_signatures(signatures, body.position)
    object.__setattr__(event, "body_bytes", body_bytes)
    object.__setattr__(event, "event_hash", event_hash(body_bytes))
    object.__setattr__(event, "record", record if type(record) is bytes else bytes(record))
    return event


def verify_event_hash(event: SignedEvent, *, claimed: bytes) -> None:
    """Raise EventHashMismatch unless ``claimed`` is the event's hash."""
    if event.event_hash != claimed:
        raise EventHashMismatch(
            "event hash differs from the hash claimed for it",
            where=event.body.position,
            expected=claimed,
            found=event.event_hash,
        )


def verify_signatures(event: SignedEvent, keys: Mapping[KeyId, PublicKey]) -> None:
    """Check every signature against ``keys`` (key id → public key).

    Which keys an event *needs* (actor, role, agency seal) is the caller's
    question; this answers only whether each signature is a valid one by a
    known key.
    """
    message = event_signature_message(event.event_hash)
    for index, sig in enumerate(event.signatures):
        where = f"{event.body.position} signature {index}"
        public_key = keys.get(sig.key_id)
        if public_key is None:
            raise SignatureUnknownKey(
                "signature by a key that is not trusted here", where=where, found=sig.key_id
            )
        verify_signature(public_key, message, sig.signature, where=where)


def _check_name(name: str, value: object, where: str) -> None:
    if not isinstance(value, str) or not value:
        raise MalformedRecord(f"{name} must be a non-empty str, got {value!r}", where=where)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as err:
        raise MalformedRecord(f"{name} {value!r} is not encodable as UTF-8", where=where) from err
    if size > MAX_NAME_BYTES:
        raise MalformedRecord(f"{name} is longer than {MAX_NAME_BYTES} bytes", where=where)
    # ASCII: printable (0x20-0x7E) and no space is exactly "no space or control character".
    if value.isascii() and value.isprintable() and " " not in value:
        return
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise MalformedRecord(
            f"{name} {value!r} contains spaces or control characters", where=where
        )


def _check_signatures(signatures: tuple[EventSignature, ...], where: str) -> None:
    if not 1 <= len(signatures) <= MAX_SIGNATURES:
        raise MalformedRecord(
            f"an event carries 1 to {MAX_SIGNATURES} signatures, not {len(signatures)}", where=where
        )
    previous = b""
    for i, sig in enumerate(signatures):
        if not isinstance(sig.key_id, bytes) or len(sig.key_id) != KEY_ID_SIZE:
            raise MalformedRecord(f"signature {i}: key id must be {KEY_ID_SIZE} bytes", where=where)
        if not isinstance(sig.signature, bytes) or len(sig.signature) != SIGNATURE_SIZE:
            raise MalformedRecord(
                f"signature {i}: signature must be {SIGNATURE_SIZE} bytes", where=where
            )
        if sig.key_id <= previous:
            raise MalformedRecord(
                f"signature {i}: key ids must be unique and in ascending byte order", where=where
            )
        previous = sig.key_id


def _body_fields(raw: Value, where: str | None) -> dict[str, Any]:
    """The constructor arguments of the body in a decoded map; MalformedRecord on shape errors."""
    if not isinstance(raw, dict):
        raise MalformedRecord("event body is not a map", where=where)
    if set(raw) != BODY_FIELDS:
        missing = sorted(BODY_FIELDS - set(raw))
        extra = sorted(set(raw) - BODY_FIELDS)
        raise MalformedRecord(f"body fields: missing {missing}, unexpected {extra}", where=where)
    prev = raw["prev"]
    if not isinstance(prev, bytes):
        raise MalformedRecord("prev must be bin", where=where)
    payload = raw["payload"]
    if not isinstance(payload, dict):
        raise MalformedRecord("payload must be a map", where=where)
    return {
        "origin": raw["origin"],
        "stream": raw["stream"],
        "n": raw["n"],
        "prev": EventHash(prev),
        "type": raw["type"],
        "actor": raw["actor"],
        "time_us": raw["time"],
        "payload": payload,
        "version": raw["v"],
    }
