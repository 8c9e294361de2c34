"""The seal's bytes: Base45 (RFC 9285 vectors), numeric form, claims, every-byte mutation."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core import encoding
from ledger.core.base45 import MalformedBase45, b45decode, b45encode
from ledger.core.errors import MalformedError, VerificationError
from ledger.core.seal import (
    MAX_DOSSIER,
    MAX_PROCEDURE,
    SEAL_KEY_ID_SIZE,
    SealClaims,
    SealMalformed,
    StatusRef,
    decode_text,
    from_numeric,
    parse_seal,
    seal_hs1,
    seal_url,
    sign_seal,
    signing_message,
    to_numeric,
)
from ledger.core.seal_trust import TrustedSealKey, TrustList, verified_claims, verify_seal
from ledger.core.signing import SIGNATURE_SIZE, Signer

SEAL_KEY = Signer(hashlib.sha256(b"seal test key").digest())
OTHER_KEY = Signer(hashlib.sha256(b"another agency").digest())


def claims(**changes: object) -> SealClaims:
    fields: dict[str, object] = {
        "key_id": SEAL_KEY.key_id[:SEAL_KEY_ID_SIZE],
        "status": StatusRef(0, 12_345),
        "dossier": "000.39.05.H26-260105-0001",
        "procedure": "1.001193",
        "result_number": "KS-0001",
        "issued_s": 1_767_600_000,
        "document_hash": hashlib.sha256(b"document").digest()[:16],
        "event_hash": hashlib.sha256(b"event").digest()[:16],
    }
    fields.update(changes)
    return SealClaims(**fields)  # type: ignore[arg-type]


def v1_claims(**changes: object) -> SealClaims:
    """A version 1 seal's claims: the agency signed, no status entry."""
    return claims(**{"version": 1, "agency": "000.39.05.H26", "status": None, **changes})


def trust(*keys: tuple[Signer, str], from_s: int = 0, until_s: int | None = None) -> TrustList:
    return TrustList(
        origin="test.hoso.example/seal",
        issued_s=1,
        keys=tuple(
            TrustedSealKey(
                key_id=s.key_id,
                public_key=s.public_key,
                agency=agency,
                valid_from_s=from_s,
                valid_until_s=until_s,
            )
            for s, agency in keys
        ),
    )


TRUST = trust((SEAL_KEY, "000.39.05.H26"), (OTHER_KEY, "000.60.02.H26"))


# --- Base45: RFC 9285 §4.3 and §4.4 -----------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_base45_rfc9285_vectors(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "ABCD", "aB8", "::"])
def test_base45_rejects(bad: str) -> None:
    with pytest.raises(MalformedBase45):
        b45decode(bad)


@given(st.binary(min_size=1, max_size=300))
def test_base45_and_numeric_round_trip(data: bytes) -> None:
    assert b45decode(b45encode(data)) == data
    digits = to_numeric(data)
    assert digits.isdigit()
    assert from_numeric(digits) == data


def test_numeric_form_is_17_digits_per_7_bytes_and_strict() -> None:
    assert to_numeric(b"\xff" * 7) == "72057594037927935"
    assert to_numeric(b"\x00\x01") == "00001"
    with pytest.raises(SealMalformed):
        from_numeric("72057594037927936")  # 2^56: over 7 bytes
    with pytest.raises(SealMalformed):
        from_numeric("1234")  # no chunk has 4 digits
    with pytest.raises(SealMalformed):
        from_numeric("12a")


# --- claims, signature, trust ---------------------------------------------------


@pytest.mark.parametrize("make", [claims, v1_claims], ids=["v2", "v1"])
def test_seal_round_trip_in_every_text_form(make: Callable[[], SealClaims]) -> None:
    seal = sign_seal(make(), SEAL_KEY)
    assert 150 <= len(seal) <= 220
    for text in (seal_url("https://xacthuc.hoso.example", seal), seal_hs1(seal), to_numeric(seal)):
        assert decode_text(text) == seal
    parsed = parse_seal(seal)
    assert parsed.claims == make()
    assert verify_seal(parsed, TRUST).agency == "000.39.05.H26"
    verified, key = verified_claims(parsed, TRUST)
    assert verified.agency == key.agency == "000.39.05.H26"


def test_a_v2_seal_is_shorter_than_v1_though_it_carries_its_status_entry() -> None:
    v2, v1 = sign_seal(claims(), SEAL_KEY), sign_seal(v1_claims(), SEAL_KEY)
    assert len(v2) < len(v1)
    assert parse_seal(v2).claims.status == StatusRef(0, 12_345)
    assert parse_seal(v1).claims.status is None


