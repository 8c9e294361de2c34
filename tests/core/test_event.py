"""Signed event records (ledger.core.event): build, sign, parse, and every check's error."""

from __future__ import annotations

import copy
import hashlib
import pickle
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core import encoding
from ledger.core.chain import verify_link
from ledger.core.encoding import INT_MAX, INT_MIN, Value
from ledger.core.errors import (
    ChainLinkBroken,
    ChainPositionBroken,
    ChainStreamMismatch,
    EventHashMismatch,
    HosoError,
    MalformedEncoding,
    MalformedError,
    MalformedKey,
    MalformedRecord,
    SignatureInvalid,
    SignatureUnknownKey,
    VerificationError,
)
from ledger.core.event import (
    MAX_SIGNATURES,
    EventBody,
    EventSignature,
    SignedEvent,
    parse_record,
    sign_event,
    signing_message,
    verify_event_hash,
    verify_signatures,
)
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.signing import KeyId, PublicKey, Signer, key_id

ORIGIN = "hoso.example/hanoi"
STREAM = "000.00.10.H26-260101-0001"
OFFICER_SEED = bytes(range(32))
SEAL_SEED = hashlib.sha256(b"hoso test seed 1").digest()
OTHER_SEED = hashlib.sha256(b"hoso test seed 2").digest()
OFFICER = Signer(OFFICER_SEED)
SEAL = Signer(SEAL_SEED)
OTHER = Signer(OTHER_SEED)
KEYS: dict[KeyId, PublicKey] = {s.key_id: s.public_key for s in (OFFICER, SEAL)}
T0 = 1_767_229_200_000_000  # 2026-01-01T01:00:00Z in microseconds


def _body(**changes: Any) -> EventBody:
    fields: dict[str, Any] = {
        "origin": ORIGIN,
        "stream": STREAM,
        "n": 1,
        "prev": GENESIS_PREV,
        "type": "DossierReceived",
        "actor": "officer/tran-thi-b",
        "time_us": T0,
        "payload": {"procedure": "Cấp giấy khai sinh", "fee_vnd": 0, "files": [b"\x00\x01"]},
    }
    fields.update(changes)
    return EventBody(**fields)


def _chain(length: int) -> list[SignedEvent]:
    events: list[SignedEvent] = []
    prev = GENESIS_PREV
    for n in range(1, length + 1):
        event = sign_event(_body(n=n, prev=prev, time_us=T0 + n), [OFFICER])
        events.append(event)
        prev = event.event_hash
    return events


def _raises(kind: type[HosoError], check: str, call: Callable[[], object]) -> Any:
    """Run ``call``; assert it raises exactly ``kind`` with check id ``check``."""
    with pytest.raises(kind) as info:
        call()
    err = info.value
    assert type(err) is kind
    assert err.check == check
    assert str(err).startswith(f"[{check}]")
    return err


@pytest.fixture
def event() -> SignedEvent:
    return sign_event(_body(), [OFFICER])


@pytest.fixture
def sealed() -> SignedEvent:
    """An event signed by the officer and the agency seal."""
    return sign_event(_body(type="CertificateIssued"), [OFFICER, SEAL])


# --- strategies ------------------------------------------------------------------

name_chars = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")).filter(
    lambda ch: not ch.isspace()
)
names = st.text(name_chars, min_size=1, max_size=50)
payload_scalars: st.SearchStrategy[Value] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=INT_MIN, max_value=INT_MAX),
    st.text(max_size=30),
    st.binary(max_size=30),
)
payload_values: st.SearchStrategy[Value] = st.recursive(
    payload_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=12), payload_values, max_size=6)


@st.composite
def bodies(draw: st.DrawFn) -> EventBody:
    return EventBody(
        origin=draw(names),
        stream=draw(names),
        n=draw(st.integers(1, 2**63 - 1)),
        prev=EventHash(draw(st.binary(min_size=32, max_size=32))),
        type=draw(names),
        actor=draw(names),
        time_us=draw(st.integers(0, 2**63 - 1)),
        payload=draw(payloads),
    )


signer_sets = st.lists(
    st.sampled_from([OFFICER, SEAL, OTHER]), min_size=1, max_size=3, unique_by=lambda s: s.key_id
)


# --- round trip --------------------------------------------------------------------


