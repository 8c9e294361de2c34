"""Status lists (docs/formats.md §13): bits in W3C order, signature, freshness, and every
malformed document refused with ``status_list.shape`` — never a crash."""

from __future__ import annotations

import gzip
import random

import pytest

from ledger.core import encoding
from ledger.core.errors import HosoError
from ledger.core.signing import Signer
from ledger.core.status_list import (
    CLOCK_SKEW_S,
    DEFAULT_MAX_AGE_S,
    MIN_ENTRIES,
    MalformedStatusList,
    StatusIndexOutOfRange,
    StatusListBody,
    StatusListSignatureInvalid,
    StatusListStale,
    bitstring,
    check_fresh,
    parse_status_list,
    sign_status_list,
    verify_status_list,
)

KEY = Signer(bytes(range(32)))
OTHER = Signer(bytes(range(1, 33)))
NOW = 1_780_000_000


def body(invalid: set[int] | None = None, *, size: int = MIN_ENTRIES) -> StatusListBody:
    return StatusListBody(
        origin="hoso.example/hanoi",
        agency="000.39.05.H26",
        list_no=3,
        issued_s=NOW,
        checkpoint=42,
        bits=bitstring(size, invalid or set()),
        key_id=KEY.key_id,
    )


def test_bits_are_most_significant_first_and_round_trip() -> None:
    invalid = {0, 7, 8, 131_071, 65_536}
    bits = bitstring(MIN_ENTRIES, invalid)
    assert bits[0] == 0b1000_0001
    assert bits[1] == 0b1000_0000
    assert bits[-1] == 0b0000_0001
    signed = sign_status_list(body(invalid), KEY)
    parsed = parse_status_list(signed.document)
    verify_status_list(parsed, KEY.public_key)
    assert parsed.body == signed.body
    assert {i for i in range(MIN_ENTRIES) if parsed.body.status(i) == "invalid"} == invalid


def test_the_same_bits_always_give_the_same_document() -> None:
    assert sign_status_list(body({5}), KEY).document == sign_status_list(body({5}), KEY).document


def test_another_key_or_a_flipped_bit_fails_the_signature() -> None:
    signed = sign_status_list(body({5}), KEY)
    with pytest.raises(StatusListSignatureInvalid):
        verify_status_list(parse_status_list(signed.document), OTHER.public_key)
    raw = encoding.decode(signed.document)
    assert isinstance(raw, dict)
    raw["bits"] = gzip.compress(bitstring(MIN_ENTRIES, set()), mtime=0)
    with pytest.raises(StatusListSignatureInvalid):
        verify_status_list(parse_status_list(encoding.encode(raw)), KEY.public_key)


def test_an_entry_outside_the_list_is_status_list_index() -> None:
    parsed = parse_status_list(sign_status_list(body(), KEY).document)
    for index in (-1, MIN_ENTRIES, 2**32):
        with pytest.raises(StatusIndexOutOfRange) as caught:
            parsed.body.status(index)
        assert caught.value.found == index
    with pytest.raises(StatusIndexOutOfRange):
        bitstring(MIN_ENTRIES, {MIN_ENTRIES})


def test_freshness_follows_the_policy_and_refuses_the_future() -> None:
    b = body()
    check_fresh(b, now_s=NOW + DEFAULT_MAX_AGE_S)
    check_fresh(b, now_s=NOW - CLOCK_SKEW_S)
    with pytest.raises(StatusListStale):
        check_fresh(b, now_s=NOW + DEFAULT_MAX_AGE_S + 1)
    with pytest.raises(StatusListStale):
        check_fresh(b, now_s=NOW - CLOCK_SKEW_S - 1)
    with pytest.raises(StatusListStale):
        check_fresh(b, now_s=NOW + 3601, max_age_s=3600)


def _mutations() -> dict[str, bytes]:
    doc = sign_status_list(body({1}), KEY).document
    raw = encoding.decode(doc)
    assert isinstance(raw, dict)
    out: dict[str, bytes] = {"truncated": doc[:-3], "not msgpack": b"\xc1", "empty": b""}

    def changed(**fields: encoding.Value) -> bytes:
        return encoding.encode({**raw, **fields})

    out["extra key"] = changed(note="x")
    without = dict(raw)
    del without["checkpoint"]
    out["missing key"] = encoding.encode(without)
    out["other kind"] = changed(kind="hoso/other")
    out["version 2"] = changed(v=2)
    out["small list"] = changed(size=8)
    out["size not /8"] = changed(size=MIN_ENTRIES + 1)
    out["huge size"] = changed(size=2**40)
    out["negative list"] = changed(list=-1)
    out["bits not gzip"] = changed(bits=b"\x00" * 40)
    out["bits too short"] = changed(bits=gzip.compress(b"\x00" * 100))
    out["bits too long"] = changed(bits=gzip.compress(b"\x00" * (MIN_ENTRIES // 8 + 1)))
    out["gzip bomb"] = changed(bits=gzip.compress(b"\x00" * (64 << 20)))
    two = gzip.compress(b"\x00" * (MIN_ENTRIES // 16)) * 2
    out["two gzip members"] = changed(bits=two)
    out["short key"] = changed(key=b"\x00" * 8)
    out["short sig"] = changed(sig=b"\x00" * 63)
    out["agency empty"] = changed(agency="")
    out["origin bin"] = changed(origin=b"x")
    out["too big"] = b"\x00" * (5 << 20)
    return out


@pytest.mark.parametrize("name", list(_mutations()))
def test_every_malformed_document_is_status_list_shape(name: str) -> None:
    with pytest.raises(MalformedStatusList):
        parse_status_list(_mutations()[name])


def test_random_bytes_never_crash_the_parser() -> None:
    rng = random.Random(7)
    doc = sign_status_list(body({9}), KEY).document
    for _ in range(300):
        mutated = bytearray(doc)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        try:
            verify_status_list(parse_status_list(bytes(mutated)), KEY.public_key)
        except HosoError:
            continue


def test_sizes_for_ten_million_results_stay_small() -> None:
    """The sizes docs/formats.md §13.4 quotes: a full list with 1 % of its drawn entries
    set compresses to under 1.5 KiB, every drawn entry set to under 16 KiB (raw bits)."""
    rng = random.Random(1)
    drawn = MIN_ENTRIES // 2
    sizes = {}
    for share in (0.01, 0.1, 1.0):
        invalid = set(rng.sample(range(MIN_ENTRIES), int(drawn * share)))
        sizes[share] = len(sign_status_list(body(invalid), KEY).document)
    assert sizes[0.01] < 1536 < sizes[0.1] < sizes[1.0] <= MIN_ENTRIES // 8 + 400
    lists_for_ten_million = -(-10_000_000 // drawn)
    assert lists_for_ten_million == 153
    assert lists_for_ten_million * sizes[0.01] < 256 * 1024
