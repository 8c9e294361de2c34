"""The citizen QR seal: compact signed claims about one result (docs/formats.md §11).

A seal is ``claims || signature``:

* ``claims`` is the canonical msgpack (§1) array
  ``[2, kid8, dossier, procedure, result, issued, doc16, event16, list, entry]`` —
  format version 2; the first 8 bytes of the agency seal key's hoso key id
  (§3); dossier code (≤ 31 bytes), procedure code (≤ 12) and result number (≤ 32)
  (str); issue time in whole seconds UTC (int); the first 16 bytes of the result
  document's SHA-256; the first 16 bytes of the issuing event's hash (§4.2); the
  agency's status list number and the result's entry in it (§13). The agency is
  the seal key's, from the trust list, so it takes no bytes;
* ``signature`` is the 64-byte Ed25519 signature (RFC 8032) by the agency seal
  key over ``"hoso/seal/v2" 0x00 || claims``.

Version 1 (``[1, kid8, agency, dossier, procedure, result, issued, doc16, event16]``
signed over ``"hoso/seal/v1" 0x00 || claims``, no status reference) is still read, so
seals printed before v2 keep verifying; only v2 seals can be checked offline against
a status list. The limits keep a v2 URL form at QR version ≤ 13 (level Q) for seal
hosts of up to 31 characters.

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
from ledger.core.encoding import Value, decode, encode
from ledger.core.errors import MalformedEncoding, MalformedError, VerificationError
from ledger.core.signing import SIGNATURE_SIZE, PublicKey, Signer, verify_signature

SEAL_VERSION: Final = 2
SEAL_CONTEXT: Final = b"hoso/seal/v2\x00"
SEAL_CONTEXTS: Final = {1: b"hoso/seal/v1\x00", 2: SEAL_CONTEXT}
MAX_DOSSIER: Final = 31
MAX_PROCEDURE: Final = 12
MAX_RESULT_NUMBER: Final = 32
MAX_STATUS_ENTRY: Final = 2**32 - 1
MAX_STATUS_LIST: Final = 255
MAX_ISSUED_V2: Final = 2**32 - 1
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


@dataclass(frozen=True, slots=True)
class StatusRef:
    """Where a result's status bit is: its agency's list number and its entry (§13)."""

    list_no: int
    entry: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SealClaims:
    """What a seal says. Every field is public: none is about the applicant.

    ``agency`` is a signed claim in version 1 only; a version 2 seal does not encode it
    (its agency is its key's: :func:`ledger.core.seal_trust.verify_seal` fills it in
    from the trust list). ``status`` is version 2's status list reference (version 1
    has none)."""

    key_id: bytes  # 8 bytes: the seal key's hoso key id, truncated
    dossier: str
    procedure: str
    result_number: str
    issued_s: int  # seconds since 1970-01-01T00:00:00Z
    document_hash: bytes  # first 16 bytes of SHA-256(result document)
    event_hash: bytes  # first 16 bytes of the issuing event's hash
    status: StatusRef | None = None
    agency: str = ""  # signed in version 1; in version 2 the verified key's
    version: int = SEAL_VERSION

    def __post_init__(self) -> None:
        if self.version not in SEAL_CONTEXTS:
            raise SealMalformed(f"unknown seal version {self.version!r}", where="claims[0]")
        if len(self.key_id) != SEAL_KEY_ID_SIZE:
            raise SealMalformed(f"key id must be {SEAL_KEY_ID_SIZE} bytes", where="claims[1]")
        v1 = self.version == 1
        if v1:
            _check_text(self.agency, where="claims[2]")
            if self.status is not None:
                raise SealMalformed("a version 1 seal has no status reference")
        elif self.status is None:
            raise SealMalformed("a version 2 seal carries its status list reference")
        elif not (
            0 <= self.status.list_no <= MAX_STATUS_LIST
            and 0 <= self.status.entry <= MAX_STATUS_ENTRY
        ):
            raise SealMalformed("status list number or entry out of range", where="claims[8]")
        first = 3 if v1 else 2
        limits = (MAX_TEXT_FIELD,) * 3 if v1 else (MAX_DOSSIER, MAX_PROCEDURE, MAX_RESULT_NUMBER)
        for i, (text, limit) in enumerate(
            zip((self.dossier, self.procedure, self.result_number), limits, strict=True),
            start=first,
        ):
            _check_text(text, where=f"claims[{i}]", limit=limit)
        if not 0 <= self.issued_s <= (2**40 - 1 if v1 else MAX_ISSUED_V2):
            raise SealMalformed("issue time out of range", where=f"claims[{first + 3}]")
        for i, digest in ((first + 4, self.document_hash), (first + 5, self.event_hash)):
            if len(digest) != SEAL_HASH_SIZE:
                raise SealMalformed(f"hash must be {SEAL_HASH_SIZE} bytes", where=f"claims[{i}]")

    def encode(self) -> bytes:
        middle: list[Value] = [
            self.dossier,
            self.procedure,
            self.result_number,
            self.issued_s,
            self.document_hash,
            self.event_hash,
        ]
        if self.version == 1:
            return encode([1, self.key_id, self.agency, *middle])
        status = self.status
        if status is None:  # (refused by __post_init__)
            raise SealMalformed("a version 2 seal carries its status list reference")
        return encode([self.version, self.key_id, *middle, status.list_no, status.entry])


def _check_text(text: object, *, where: str, limit: int = MAX_TEXT_FIELD) -> str:
    if not isinstance(text, str) or not text:
        raise SealMalformed("expected a non-empty str", where=where)
    if len(text.encode()) > limit or any(ord(c) < 0x20 or c == "\x7f" for c in text):
        raise SealMalformed(f"str over {limit} bytes or with control chars", where=where)
    return text


def signing_message(claims_bytes: bytes, version: int = SEAL_VERSION) -> bytes:
    """The exact bytes the agency seal key signs (the context names the version)."""
    return SEAL_CONTEXTS[version] + claims_bytes


def sign_seal(claims: SealClaims, signer: Signer) -> bytes:
    """The seal bytes: claims, then the seal key's signature over them."""
    if signer.key_id[:SEAL_KEY_ID_SIZE] != claims.key_id:
        raise SealMalformed("claims name another key than the signer's", where="claims[1]")
    body = claims.encode()
    return body + signer.sign(signing_message(body, claims.version))


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
    if not isinstance(value, list) or not value:
        raise SealMalformed("claims must be an array")
    version = value[0] if type(value[0]) is int else None
    if version == 1 and len(value) == 9:
        kid, agency, *middle = value[1:]
        status = None
    elif version == 2 and len(value) == 10:
        kid, *middle, list_no, entry = value[1:]
        agency = ""
        if type(list_no) is not int or type(entry) is not int:
            raise SealMalformed("status list number and entry are ints", where="claims[8]")
        status = StatusRef(list_no, entry)
    elif version in SEAL_CONTEXTS:
        raise SealMalformed(f"a version {version} seal has {9 if version == 1 else 10} claims")
    else:
        raise SealMalformed(f"unknown seal version {value[0]!r}", where="claims[0]")
    dossier, procedure, number, issued, doc, event = middle
    if not (isinstance(kid, bytes) and isinstance(doc, bytes) and isinstance(event, bytes)):
        raise SealMalformed("key id and hashes must be bin")
    if not isinstance(issued, int) or isinstance(issued, bool):
        raise SealMalformed("issue time must be an int")
    for text in (agency, dossier, procedure, number):
        if not isinstance(text, str):
            raise SealMalformed("agency, dossier, procedure and result number are str")
    claims = SealClaims(
        version=1 if version == 1 else 2,
        key_id=kid,
        agency=str(agency),
        dossier=str(dossier),
        procedure=str(procedure),
        result_number=str(number),
        issued_s=issued,
        document_hash=doc,
        event_hash=event,
        status=status,
    )
    return ParsedSeal(claims, body, signature)


def verify_seal_signature(parsed: ParsedSeal, public_key: PublicKey) -> None:
    """Raise SealSignatureInvalid unless the seal key signed these claims."""
    where = f"seal key {parsed.claims.key_id.hex()}"
    try:
        verify_signature(
            public_key,
            signing_message(parsed.claims_bytes, parsed.claims.version),
            parsed.signature,
        )
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