@given(bodies(), signer_sets)
def test_sign_parse_round_trip(body: EventBody, signers: list[Signer]) -> None:
    event = sign_event(body, signers)
    parsed = parse_record(event.record)
    assert parsed.record == event.record
    assert parsed.body_bytes == event.body_bytes
    assert parsed.event_hash == event.event_hash
    assert parsed.signatures == event.signatures
    assert parsed.body.to_map().keys() == body.to_map().keys()
    assert encoding.encode(parsed.body.to_map()) == encoding.encode(body.to_map())
    verify_signatures(parsed, {s.key_id: s.public_key for s in signers})
    verify_event_hash(parsed, claimed=event.event_hash)


def test_derived_values(sealed: SignedEvent) -> None:
    body_bytes = encoding.encode(sealed.body.to_map())
    assert sealed.body_bytes == body_bytes
    assert sealed.event_hash == hashlib.sha256(b"hoso/event/v1\x00" + body_bytes).digest()
    assert sealed.record == encoding.encode(
        {
            "body": body_bytes,
            "sigs": [{"kid": s.key_id, "sig": s.signature} for s in sealed.signatures],
        }
    )
    assert sealed.leaf_hash == hashlib.sha256(b"\x00" + sealed.record).digest()
    assert sealed.key_ids == tuple(sorted([OFFICER.key_id, SEAL.key_id]))
    assert set(encoding.decode(body_bytes)) == {  # type: ignore[arg-type]
        "v",
        "origin",
        "stream",
        "n",
        "prev",
        "type",
        "actor",
        "time",
        "payload",
    }


# --- tampering ------------------------------------------------------------------


def _tamper_outcome(record: bytes, original: SignedEvent) -> type[HosoError]:
    """Parse and verify a tampered record; return the error class it was caught by."""
    try:
        parsed = parse_record(record)
    except MalformedError as err:
        return type(err)
    with pytest.raises(VerificationError) as info:
        verify_signatures(parsed, KEYS)
    if parsed.event_hash == original.event_hash:
        # Only the signature block changed, so the signatures must be what fails.
        assert type(info.value) in (SignatureInvalid, SignatureUnknownKey)
    else:
        assert type(info.value) is SignatureInvalid
        _raises(
            EventHashMismatch,
            "event.hash",
            lambda: verify_event_hash(parsed, claimed=original.event_hash),
        )
    return type(info.value)


@pytest.mark.parametrize("bit", range(8))
def test_every_single_bit_flip_is_caught(sealed: SignedEvent, bit: int) -> None:
    record = sealed.record
    outcomes: dict[int, type[HosoError]] = {}
    for i in range(len(record)):
        tampered = record[:i] + bytes([record[i] ^ (1 << bit)]) + record[i + 1 :]
        outcomes[i] = _tamper_outcome(tampered, sealed)
    # Flips inside a signature are signature failures; inside a key id, unknown
    # key or broken key order; the first byte breaks the record's shape.
    for sig in sealed.signatures:
        start = record.index(sig.signature)
        assert {outcomes[i] for i in range(start, start + 64)} == {SignatureInvalid}
        start = record.index(sig.key_id)
        assert {outcomes[i] for i in range(start, start + 16)} <= {
            SignatureUnknownKey,
            MalformedRecord,
        }
    assert issubclass(outcomes[0], MalformedError)


@given(bodies(), st.data())
def test_random_byte_tampering_is_caught(body: EventBody, data: st.DataObject) -> None:
    event = sign_event(body, [OFFICER, SEAL])
    index = data.draw(st.integers(0, len(event.record) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != event.record[index]), label="byte")
    tampered = event.record[:index] + bytes([byte]) + event.record[index + 1 :]
    _tamper_outcome(tampered, event)


# --- signatures ------------------------------------------------------------------


def test_unknown_key(event: SignedEvent) -> None:
    err = _raises(
        SignatureUnknownKey,
        "signature.unknown_key",
        lambda: verify_signatures(event, {SEAL.key_id: SEAL.public_key}),
    )
    assert err.found == OFFICER.key_id
    assert err.where == f"stream {STREAM} n=1 signature 0"
    assert OFFICER.key_id.hex() in str(err)


def test_wrong_key(event: SignedEvent) -> None:
    err = _raises(
        SignatureInvalid,
        "signature.invalid",
        lambda: verify_signatures(event, {OFFICER.key_id: OTHER.public_key}),
    )
    assert err.where == f"stream {STREAM} n=1 signature 0"


