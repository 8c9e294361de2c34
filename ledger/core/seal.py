"""The citizen QR seal: compact signed claims about one result (docs/formats.md §11).

A seal is ``claims || signature``:

* ``claims`` is the canonical msgpack (§1) array
  ``[1, kid8, agency, dossier, procedure, result, issued, doc16, event16]`` —
  format version 1; the first 8 bytes of the agency seal key's hoso key id
  (§3); agency code, dossier code, procedure code and result number (str);
  issue time in whole seconds UTC (int); the first 16 bytes of the result
  document's SHA-256; the first 16 bytes of the issuing event's hash (§4.2);
* ``signature`` is the 64-byte Ed25519 signature (RFC 8032) by the agency seal
  key over ``"hoso/seal/v1" 0x00 || claims``.

Two text forms: the seal in QR numeric mode after ``<host>/s/`` (each 7-byte
chunk as 17 decimal digits, a final k-byte chunk as the fewest digits that
hold 256^k − 1), and ``HS1:`` followed by Base45 (RFC 9285, :mod:`.base45`).
No claim can carry personal data: the fields are fixed and none is about the
applicant.

Checks (ids in docs/formats.md §11): parse (``seal.malformed``), key in the
trust list (``seal.unknown_key``), signature (``seal.signature``), scope
(``seal.key_scope``), validity at the issue time (``seal.key_validity``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ledger.core.base45 import MalformedBase45, b45decode, b45encode
from ledger.core.encoding import decode, encode
from ledger.core.errors import MalformedEncoding, MalformedError, VerificationError
from ledger.core.signing import SIGNATURE_SIZE, PublicKey, Signer, verify_signature

SEAL_VERSION: Final = 1
SEAL_CONTEXT: Final = b"hoso/seal/v1\x00"
SEAL_KEY_ID_SIZE: Final = 8
SEAL_HASH_SIZE: Final = 16
HS1_PREFIX: Final = "HS1:"
URL_PATH: Final = "/s/"
MAX_TEXT_FIELD: Final = 64
MAX_SEAL_SIZE: Final = 512
_CHUNK: Final = 7
_DIGITS: Final = {k: len(str(256**k - 1)) for k in range(1, _CHUNK + 1)}  # 3 5 8 10 13 15 17
_LENGTHS: Final = {d: k for k, d in _DIGITS.items()}


# --- errors ------------------------------------------------------------------


class SealMalformed(MalformedError):
    """The text, digits or bytes are not a seal."""

    check = "seal.malformed"


class SealUnknownKey(VerificationError):
    """No key in the trust list has the seal's key id."""

    check = "seal.unknown_key"


class SealSignatureInvalid(VerificationError):
    """The seal's signature does not verify under the trusted key."""

    check = "seal.signature"


class SealKeyScope(VerificationError):
    """The key is trusted, but for another agency than the one the seal names."""

    check = "seal.key_scope"


class SealKeyValidity(VerificationError):
    """The key was not yet valid, or already revoked, at the seal's issue time."""

    check = "seal.key_validity"


class SealTrustList(MalformedError):
    """A trust list document is not in the trust-list format."""

    check = "seal.trust_list"


# --- claims --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SealClaims:
    """What a seal says. Every field is public: none is about the applicant."""

    key_id: bytes  # 8 bytes: the seal key's hoso key id, truncated
    agency: str
    dossier: str
    procedure: str
    result_number: str
    issued_s: int  # seconds since 1970-01-01T00:00:00Z
    document_hash: bytes  # first 16 bytes of SHA-256(result document)
    event_hash: bytes  # first 16 bytes of the issuing event's hash

    def __post_init__(self) -> None:
        if len(self.key_id) != SEAL_KEY_ID_SIZE:
            raise SealMalformed(f"key id must be {SEAL_KEY_ID_SIZE} bytes", where="claims[1]")
        for i, text in enumerate(
            (self.agency, self.dossier, self.procedure, self.result_number), start=2
        ):
            _check_text(text, where=f"claims[{i}]")
        if not 0 <= self.issued_s < 2**40:
            raise SealMalformed("issue time out of range", where="claims[6]")
        for i, digest in ((7, self.document_hash), (8, self.event_hash)):
            if len(digest) != SEAL_HASH_SIZE:
                raise SealMalformed(f"hash must be {SEAL_HASH_SIZE} bytes", where=f"claims[{i}]")

    def encode(self) -> bytes:
        return encode(
            [
                SEAL_VERSION,
                self.key_id,
                self.agency,
                self.dossier,
                self.procedure,
                self.result_number,
                self.issued_s,
                self.document_hash,
                self.event_hash,
            ]
        )


def _check_text(text: object, *, where: str) -> str:
    if not isinstance(text, str) or not text:
        raise SealMalformed("expected a non-empty str", where=where)
    if len(text.encode()) > MAX_TEXT_FIELD or any(ord(c) < 0x20 or c == "\x7f" for c in text):
        raise SealMalformed(f"str over {MAX_TEXT_FIELD} bytes or with control chars", where=where)
    return text


def signing_message(claims_bytes: bytes) -> bytes:
    """The exact bytes the agency seal key signs."""
    return SEAL_CONTEXT + claims_bytes


