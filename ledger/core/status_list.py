"""Signed status lists: whether each of an agency's results is still valid, offline
(docs/formats.md §13).

Modelled on W3C Bitstring Status List v1.0: one bit per entry, entry ``i`` is bit
``7 − i mod 8`` of byte ``i div 8`` (the first entry is the most significant bit of the
first byte), ``1`` = the result at that entry is no longer valid (revoked or superseded),
``0`` = valid or unused. Each result's entry is drawn at random when its first seal is
issued, and a list holds at least :data:`MIN_ENTRIES` entries, so a list reveals how
many results were withdrawn but not which (herd privacy). The bits travel gzip'ed.

A document is the canonical msgpack (§1) map::

    {"kind": "hoso/status-list", "v": 1, "origin": str, "agency": str, "list": int,
     "size": int, "issued": int, "checkpoint": int, "bits": bin, "key": bin(16),
     "sig": bin(64)}

``issued`` is in seconds UTC; ``checkpoint`` is the log size whose index the statuses
were read from; ``key`` is the hoso key id of the agency seal key that signed it;
``sig`` is Ed25519 over ``"hoso/status-list/v1" 0x00 ||`` the canonical msgpack of the
same map without ``sig``. Its SHA-256 is committed in the log by a
``StatusListPublished`` event on ``system/status/<agency>``.

Freshness rule: a list answers only while ``now − issued ≤ max_age`` (the verifier's
policy, default :data:`DEFAULT_MAX_AGE_S`) and no more than :data:`CLOCK_SKEW_S` in the
future; otherwise its answer is "status unknown" (``status_list.stale``), never "valid".
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from typing import Final, Literal

from ledger.core import encoding
from ledger.core.errors import MalformedEncoding, MalformedError, VerificationError
from ledger.core.signing import KEY_ID_SIZE, SIGNATURE_SIZE, PublicKey, Signer, verify_signature

KIND: Final = "hoso/status-list"
VERSION: Final = 1
CONTEXT: Final = b"hoso/status-list/v1\x00"
MIN_ENTRIES: Final = 131_072
"""The smallest list: W3C Bitstring Status List's herd-privacy minimum (16 KiB of bits)."""
DEFAULT_MAX_AGE_S: Final = 86_400
"""A list older than a day answers "status unknown" unless the verifier's policy says more."""
CLOCK_SKEW_S: Final = 300
MAX_DOCUMENT: Final = 4 * 1024 * 1024
"""The largest document a parser accepts (a gzip bomb can't pass: the bits are bounded too)."""
MAX_ENTRIES: Final = 1 << 27
_FIELDS: Final = frozenset(
    {"kind", "v", "origin", "agency", "list", "size", "issued", "checkpoint", "bits", "key", "sig"}
)

Status = Literal["valid", "invalid"]


class MalformedStatusList(MalformedError):
    """The bytes are not a status list document of docs/formats.md §13."""

    check = "status_list.shape"


class StatusListSignatureInvalid(VerificationError):
    """The list's signature does not verify under the agency seal key it names."""

    check = "status_list.signature"


class StatusListMismatch(VerificationError):
    """The list is for another ledger, agency or list number than the seal's reference,
    or signed by a key that isn't the agency's."""

    check = "status_list.mismatch"


class StatusListStale(VerificationError):
    """The list is older than the verifier's freshness policy (or dated in the future)."""

    check = "status_list.stale"


class StatusIndexOutOfRange(VerificationError):
    """The seal's entry is outside the list."""

    check = "status_list.index"


@dataclass(frozen=True, slots=True)
class StatusListBody:
    """A list's fields (without the signature); ``bits`` raw, not compressed."""

    origin: str
    agency: str
    list_no: int
    issued_s: int
    checkpoint: int
    bits: bytes
    key_id: bytes

    @property
    def size(self) -> int:
        return len(self.bits) * 8

    def to_map(self) -> dict[str, encoding.Value]:
        return {
            "kind": KIND,
            "v": VERSION,
            "origin": self.origin,
            "agency": self.agency,
            "list": self.list_no,
            "size": self.size,
            "issued": self.issued_s,
            "checkpoint": self.checkpoint,
            # mtime 0: the same bits always compress to the same bytes
            "bits": gzip.compress(self.bits, compresslevel=9, mtime=0),
            "key": self.key_id,
        }

    def status(self, index: int) -> Status:
        if not 0 <= index < self.size:
            raise StatusIndexOutOfRange(
                "the entry is outside the list",
                where=f"list {self.agency}/{self.list_no}",
                expected=f"0 <= index < {self.size}",
                found=index,
            )
        return "invalid" if self.bits[index // 8] >> (7 - index % 8) & 1 else "valid"


@dataclass(frozen=True, slots=True)
class StatusList:
    body: StatusListBody
    signature: bytes
    document: bytes  # the exact bytes (their SHA-256 is what the log commits to)

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.document).digest()