def test_two_signers_both_verify(sealed: SignedEvent) -> None:
    verify_signatures(sealed, KEYS)
    assert len(sealed.signatures) == 2
    # Each signature is checked: knowing only one key is not enough...
    for known in (OFFICER, SEAL):
        with pytest.raises(SignatureUnknownKey):
            verify_signatures(sealed, {known.key_id: known.public_key})
    # ...and a bad seal signature fails even though the officer's is good.
    for index in range(2):
        sigs = list(sealed.signatures)
        sigs[index] = EventSignature(sigs[index].key_id, bytes(64))
        forged = SignedEvent(sealed.body, tuple(sigs))
        with pytest.raises(SignatureInvalid) as info:
            verify_signatures(forged, KEYS)
        assert info.value.check == "signature.invalid"
        assert info.value.where == f"stream {STREAM} n=1 signature {index}"


def test_signatures_sorted_by_key_id() -> None:
    body = _body()
    a = sign_event(body, [OFFICER, SEAL])
    b = sign_event(body, [SEAL, OFFICER])
    assert a.record == b.record
    assert list(a.key_ids) == sorted(a.key_ids)
    low, high = a.signatures
    assert low.key_id < high.key_id
    _raises(MalformedRecord, "record.shape", lambda: SignedEvent(body, (high, low)))
    _raises(MalformedRecord, "record.shape", lambda: SignedEvent(body, (low, low)))


def test_signature_list_shape(event: SignedEvent) -> None:
    body = event.body
    (sig,) = event.signatures
    _raises(MalformedRecord, "record.shape", lambda: SignedEvent(body, ()))
    many = tuple(
        EventSignature(KeyId(i.to_bytes(16, "big")), bytes(64)) for i in range(MAX_SIGNATURES + 1)
    )
    _raises(MalformedRecord, "record.shape", lambda: SignedEvent(body, many))
    assert len(SignedEvent(body, many[:MAX_SIGNATURES]).signatures) == MAX_SIGNATURES
    bad_kid = EventSignature(KeyId(sig.key_id[:15]), sig.signature)
    _raises(MalformedRecord, "record.shape", lambda: SignedEvent(body, (bad_kid,)))
    bad_sig = EventSignature(sig.key_id, sig.signature + b"\x00")
    _raises(MalformedRecord, "record.shape", lambda: SignedEvent(body, (bad_sig,)))


def test_client_signed_flow() -> None:
    """A client builds the body, signs signing_message() with its own Ed25519 code."""
    body = _body(actor="citizen/nguyen-van-an")
    client_key = nacl.signing.SigningKey(hashlib.sha256(b"hoso test seed 9").digest())
    public = PublicKey(bytes(client_key.verify_key))
    kid = key_id(public)
    message = signing_message(body)
    assert (
        message
        == b"hoso/event-signature/v1\x00"
        + hashlib.sha256(b"hoso/event/v1\x00" + encoding.encode(body.to_map())).digest()
    )
    signature = client_key.sign(message).signature
    event = SignedEvent(body, (EventSignature(kid, signature),))
    verify_signatures(event, {kid: public})
    assert parse_record(event.record) == event
    # The same seed through hoso's Signer yields the same (deterministic) record.
    assert sign_event(body, [Signer(hashlib.sha256(b"hoso test seed 9").digest())]) == event


def test_signing_message_matches_sign_event(event: SignedEvent) -> None:
    message = signing_message(event.body)
    assert message == b"hoso/event-signature/v1\x00" + event.event_hash
    nacl.signing.VerifyKey(OFFICER.public_key).verify(message, event.signatures[0].signature)


# --- event hash --------------------------------------------------------------------


def test_verify_event_hash(event: SignedEvent) -> None:
    verify_event_hash(event, claimed=event.event_hash)
    other = bytes(32)
    err = _raises(EventHashMismatch, "event.hash", lambda: verify_event_hash(event, claimed=other))
    assert err.expected == other
    assert err.found == event.event_hash
    assert err.where == f"stream {STREAM} n=1"
    assert f"expected {other.hex()}, found {event.event_hash.hex()}" in str(err)


# --- chain links ---------------------------------------------------------------------


def test_genesis_rules() -> None:
    first = sign_event(_body(), [OFFICER])
    verify_link(first, None)
    assert hashlib.sha256(b"hoso/genesis/v1\x00").digest() == GENESIS_PREV
    second = sign_event(_body(n=2), [OFFICER])
    err = _raises(ChainPositionBroken, "chain.position", lambda: verify_link(second, None))
    assert (err.expected, err.found) == (1, 2)
    bad_prev = sign_event(_body(prev=bytes(32)), [OFFICER])
    err = _raises(ChainLinkBroken, "chain.link", lambda: verify_link(bad_prev, None))
    assert (err.expected, err.found) == (GENESIS_PREV, bytes(32))
    assert GENESIS_PREV.hex() in str(err)