def test_the_version_is_in_the_signed_context() -> None:
    """A v2 claims body signed under the v1 context (or the reverse) does not verify."""
    body = claims().encode()
    wrong = body + SEAL_KEY.sign(signing_message(body, 1))
    with pytest.raises(VerificationError) as caught:
        verify_seal(parse_seal(wrong), TRUST)
    assert caught.value.check == "seal.signature"


def test_seal_carries_no_personal_field() -> None:
    assert set(SealClaims.__dataclass_fields__) == {
        "version",
        "status",
        "key_id",
        "agency",
        "dossier",
        "procedure",
        "result_number",
        "issued_s",
        "document_hash",
        "event_hash",
    }


def test_every_byte_mutation_fails_with_the_right_check() -> None:
    seal = sign_seal(claims(), SEAL_KEY)
    body = len(seal) - SIGNATURE_SIZE
    kid_start = seal.index(SEAL_KEY.key_id[:SEAL_KEY_ID_SIZE])
    seen: set[str] = set()
    for i in range(len(seal)):
        for flip in (0x01, 0x80):
            mutated = bytearray(seal)
            mutated[i] ^= flip
            with pytest.raises((MalformedError, VerificationError)) as caught:
                verify_seal(parse_seal(bytes(mutated)), TRUST)
            check = caught.value.check
            seen.add(check)
            if i >= body:
                assert check == "seal.signature", i
            elif kid_start <= i < kid_start + SEAL_KEY_ID_SIZE:
                assert check == "seal.unknown_key", i
            else:
                assert check in {"seal.malformed", "seal.signature"}, (i, check)
    assert seen == {"seal.malformed", "seal.signature", "seal.unknown_key"}


def test_scope_and_validity() -> None:
    other_agency = sign_seal(v1_claims(agency="000.60.02.H26"), SEAL_KEY)
    with pytest.raises(VerificationError) as caught:
        verify_seal(parse_seal(other_agency), TRUST)
    assert caught.value.check == "seal.key_scope"
    seal = parse_seal(sign_seal(claims(), SEAL_KEY))
    for window in ({"from_s": 1_767_600_001}, {"until_s": 1_767_600_000}):
        with pytest.raises(VerificationError) as caught:
            verify_seal(seal, trust((SEAL_KEY, "000.39.05.H26"), **window))
        assert caught.value.check == "seal.key_validity"
    verify_seal(seal, trust((SEAL_KEY, "000.39.05.H26"), until_s=1_767_600_001))


def test_parse_rejects_bad_shapes() -> None:
    good = sign_seal(claims(), SEAL_KEY)
    for bad in (b"", good[:64], good + b"\x00" * 600, b"\x92\x01\x02" + bytes(64)):
        with pytest.raises(SealMalformed):
            parse_seal(bad)
    with pytest.raises(SealMalformed):
        claims(result_number="bad\nline")
    with pytest.raises(SealMalformed):
        sign_seal(claims(), OTHER_KEY)  # claims name another key
    limits = {"dossier": MAX_DOSSIER, "procedure": MAX_PROCEDURE, "result_number": 32}
    for name, limit in limits.items():
        claims(**{name: "9" * limit})
        with pytest.raises(SealMalformed):
            claims(**{name: "9" * (limit + 1)})
    for bad_claims in (
        {"status": None},  # v2 without its entry
        {"status": StatusRef(0, 2**32)},
        {"status": StatusRef(256, 0)},
        {"issued_s": 2**32},  # v2: seconds fit 32 bits (until 2106)
        {"version": 3},
    ):
        with pytest.raises(SealMalformed):
            claims(**bad_claims)
    with pytest.raises(SealMalformed):
        v1_claims(status=StatusRef(0, 1))
    items = encoding.decode(claims().encode())
    assert isinstance(items, list)
    shapes: list[list[encoding.Value]] = [
        [True, *items[1:]],  # a bool is not the version
        [*items[:-1], True],  # nor an entry
        items[:-1],  # v2 with 9 items
        [1, *items[1:]],  # v1 with 10 items
    ]
    for shape in shapes:
        with pytest.raises(SealMalformed):
            parse_seal(encoding.encode(shape) + bytes(64))
    for text in ("https://x.example/other/123", "HS1:aa", "hello"):
        with pytest.raises(SealMalformed):
            decode_text(text)