def sign_seal(claims: SealClaims, signer: Signer) -> bytes:
    """The seal bytes: claims, then the seal key's signature over them."""
    if signer.key_id[:SEAL_KEY_ID_SIZE] != claims.key_id:
        raise SealMalformed("claims name another key than the signer's", where="claims[1]")
    body = claims.encode()
    return body + signer.sign(signing_message(body))


@dataclass(frozen=True, slots=True)
class ParsedSeal:
    claims: SealClaims
    claims_bytes: bytes
    signature: bytes


def parse_seal(seal: bytes) -> ParsedSeal:
    """Split and parse seal bytes; raise SealMalformed (nothing is verified here)."""
    if not isinstance(seal, bytes) or not SIGNATURE_SIZE < len(seal) <= MAX_SEAL_SIZE:
        raise SealMalformed(f"a seal is claims + a {SIGNATURE_SIZE}-byte signature, ≤ 512 bytes")
    body, signature = seal[:-SIGNATURE_SIZE], seal[-SIGNATURE_SIZE:]
    try:
        value = decode(body)
    except MalformedEncoding as err:
        raise SealMalformed(
            f"claims are not canonical msgpack: {err.detail}", where=err.where
        ) from err
    if not isinstance(value, list) or len(value) != 9:
        raise SealMalformed("claims must be an array of 9 items")
    version, kid, agency, dossier, procedure, number, issued, doc, event = value
    if version != SEAL_VERSION:
        raise SealMalformed(f"unknown seal version {version!r}", where="claims[0]")
    if not (isinstance(kid, bytes) and isinstance(doc, bytes) and isinstance(event, bytes)):
        raise SealMalformed("key id and hashes must be bin")
    if not isinstance(issued, int) or isinstance(issued, bool):
        raise SealMalformed("issue time must be an int", where="claims[6]")
    claims = SealClaims(
        key_id=kid,
        agency=_check_text(agency, where="claims[2]"),
        dossier=_check_text(dossier, where="claims[3]"),
        procedure=_check_text(procedure, where="claims[4]"),
        result_number=_check_text(number, where="claims[5]"),
        issued_s=issued,
        document_hash=doc,
        event_hash=event,
    )
    return ParsedSeal(claims, body, signature)


def verify_seal_signature(parsed: ParsedSeal, public_key: PublicKey) -> None:
    """Raise SealSignatureInvalid unless the seal key signed these claims."""
    where = f"seal key {parsed.claims.key_id.hex()}"
    try:
        verify_signature(public_key, signing_message(parsed.claims_bytes), parsed.signature)
    except VerificationError as err:
        raise SealSignatureInvalid("the seal's signature does not verify", where=where) from err


# --- text forms -------------------------------------------------------------------


def to_numeric(data: bytes) -> str:
    """Bytes as decimal digits for QR numeric mode: 7-byte chunks → 17 digits each."""
    out = []
    for i in range(0, len(data), _CHUNK):
        chunk = data[i : i + _CHUNK]
        out.append(str(int.from_bytes(chunk, "big")).zfill(_DIGITS[len(chunk)]))
    return "".join(out)


def from_numeric(digits: str) -> bytes:
    """The inverse of :func:`to_numeric`; only the digit strings it writes are accepted."""
    if not digits.isascii() or not digits.isdigit():
        raise SealMalformed("the numeric form holds decimal digits only")
    rest = len(digits) % _DIGITS[_CHUNK]
    if rest and rest not in _LENGTHS:
        raise SealMalformed(f"{len(digits)} digits is not a whole number of chunks")
    out = bytearray()
    for start in range(0, len(digits), _DIGITS[_CHUNK]):
        part = digits[start : start + _DIGITS[_CHUNK]]
        size = _LENGTHS[len(part)]
        value = int(part)
        if value >= 256**size:
            raise SealMalformed(f"chunk {part} is over 256^{size} − 1", where=f"digit {start}")
        out += value.to_bytes(size, "big")
    return bytes(out)


def seal_url(host: str, seal: bytes) -> str:
    """The URL form: ``<host>/s/<digits>`` (host like ``https://xacthuc.example``)."""
    return f"{host.rstrip('/')}{URL_PATH}{to_numeric(seal)}"


def seal_hs1(seal: bytes) -> str:
    """The inspector form: ``HS1:`` + Base45."""
    return HS1_PREFIX + b45encode(seal)


_URL = re.compile(r"https?://[^/\s]+(?:/[^\s]*)?/[sS]/([0-9]+)/?", re.IGNORECASE)


def decode_text(text: str) -> bytes:
    """Seal bytes from any text form: the URL, ``HS1:`` Base45, or bare digits."""
    text = text.strip()
    if text[: len(HS1_PREFIX)].upper() == HS1_PREFIX:
        try:
            return b45decode(text[len(HS1_PREFIX) :])
        except MalformedBase45 as err:
            raise SealMalformed(f"HS1 text is not Base45: {err.detail}", where=err.where) from err
    match = _URL.fullmatch(text)
    if match is not None:
        return from_numeric(match.group(1))
    if text.isdigit():
        return from_numeric(text)
    raise SealMalformed("not a seal URL (…/s/<digits>), HS1: text, or digits")


def url_host(text: str) -> str | None:
    """The scheme and host of a seal URL (to show the reader where it points), else None."""
    if _URL.fullmatch(text.strip()) is None:
        return None
    parts = urlsplit(text.strip())
    return f"{parts.scheme}://{parts.netloc}"
