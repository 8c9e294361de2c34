"""C2SP signed notes (c2sp.org/signed-note@v1.0.0) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> base64(4-byte key id || signature)``. Key id =
``SHA-256(name || 0x0A || signature type || public key)[:4]``; verifier keys
("vkeys") read ``<name>+<hex key id>+base64(type || public key)``.

Verification follows the spec: signatures whose (name, key id) match no known
key are ignored; a known key's signature that fails rejects the note; a note
with no verified known signature is rejected. The signature types are
pluggable (:class:`NoteVerifier`): type 0x01 (Ed25519) lives here, type 0x04
(tlog-cosignature v1) in :mod:`ledger.core.checkpoint`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from nacl.bindings import crypto_core_ed25519_is_valid_point

from ledger.core.errors import (
    MalformedKey,
    MalformedNote,
    NoteNotSigned,
    NoteSignatureInvalid,
    SignatureInvalid,
)
from ledger.core.signing import (
    PUBLIC_KEY_SIZE,
    PublicKey,
    Signer,
    parse_public_key,
    verify_signature,
)

SIG_ED25519: Final = 0x01
SIG_COSIGNATURE_V1: Final = 0x04
SIG_COSIGNATURE_MLDSA44: Final = 0x06  # tlog-cosignature, ML-DSA-44 subtree/v1
MLDSA44_PUBLIC_KEY_SIZE: Final = 1312
NOTE_KEY_ID_SIZE: Final = 4
MAX_NOTE_SIGNATURES: Final = 64
MAX_NOTE_BYTES: Final = 64 * 1024
SIGNATURE_PREFIX: Final = "— "  # em dash U+2014, space


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A note's text (with its final newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def serialise(self) -> bytes:
        lines = "".join(s.line() for s in self.signatures)
        return f"{self.text}\n{lines}".encode()

    def with_signatures(self, extra: Sequence[NoteSignature]) -> Note:
        """The same note with ``extra`` signature lines appended (duplicates dropped)."""
        merged = list(self.signatures)
        for sig in extra:
            if sig not in merged:
                merged.append(sig)
        return Note(self.text, tuple(merged))


class NoteVerifier(Protocol):
    """A trusted key for one signature type; matched to lines by (name, key id)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: str, signature: bytes) -> None:
        """Raise a VerificationError unless ``signature`` is valid over ``text``."""
        ...