def test_chain_links() -> None:
    a, b, c = _chain(3)
    verify_link(a, None)
    verify_link(b, a)
    verify_link(c, b)
    # wrong n
    err = _raises(ChainPositionBroken, "chain.position", lambda: verify_link(c, a))
    assert (err.expected, err.found) == (2, 3)
    assert err.where == f"stream {STREAM} n=3"
    assert "expected 2, found 3" in str(err)
    # right n, wrong prev
    skipped = sign_event(_body(n=3, prev=a.event_hash), [OFFICER])
    err = _raises(ChainLinkBroken, "chain.link", lambda: verify_link(skipped, b))
    assert (err.expected, err.found) == (b.event_hash, a.event_hash)
    assert f"expected {b.event_hash.hex()}, found {a.event_hash.hex()}" in str(err)


@pytest.mark.parametrize("field", ["stream", "origin"])
def test_chain_stream_mismatch(field: str) -> None:
    a, b = _chain(2)
    changes: dict[str, Any] = {field: "hoso.example/hue"}
    elsewhere = sign_event(replace(b.body, **changes), [OFFICER])
    err = _raises(ChainStreamMismatch, "chain.stream", lambda: verify_link(elsewhere, a))
    assert err.expected == f"{ORIGIN} {STREAM}"
    assert "hoso.example/hue" in err.found


# --- body validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"n": 0},
        {"n": -1},
        {"n": 2**63},
        {"n": True},
        {"n": 1.0},
        {"origin": ""},
        {"stream": ""},
        {"type": ""},
        {"actor": ""},
        {"actor": "nguyen van an"},
        {"type": "Dossier\tReceived"},
        {"stream": "a\nb"},
        {"origin": "a\x00b"},
        {"actor": "a\x7fb"},
        {"actor": "a\u00a0b"},  # no-break space
        {"actor": "a\u3000b"},  # ideographic space
        {"actor": "a\ud800b"},  # lone surrogate: no UTF-8 form
        {"actor": 7},
        {"origin": "x" * 256},
        {"origin": "ấ" * 86},  # 258 UTF-8 bytes
        {"prev": bytes(31)},
        {"prev": bytes(33)},
        {"prev": GENESIS_PREV.hex()},
        {"time_us": -1},
        {"time_us": 2**63},
        {"time_us": 1.5},
        {"payload": [1, 2]},
        {"payload": None},
        {"version": 2},
        {"version": 0},
        {"version": True},
    ],
)
def test_body_validation(changes: dict[str, Any]) -> None:
    err = _raises(MalformedRecord, "record.shape", lambda: _body(**changes))
    assert err.where is not None
    assert err.where.startswith("stream ")


def test_body_name_limits() -> None:
    assert _body(origin="x" * 255).origin == "x" * 255
    assert _body(actor="công-dân/Nguyễn").actor == "công-dân/Nguyễn"
    assert _body(n=2**63 - 1, time_us=0).n == 2**63 - 1


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"amount": 1.5}, "$.payload.amount"),
        ({"items": [1, 2.0]}, "$.payload.items[1]"),
        ({"t": {"x": float("nan")}}, "$.payload.t.x"),
    ],
)
def test_floats_in_payload(payload: dict[str, Value], where: str) -> None:
    """A body is encoded when built, so a float anywhere in the payload is caught there."""
    err = _raises(MalformedEncoding, "encoding.canonical", lambda: _body(payload=payload))
    assert err.where == where
    assert "float" in err.detail


@pytest.mark.parametrize(
    "payload",
    [{1: "int key"}, {"x": {b"k": 1}}, {"big": 2**64}, {"s": "\udc00"}, {"b": bytearray()}],
)
def test_unencodable_payload(payload: Any) -> None:
    _raises(MalformedEncoding, "encoding.canonical", lambda: _body(payload=payload))