def bitstring(size: int, invalid: set[int] | frozenset[int]) -> bytes:
    """``size`` entries (a multiple of 8, at least :data:`MIN_ENTRIES`) with ``invalid`` set."""
    _check_size(size)
    bits = bytearray(size // 8)
    for index in invalid:
        if not 0 <= index < size:
            raise StatusIndexOutOfRange(
                "an entry outside the list", expected=f"0 <= index < {size}", found=index
            )
        bits[index // 8] |= 1 << (7 - index % 8)
    return bytes(bits)


def signing_message(body: StatusListBody) -> bytes:
    return CONTEXT + encoding.encode(body.to_map())


def sign_status_list(body: StatusListBody, signer: Signer) -> StatusList:
    if signer.key_id != body.key_id:
        raise MalformedStatusList("the list names another key than its signer", where="key")
    _check_size(body.size)
    signature = signer.sign(signing_message(body))
    document = encoding.encode({**body.to_map(), "sig": signature})
    return StatusList(body, signature, document)


def parse_status_list(data: bytes) -> StatusList:
    """Parse a document (nothing is verified): ``status_list.shape`` if it isn't one."""
    if not isinstance(data, bytes) or len(data) > MAX_DOCUMENT:
        raise MalformedStatusList(f"a status list is at most {MAX_DOCUMENT} bytes")
    try:
        value = encoding.decode(data)
    except MalformedEncoding as err:
        raise MalformedStatusList(f"not canonical msgpack: {err.detail}", where=err.where) from err
    if not isinstance(value, dict) or set(value) != _FIELDS:
        raise MalformedStatusList("a status list is a map of exactly " + ", ".join(sorted(_FIELDS)))
    if value["kind"] != KIND or value["v"] != VERSION:
        raise MalformedStatusList(
            "not a hoso status list v1", expected=f"{KIND} v{VERSION}", found=value["kind"]
        )
    origin, agency, key, sig = value["origin"], value["agency"], value["key"], value["sig"]
    if not isinstance(origin, str) or not isinstance(agency, str) or not agency:
        raise MalformedStatusList("origin and agency are str")
    if not isinstance(key, bytes) or len(key) != KEY_ID_SIZE:
        raise MalformedStatusList(f"key is a {KEY_ID_SIZE}-byte key id", where="key")
    if not isinstance(sig, bytes) or len(sig) != SIGNATURE_SIZE:
        raise MalformedStatusList(f"sig is {SIGNATURE_SIZE} bytes", where="sig")
    ints: dict[str, int] = {}
    for name in ("list", "size", "issued", "checkpoint"):
        number = value[name]
        if type(number) is not int or number < 0:
            raise MalformedStatusList(f"{name} is a non-negative int", where=name)
        ints[name] = number
    _check_size(ints["size"])
    bits = _gunzip(value["bits"], ints["size"] // 8)
    body = StatusListBody(
        origin=origin,
        agency=agency,
        list_no=ints["list"],
        issued_s=ints["issued"],
        checkpoint=ints["checkpoint"],
        bits=bits,
        key_id=key,
    )
    return StatusList(body, sig, data)


def verify_status_list(status_list: StatusList, public_key: PublicKey) -> None:
    """Raise ``status_list.signature`` unless ``public_key`` signed the list."""
    where = f"list {status_list.body.agency}/{status_list.body.list_no}"
    try:
        verify_signature(public_key, signing_message(status_list.body), status_list.signature)
    except VerificationError as err:
        raise StatusListSignatureInvalid(
            "the status list's signature does not verify", where=where
        ) from err


def check_fresh(body: StatusListBody, *, now_s: int, max_age_s: int = DEFAULT_MAX_AGE_S) -> None:
    """Raise ``status_list.stale`` if the list is older than ``max_age_s`` or from the future."""
    where = f"list {body.agency}/{body.list_no}"
    if body.issued_s > now_s + CLOCK_SKEW_S:
        raise StatusListStale(
            "the list is dated in the future",
            where=where,
            expected=f"issued <= {now_s + CLOCK_SKEW_S}",
            found=body.issued_s,
        )
    if now_s - body.issued_s > max_age_s:
        raise StatusListStale(
            f"the list is older than the {max_age_s} s policy",
            where=where,
            expected=f"issued >= {now_s - max_age_s}",
            found=body.issued_s,
        )


def _check_size(size: int) -> None:
    if size < MIN_ENTRIES or size % 8 or size > MAX_ENTRIES:
        raise MalformedStatusList(
            f"a list has a multiple of 8 entries, {MIN_ENTRIES} to {MAX_ENTRIES}",
            where="size",
            found=size,
        )


def _gunzip(data: object, length: int) -> bytes:
    if not isinstance(data, bytes):
        raise MalformedStatusList("bits are bin (gzip)", where="bits")
    try:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        bits = inflater.decompress(data, length + 1)
        complete = inflater.eof and not inflater.unused_data
    except zlib.error as err:
        raise MalformedStatusList(f"bits are not gzip: {err}", where="bits") from err
    if len(bits) != length or not complete:
        raise MalformedStatusList(
            "the bits are not one gzip member of size / 8 bytes",
            where="bits",
            expected=length,
            found=len(bits),
        )
    return bits
