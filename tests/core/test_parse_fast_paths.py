"""The fast paths of decoding and parsing give exactly what the checked paths give.

``encoding.decode`` tries a plain unpack first and falls back to
``_decode_checked`` (the rule-by-rule decoder); ``parse_record`` takes a parsed
event's derived bytes from the record instead of re-encoding them. Both must be
invisible: the same value or event, or the same error (class, check, detail,
where), for canonical bytes and for any mutation of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core import encoding
from ledger.core.encoding import Value, _decode_checked
from ledger.core.errors import HosoError, MalformedEncoding, MalformedRecord
from ledger.core.event import (
    EventBody,
    EventSignature,
    SignedEvent,
    parse_record,
    parse_stored,
    sign_event,
)
from ledger.core.signing import KeyId, Signer
from tests.core.test_encoding import values
from tests.core.test_event import bodies, signer_sets


def _outcome(parse: object, data: bytes) -> object:
    try:
        return parse(data)  # type: ignore[operator]
    except HosoError as err:
        return (type(err), err.as_dict(), str(err))


def _mutations(data: bytes, source: st.DataObject) -> bytes:
    index = source.draw(st.integers(0, len(data) - 1), label="index")
    byte = source.draw(st.integers(0, 255).filter(lambda b: b != data[index]), label="byte")
    return data[:index] + bytes([byte]) + data[index + 1 :]


def _reference_parse(record: bytes, *, where: str | None = None) -> SignedEvent:
    """parse_record as it was before its fast path: every derived value re-encoded."""
    raw = _decode_checked(record)
    if not isinstance(raw, dict) or set(raw) != {"body", "sigs"}:
        raise MalformedRecord("record must be a map with exactly 'body' and 'sigs'", where=where)
    body_bytes, sigs = raw["body"], raw["sigs"]
    if not isinstance(body_bytes, bytes):
        raise MalformedRecord("record 'body' must be bin (the canonical body bytes)", where=where)
    if not isinstance(sigs, list):
        raise MalformedRecord("record 'sigs' must be an array", where=where)
    try:
        body_value = _decode_checked(body_bytes)
    except MalformedEncoding as err:
        raise MalformedEncoding(f"event body: {err.detail}", where=where or err.where) from err
    body = EventBody.from_map(body_value, where=where)
    signatures = []
    for i, item in enumerate(sigs):
        if not isinstance(item, dict) or set(item) != {"kid", "sig"}:
            raise MalformedRecord(f"signature {i} must be a map of 'kid' and 'sig'", where=where)
        kid, sig = item["kid"], item["sig"]
        if not isinstance(kid, bytes) or not isinstance(sig, bytes):
            raise MalformedRecord(f"signature {i}: 'kid' and 'sig' must be bin", where=where)
        signatures.append(EventSignature(KeyId(kid), sig))
    return SignedEvent(body, tuple(signatures))


# --- decode -------------------------------------------------------------------------


@given(values)
def test_decode_matches_the_checked_decoder(value: Value) -> None:
    data = encoding.encode(value)
    assert _outcome(encoding.decode, data) == _outcome(_decode_checked, data)


@given(values, st.data())
def test_decode_matches_the_checked_decoder_on_mutations(value: Value, data: st.DataObject) -> None:
    mutated = _mutations(encoding.encode(value), data)
    assert _outcome(encoding.decode, mutated) == _outcome(_decode_checked, mutated)


@given(values, st.binary(min_size=1, max_size=4))
def test_decode_matches_the_checked_decoder_on_extra_bytes(value: Value, extra: bytes) -> None:
    data = encoding.encode(value) + extra
    assert _outcome(encoding.decode, data) == _outcome(_decode_checked, data)


# --- parse_record -----------------------------------------------------------------------


@given(bodies(), signer_sets)
def test_parsed_event_is_the_constructed_event(body: EventBody, signers: list[Signer]) -> None:
    record = sign_event(body, signers).record
    parsed = parse_record(record)
    assert parsed.record == record
    assert type(parsed.record) is bytes
    inner = encoding.decode(record)
    assert isinstance(inner, dict)
    assert parsed.body_bytes == inner["body"]
    assert parsed.body.encoded == inner["body"]
    # Field for field what the checking constructors build from the same values.
    rebuilt = SignedEvent(EventBody.from_map(encoding.decode(parsed.body_bytes)), parsed.signatures)
    assert parsed == rebuilt
    assert (parsed.record, parsed.body_bytes, parsed.event_hash, parsed.body.encoded) == (
        rebuilt.record,
        rebuilt.body_bytes,
        rebuilt.event_hash,
        rebuilt.body.encoded,
    )


@given(bodies(), signer_sets, st.data())
def test_parse_matches_the_reference_parse_on_mutations(
    body: EventBody, signers: list[Signer], data: st.DataObject
) -> None:
    record = _mutations(sign_event(body, signers).record, data)
    fast, slow = _outcome(parse_record, record), _outcome(_reference_parse, record)
    assert fast == slow
    if isinstance(fast, SignedEvent):
        assert isinstance(slow, SignedEvent)
        assert (fast.record, fast.body_bytes, fast.body.encoded) == (
            slow.record,
            slow.body_bytes,
            slow.body.encoded,
        )


def test_parse_copies_a_bytes_subclass_to_bytes() -> None:
    class Blob(bytes):
        pass

    event = sign_event(
        EventBody(
            origin="o",
            stream="s",
            n=1,
            prev=b"\x00" * 32,  # type: ignore[arg-type]
            type="T",
            actor="a",
            time_us=0,
            payload={},
        ),
        [Signer(b"\x01" * 32)],
    )
    parsed = parse_record(Blob(event.record))
    assert type(parsed.record) is bytes
    assert parsed == event


def test_parse_stored_decodes_what_parse_record_proves() -> None:
    """Projections' trusted decode gives the same event as the checked one, and still
    refuses bytes it can't decode."""
    vectors = json.loads(
        (Path(__file__).parents[1] / "vectors" / "events.json").read_text(encoding="utf-8")
    )
    records = [bytes.fromhex(v["record_hex"]) for v in vectors["events"]]
    assert records
    for record in records:
        checked, trusted = parse_record(record), parse_stored(record)
        assert trusted.body == checked.body
        assert trusted.signatures == checked.signatures
        assert trusted.event_hash == checked.event_hash
        assert trusted.record == record
    with pytest.raises(MalformedRecord):
        parse_stored(b"\x81\xa4body\xc0")