def note_key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """C2SP key id: SHA-256(name || 0x0A || type || public key)[:4]."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return digest[:NOTE_KEY_ID_SIZE]


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    """A type 0x01 note verifier key."""

    name: str
    public_key: PublicKey

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, SIG_ED25519, self.public_key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, SIG_ED25519, self.public_key)

    def verify(self, text: str, signature: bytes) -> None:
        verify_signature(self.public_key, text.encode(), signature, where=f"note key {self.name}")


@dataclass(frozen=True, slots=True)
class Ed25519NoteSigner:
    """Signs note text with an Ed25519 key under a key name (type 0x01)."""

    name: str
    signer: Signer

    @property
    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.signer.public_key)

    def sign(self, text: str) -> NoteSignature:
        check_key_name(self.name)
        return NoteSignature(
            self.name, self.verifier.key_id, self.signer.sign(_check_text(text).encode())
        )


def format_vkey(name: str, sig_type: int, public_key: bytes) -> str:
    """``<name>+<hex key id>+base64(type || public key)``."""
    blob = base64.b64encode(bytes([sig_type]) + public_key).decode("ascii")
    return f"{name}+{note_key_id(name, sig_type, public_key).hex()}+{blob}"


def parse_vkey(vkey: str) -> tuple[str, int, PublicKey]:
    """Parse a vkey into (name, signature type, public key), checking its key id."""
    parts = vkey.strip().split("+", 2)  # the base64 key may itself contain '+'
    if len(parts) != 3:
        raise MalformedKey("a vkey is <name>+<hex key id>+<base64 key>", where=repr(vkey))
    name, hex_id, blob = parts
    try:
        check_key_name(name)
    except MalformedNote as err:
        raise MalformedKey(err.detail, where=repr(vkey)) from err
    try:
        raw = base64.b64decode(blob, validate=True)
        claimed_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as err:
        raise MalformedKey(f"bad vkey encoding: {err}", where=repr(vkey)) from err
    if base64.b64encode(raw).decode("ascii") != blob:
        raise MalformedKey("vkey key is not in canonical base64", where=repr(vkey))
    sizes = {SIG_COSIGNATURE_MLDSA44: MLDSA44_PUBLIC_KEY_SIZE}
    want = sizes.get(raw[0], PUBLIC_KEY_SIZE) if raw else PUBLIC_KEY_SIZE
    if len(raw) != 1 + want or len(claimed_id) != NOTE_KEY_ID_SIZE:
        raise MalformedKey(
            "vkey holds a 4-byte id and a type byte with its key (32 bytes; ML-DSA-44: 1312)",
            where=repr(vkey)[:120],
        )
    sig_type, public_key = raw[0], PublicKey(raw[1:])
    if note_key_id(name, sig_type, public_key) != claimed_id:
        raise MalformedKey("vkey key id does not match its name and key", where=repr(vkey))
    return name, sig_type, public_key


def parse_ed25519_vkey(vkey: str) -> Ed25519Verifier:
    """Parse a type 0x01 vkey."""
    name, sig_type, public_key = parse_vkey(vkey)
    if sig_type != SIG_ED25519:
        raise MalformedKey(f"vkey type {sig_type:#04x} is not Ed25519 (0x01)", where=name)
    return Ed25519Verifier(name, public_key)


def check_key_name(name: str) -> str:
    if not name or any(ch.isspace() or ch == "+" for ch in name) or _has_control(name):
        raise MalformedNote(f"key name {name!r} is empty or has spaces, '+' or control characters")
    return name


def parse_note(data: bytes) -> Note:
    """Parse signed-note bytes; raise MalformedNote unless they follow the syntax."""
    if len(data) > MAX_NOTE_BYTES:
        raise MalformedNote(f"note is {len(data)} bytes, over the {MAX_NOTE_BYTES}-byte limit")
    try:
        whole = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MalformedNote(f"note is not UTF-8: {err.reason}", where=f"byte {err.start}") from err
    _check_text(whole)
    split = whole.rfind("\n\n")
    if split < 0 or not whole.endswith("\n"):
        raise MalformedNote("no blank line between text and signatures, or no final newline")
    text, block = whole[: split + 1], whole[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise MalformedNote("note has no signature lines")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise MalformedNote(f"note has {len(lines)} signatures, over {MAX_NOTE_SIGNATURES}")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def verify_note(note: Note, verifiers: Sequence[NoteVerifier]) -> tuple[NoteVerifier, ...]:
    """Verify ``note`` under the known ``verifiers``; return those whose signature verified.

    Unknown signatures are ignored; a failing known one raises
    NoteSignatureInvalid; none verified raises NoteNotSigned.
    """
    verified: list[NoteVerifier] = []
    for sig in note.signatures:
        for verifier in verifiers:
            if (verifier.name, verifier.key_id) != (sig.name, sig.key_id):
                continue
            try:
                verifier.verify(note.text, sig.signature)
            except SignatureInvalid as err:
                raise NoteSignatureInvalid(
                    "a known key's signature does not verify over the note text",
                    where=f"signature by {sig.name}+{sig.key_id.hex()}",
                ) from err
            if verifier not in verified:
                verified.append(verifier)
    if not verified:
        known = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers) or "none"
        found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        raise NoteNotSigned(
            "no signature on the note is by a known key", expected=known, found=found
        )
    return tuple(verified)


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNote("signature line does not start with '— '", where=repr(line))
    name, space, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise MalformedNote("signature line has no space after the key name", where=repr(line))
    check_key_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error as err:
        raise MalformedNote(f"signature is not base64: {err}", where=repr(line)) from err
    if base64.b64encode(raw).decode("ascii") != blob:
        raise MalformedNote("signature is not in canonical base64", where=repr(line))
    if len(raw) <= NOTE_KEY_ID_SIZE:
        raise MalformedNote("signature is shorter than its 4-byte key id", where=repr(line))
    return NoteSignature(name, raw[:NOTE_KEY_ID_SIZE], raw[NOTE_KEY_ID_SIZE:])


def _has_control(text: str) -> bool:
    """ASCII control characters other than newline, or lone surrogates (not UTF-8 text)."""
    return any((ord(ch) < 0x20 and ch != "\n") or 0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def _check_text(text: str) -> str:
    if _has_control(text):
        raise MalformedNote(
            "note contains ASCII control characters other than newline, or lone surrogates"
        )
    return text


def parse_public_key_text(text: str) -> PublicKey:
    """An Ed25519 public key given as text by the official's own client: a C2SP vkey
    (type 0x01), 64 hex digits, or canonical base64 of 32 bytes. Refused
    (``key.shape``) unless it is a point of the curve outside the small-order subgroup,
    so a key nobody can hold the private half of is never registered."""
    value = text.strip()
    raw: bytes
    if len(value) == 2 * PUBLIC_KEY_SIZE and all(c in "0123456789abcdefABCDEF" for c in value):
        raw = bytes.fromhex(value)
    elif len(value) == 44 and value.endswith("="):  # base64 of 32 bytes
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            raise MalformedKey("not canonical base64", where=value[:80]) from err
        if base64.b64encode(raw).decode("ascii") != value:
            raise MalformedKey("public key is not in canonical base64", where=value[:80])
    else:
        name, sig_type, raw = parse_vkey(value)
        if sig_type != SIG_ED25519:
            raise MalformedKey(f"vkey type {sig_type:#04x} is not Ed25519 (0x01)", where=name)
    key = parse_public_key(raw, where="public key")
    if not crypto_core_ed25519_is_valid_point(key):
        raise MalformedKey("not a valid Ed25519 public key (off the curve or small order)")
    return key