def _record(body_map: dict[str, Value], sigs: list[Value] | None = None) -> bytes:
    kid = OFFICER.key_id
    return encoding.encode(
        {"body": encoding.encode(body_map), "sigs": sigs or [{"kid": kid, "sig": bytes(64)}]}
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: m.pop("time"),
        lambda m: m.pop("payload"),
        lambda m: m.update(extra=1),
        lambda m: m.update(t=m.pop("time")),
        lambda m: m.update(v=2),
        lambda m: m.update(prev="00" * 32),
        lambda m: m.update(payload=[]),
        lambda m: m.update(n="1"),
        lambda m: m.update(time=-5),
    ],
)
def test_decoded_body_shape(mutate: Callable[[dict[str, Value]], object]) -> None:
    body_map = _body().to_map()
    mutate(body_map)
    _raises(MalformedRecord, "record.shape", lambda: EventBody.from_map(body_map, where="row 7"))
    err = _raises(
        MalformedRecord, "record.shape", lambda: parse_record(_record(body_map), where="row 7")
    )
    # Shape errors name the caller's position; field errors the body's own.
    assert err.where in ("row 7", f"stream {STREAM!r} n={body_map.get('n')!r}")


def test_from_map_names_missing_and_extra_fields() -> None:
    body_map = _body().to_map()
    del body_map["actor"]
    body_map["signer"] = "x"
    err = _raises(MalformedRecord, "record.shape", lambda: EventBody.from_map(body_map))
    assert "missing ['actor']" in err.detail
    assert "unexpected ['signer']" in err.detail
    _raises(MalformedRecord, "record.shape", lambda: EventBody.from_map([1, 2]))


@pytest.mark.parametrize(
    "record",
    [
        encoding.encode({"body": b"", "sigs": [], "x": 1}),
        encoding.encode({"body": b"\x80"}),
        encoding.encode([b"\x80", []]),
        encoding.encode({"body": "not bin", "sigs": []}),
        encoding.encode({"body": encoding.encode(_body().to_map()), "sigs": {}}),
        _record(_body().to_map(), [b"\x00"]),
        _record(_body().to_map(), [{"kid": b"\x00" * 16}]),
        _record(_body().to_map(), [{"kid": "00" * 16, "sig": bytes(64)}]),
        _record(_body().to_map(), [{"kid": b"\x00" * 15, "sig": bytes(64)}]),
        _record(_body().to_map(), [{"kid": b"\x00" * 16, "sig": bytes(63)}]),
        _record(_body().to_map(), [{"kid": b"\x01" * 16, "sig": bytes(64)}] * 2),
        encoding.encode({"body": encoding.encode(_body().to_map()), "sigs": []}),
        encoding.encode({"body": encoding.encode([1]), "sigs": []}),
    ],
)
def test_record_shape(record: bytes) -> None:
    _raises(MalformedRecord, "record.shape", lambda: parse_record(record))


def test_non_canonical_body_inside_record() -> None:
    body_bytes = encoding.encode(_body().to_map())
    assert body_bytes[0] == 0x89  # fixmap of the nine body fields
    widened = b"\xde\x00\x09" + body_bytes[1:]
    record = encoding.encode({"body": widened, "sigs": [{"kid": OFFICER.key_id, "sig": bytes(64)}]})
    err = _raises(MalformedEncoding, "encoding.canonical", lambda: parse_record(record))
    assert err.detail.startswith("event body: ")
    assert err.where == "byte 0"
    err = _raises(
        MalformedEncoding, "encoding.canonical", lambda: parse_record(record, where="row 3")
    )
    assert err.where == "row 3"
    _raises(MalformedEncoding, "encoding.canonical", lambda: parse_record(b"\x81"))


# --- Signer hygiene ---------------------------------------------------------------


def test_signer_never_shows_its_seed() -> None:
    seed = SEAL_SEED
    signer = Signer(seed)
    for text in (repr(signer), str(signer), f"{signer}", f"{signer!r}"):
        assert seed.hex() not in text
        assert seed.hex().upper() not in text
        assert signer.key_id.hex() in text
    assert signer.export_seed() == seed
    assert not hasattr(signer, "__dict__")


def test_signer_is_not_picklable_or_copyable() -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="not picklable"):
            pickle.dumps(OFFICER, protocol=protocol)
    with pytest.raises(TypeError):
        copy.deepcopy(OFFICER)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), "00" * 32])
def test_signer_seed_shape(seed: Any) -> None:
    _raises(MalformedKey, "key.shape", lambda: Signer(seed))


def test_key_id_definition() -> None:
    assert (
        OFFICER.key_id
        == (hashlib.sha256(b"hoso/key-id/v1\x00\x01" + OFFICER.public_key).digest()[:16])
    )
    assert OFFICER.public_key == bytes(nacl.signing.SigningKey(OFFICER_SEED).verify_key)
