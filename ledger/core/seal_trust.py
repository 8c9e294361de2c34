"""The seal trust list: which agency seal keys a verifier accepts (docs/formats.md §11.4).

A C2SP signed note (§6.1) signed by the ledger's log key, whose text is::

    hoso seal trust list v2
    origin <ledger origin>
    issued <seconds UTC>
    witness <C2SP vkey, type 0x04>     (zero or more: whose cosignatures count)
    key <hoso key id, 32 hex> <agency> <base64 public key> <from s> <until s|-> \
<from leaf|-> <until leaf|->
    ...

one ``key`` line per agency seal key (role ``agency_seal``), sorted by key
id, wrapped above for the docstring only. The ``witness`` lines (sorted) name the
witnesses whose cosignatures of a checkpoint a status check counts (the freshness a
citizen is shown). A v1 list (header ``... v1``) has no witness lines.
``from``/``until`` are the times (seconds UTC) of the registry events that
registered and revoked the key; the leaves are those events' positions in the global log (``-``: not
integrated yet / not revoked). Offline verifiers check the seal's issue
time against the times; the online check uses the leaf positions. No two
keys may share the first 8 bytes of their key id (the seal carries only
those): the writer refuses such a list and the parser rejects it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from ledger.core.checkpoint import AnyCosignatureVerifier, parse_cosignature_vkey
from ledger.core.errors import MalformedKey
from ledger.core.note import Ed25519NoteSigner, Ed25519Verifier, Note, parse_note, verify_note
from ledger.core.seal import (
    SEAL_KEY_ID_SIZE,
    ParsedSeal,
    SealClaims,
    SealKeyScope,
    SealKeyValidity,
    SealTrustList,
    SealUnknownKey,
    verify_seal_signature,
)
from ledger.core.signing import KEY_ID_SIZE, PUBLIC_KEY_SIZE, KeyId, PublicKey, key_id

HEADER: Final = "hoso seal trust list v2"
HEADER_V1: Final = "hoso seal trust list v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedSealKey:
    key_id: KeyId
    public_key: PublicKey
    agency: str
    valid_from_s: int
    valid_until_s: int | None = None
    from_leaf: int | None = None
    until_leaf: int | None = None

    def line(self) -> str:
        pub = base64.b64encode(self.public_key).decode("ascii")
        fields = [self.valid_from_s, self.valid_until_s, self.from_leaf, self.until_leaf]
        rest = " ".join("-" if f is None else str(f) for f in fields)
        return f"key {self.key_id.hex()} {self.agency} {pub} {rest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustList:
    origin: str
    issued_s: int
    keys: tuple[TrustedSealKey, ...]
    witnesses: tuple[str, ...] = ()  # C2SP cosignature vkeys

    def __post_init__(self) -> None:
        for vkey in self.witnesses:
            parse_cosignature_vkey(vkey)
        short = [k.key_id[:SEAL_KEY_ID_SIZE] for k in self.keys]
        if len(set(short)) != len(short):
            raise SealTrustList("two keys share the 8-byte seal key id prefix")

    def text(self) -> str:
        lines = [HEADER, f"origin {self.origin}", f"issued {self.issued_s}"]
        lines += [f"witness {w}" for w in sorted(self.witnesses)]
        lines += [k.line() for k in sorted(self.keys, key=lambda k: k.key_id)]
        return "\n".join(lines) + "\n"

    def find(self, short_id: bytes) -> TrustedSealKey:
        for key in self.keys:
            if key.key_id[:SEAL_KEY_ID_SIZE] == short_id:
                return key
        raise SealUnknownKey("no agency seal key in the trust list has this key id", found=short_id)

    def witness_verifiers(self) -> list[AnyCosignatureVerifier]:
        return [parse_cosignature_vkey(w) for w in self.witnesses]


def sign_trust_list(trust: TrustList, signer: Ed25519NoteSigner) -> Note:
    return Note(trust.text(), (signer.sign(trust.text()),))


def open_trust_list(data: bytes, verifiers: Sequence[Ed25519Verifier]) -> TrustList:
    """Verify the note under the trust anchor(s), then parse its text."""
    note = parse_note(data)
    verify_note(note, verifiers)
    return parse_trust_list_text(note.text)


def parse_trust_list_text(text: str) -> TrustList:
    lines = text.split("\n")[:-1]
    if len(lines) < 3 or lines[0] not in (HEADER, HEADER_V1):
        raise SealTrustList(f"trust list must start with {HEADER!r}, origin and issued lines")
    origin, issued = _tagged(lines[1], "origin"), _tagged(lines[2], "issued")
    rest = lines[3:]
    witnesses: list[str] = []
    while lines[0] == HEADER and rest and rest[0].startswith("witness "):
        witnesses.append(_tagged(rest.pop(0), "witness"))
    if witnesses != sorted(witnesses):
        raise SealTrustList("witness lines are not sorted")
    keys = tuple(_key_line(line, i) for i, line in enumerate(rest, start=4 + len(witnesses)))
    if [k.key_id for k in keys] != sorted(k.key_id for k in keys):
        raise SealTrustList("key lines are not sorted by key id")
    try:
        return TrustList(
            origin=origin, issued_s=_int(issued, "issued"), keys=keys, witnesses=tuple(witnesses)
        )
    except MalformedKey as err:
        raise SealTrustList(f"a witness line's vkey: {err.detail}") from err


def _tagged(line: str, tag: str) -> str:
    name, _, value = line.partition(" ")
    if name != tag or not value:
        raise SealTrustList(f"expected a {tag!r} line", where=repr(line))
    return value


def _int(text: str, where: str) -> int:
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise SealTrustList(f"{text!r} is not a decimal number", where=where)
    return int(text)


def _optional(text: str, where: str) -> int | None:
    return None if text == "-" else _int(text, where)


def _key_line(line: str, number: int) -> TrustedSealKey:
    where = f"line {number}"
    parts = line.split(" ")
    if len(parts) != 8 or parts[0] != "key":
        raise SealTrustList("a key line has 8 space-separated fields", where=where)
    try:
        kid, pub = bytes.fromhex(parts[1]), base64.b64decode(parts[3], validate=True)
    except (ValueError, binascii.Error) as err:
        raise SealTrustList(f"bad key id or public key: {err}", where=where) from err
    if len(kid) != KEY_ID_SIZE or len(pub) != PUBLIC_KEY_SIZE or kid != key_id(PublicKey(pub)):
        raise SealTrustList("key id is not the hoso key id of the public key", where=where)
    return TrustedSealKey(
        key_id=KeyId(kid),
        public_key=PublicKey(pub),
        agency=parts[2],
        valid_from_s=_int(parts[4], where),
        valid_until_s=_optional(parts[5], where),
        from_leaf=_optional(parts[6], where),
        until_leaf=_optional(parts[7], where),
    )


def verify_seal(parsed: ParsedSeal, trust: TrustList) -> TrustedSealKey:
    """See :func:`verified_claims`; returns the trusted key only."""
    return _verify(parsed, trust)


def verified_claims(parsed: ParsedSeal, trust: TrustList) -> tuple[SealClaims, TrustedSealKey]:
    """:func:`verify_seal`, and the claims with a version 2 seal's agency filled in from
    its key (a version 1 seal signs its own, which the scope check compares)."""
    key = _verify(parsed, trust)
    claims = parsed.claims
    if claims.version != 1:
        claims = replace(claims, agency=key.agency)
    return claims, key


def _verify(parsed: ParsedSeal, trust: TrustList) -> TrustedSealKey:
    """Checks 2–5 of a seal: trusted key, signature, agency scope (version 1; a version 2
    seal's agency is the returned key's), validity at issue time.

    Raises the check's error, or returns the trusted key. Revocation of the
    *result* is not known offline (docs/seal.md §Offline).
    """
    claims: SealClaims = parsed.claims
    key = trust.find(claims.key_id)
    verify_seal_signature(parsed, key.public_key)
    if claims.version == 1 and key.agency != claims.agency:  # (v2: the agency is the key's)
        raise SealKeyScope(
            "the seal key belongs to another agency",
            where=f"seal key {key.key_id.hex()}",
            expected=key.agency,
            found=claims.agency,
        )
    if claims.issued_s < key.valid_from_s or (
        key.valid_until_s is not None and claims.issued_s >= key.valid_until_s
    ):
        until = "-" if key.valid_until_s is None else str(key.valid_until_s)
        raise SealKeyValidity(
            "the seal key was not valid at the seal's issue time",
            where=f"seal key {key.key_id.hex()}",
            expected=f"from {key.valid_from_s} until {until}",
            found=claims.issued_s,
        )
    return key
