"""Checkpoints (c2sp.org/tlog-checkpoint@v1.0.0) and witness cosignatures
(c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``).

A checkpoint is a signed note whose text is three lines: the log origin, the
tree size in decimal (no leading zeros), and the base64 RFC 9162 root;
hoso writes no extension lines and rejects them when parsing. The ledger signs
it with an Ed25519 note key (type 0x01) named after the origin.

A witness cosignature is a note signature of type 0x04 whose bytes are
``u64 big-endian timestamp || Ed25519 signature`` over
``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa

from ledger.core.errors import (
    CheckpointOriginMismatch,
    CosignatureInvalid,
    MalformedCheckpoint,
    MalformedKey,
    SignatureInvalid,
)
from ledger.core.hashing import HASH_SIZE, Hash
from ledger.core.note import (
    SIG_COSIGNATURE_MLDSA44,
    SIG_COSIGNATURE_V1,
    Ed25519NoteSigner,
    Ed25519Verifier,
    Note,
    NoteSignature,
    check_key_name,
    format_vkey,
    note_key_id,
    parse_note,
    parse_vkey,
    verify_note,
)
from ledger.core.signing import SIGNATURE_SIZE, PublicKey, Signer, verify_signature

COSIGNATURE_HEADER: Final = "cosignature/v1\n"
MAX_TIMESTAMP: Final = 2**63 - 1
_SIZE_LINE = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A log's tree head: origin, size and root."""

    origin: str
    size: int
    root: Hash

    def __post_init__(self) -> None:
        check_key_name(self.origin)
        if not 0 <= self.size <= 2**64 - 1:
            raise MalformedCheckpoint(f"tree size {self.size} is outside [0, 2^64-1]")
        if len(self.root) != HASH_SIZE:
            raise MalformedCheckpoint(f"root must be {HASH_SIZE} bytes, got {len(self.root)}")

    def text(self) -> str:
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse a checkpoint body (the note text); raise MalformedCheckpoint otherwise."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise MalformedCheckpoint(
            f"checkpoint text must be exactly 3 newline-terminated lines, got {len(lines) - 1}"
        )
    origin, size_line, root_line = lines[:3]
    if not _SIZE_LINE.fullmatch(size_line):
        raise MalformedCheckpoint(f"tree size {size_line!r} is not a decimal without leading zeros")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as err:
        raise MalformedCheckpoint(f"root {root_line!r} is not base64") from err
    if base64.b64encode(root).decode("ascii") != root_line:
        raise MalformedCheckpoint(f"root {root_line!r} is not in canonical base64")
    try:
        return Checkpoint(origin=origin, size=int(size_line), root=Hash(root))
    except MalformedCheckpoint:
        raise
    except Exception as err:
        raise MalformedCheckpoint(f"bad origin line {origin!r}: {err}") from err


def sign_checkpoint(checkpoint: Checkpoint, signer: Ed25519NoteSigner) -> Note:
    """The ledger's signed note for ``checkpoint``."""
    return Note(checkpoint.text(), (signer.sign(checkpoint.text()),))


def open_checkpoint(
    data: bytes, *, origin: str, log_keys: Sequence[Ed25519Verifier]
) -> tuple[Checkpoint, Note]:
    """Parse and verify a signed checkpoint from ``origin`` under the log's keys.

    Cosignatures and unknown signatures are ignored here; see
    :func:`verify_cosignatures`.
    """
    note = parse_note(data)
    checkpoint = parse_checkpoint_text(note.text)
    if checkpoint.origin != origin:
        raise CheckpointOriginMismatch(
            "checkpoint is from another log", expected=origin, found=checkpoint.origin
        )
    verify_note(note, log_keys)
    return checkpoint, note


# --- witness cosignatures (tlog-cosignature, Ed25519 v1) ------------------


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a witness signs: header, time line, then the checkpoint text."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    """A witness's trusted key (type 0x04)."""

    name: str
    public_key: PublicKey

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, SIG_COSIGNATURE_V1, self.public_key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, SIG_COSIGNATURE_V1, self.public_key)

    def timestamp(self, signature: bytes) -> int:
        return split_cosignature(signature, where=self.name)[0]

    def verify(self, text: str, signature: bytes) -> None:
        timestamp, raw = split_cosignature(signature, where=self.name)
        try:
            verify_signature(self.public_key, cosignature_message(text, timestamp), raw)
        except SignatureInvalid as err:
            raise CosignatureInvalid(
                "witness cosignature does not verify over the checkpoint",
                where=f"witness {self.name} at time {timestamp}",
            ) from err


# --- witness cosignatures (tlog-cosignature, ML-DSA-44 subtree/v1) ----------

MLDSA44_SIGNATURE_SIZE: Final = 2420
SUBTREE_LABEL: Final = b"subtree/v1\n\x00"


def subtree_message(
    cosigner: str, timestamp: int, origin: str, *, start: int, end: int, root: bytes
) -> bytes:
    """The ML-DSA-44 ``cosigned_message`` (TLS encoding): label, name<1..255>, u64 time,
    origin<1..255>, u64 start, u64 end, the 32-byte hash."""
    name, log = cosigner.encode(), origin.encode()
    if not (1 <= len(name) <= 255 and 1 <= len(log) <= 255):
        raise MalformedCheckpoint("cosigner name and origin must be 1..255 bytes")
    if start and timestamp:
        raise MalformedCheckpoint("a subtree cosignature (start > 0) has timestamp 0")
    if len(root) != HASH_SIZE or not 0 <= start <= end or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedCheckpoint("bad subtree: sizes, root or timestamp out of range")
    return (
        SUBTREE_LABEL
        + bytes([len(name)])
        + name
        + struct.pack(">Q", timestamp)
        + bytes([len(log)])
        + log
        + struct.pack(">QQ", start, end)
        + bytes(root)
    )


def _split_timestamped(signature: bytes, size: int, where: str | None) -> tuple[int, bytes]:
    if len(signature) != 8 + size:
        raise MalformedCheckpoint(
            f"cosignature is {len(signature)} bytes, not 8 + {size}", where=where
        )
    (timestamp,) = struct.unpack(">Q", signature[:8])
    if timestamp > MAX_TIMESTAMP:
        raise MalformedCheckpoint(f"cosignature timestamp {timestamp} exceeds 2^63-1", where=where)
    return timestamp, signature[8:]


@dataclass(frozen=True, slots=True)
class MLDSACosignatureVerifier:
    """A witness's trusted ML-DSA-44 key (type 0x06): verifies FIPS 204 pure-mode
    signatures, empty context, over :func:`subtree_message` of the checkpoint (its
    origin, size and root; extension lines are not covered, as the spec says)."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, SIG_COSIGNATURE_MLDSA44, self.public_key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, SIG_COSIGNATURE_MLDSA44, self.public_key)

    def timestamp(self, signature: bytes) -> int:
        return _split_timestamped(signature, MLDSA44_SIGNATURE_SIZE, self.name)[0]

    def verify(self, text: str, signature: bytes) -> None:
        timestamp, raw = _split_timestamped(signature, MLDSA44_SIGNATURE_SIZE, self.name)
        checkpoint = parse_checkpoint_text(text)
        message = subtree_message(
            self.name,
            timestamp,
            checkpoint.origin,
            start=0,
            end=checkpoint.size,
            root=checkpoint.root,
        )
        try:
            mldsa.MLDSA44PublicKey.from_public_bytes(self.public_key).verify(raw, message)
        except (InvalidSignature, ValueError) as err:
            raise CosignatureInvalid(
                "ML-DSA-44 witness cosignature does not verify over the checkpoint",
                where=f"witness {self.name} at time {timestamp}",
            ) from err


@dataclass(frozen=True, slots=True)
class MLDSACosigner:
    """A witness's ML-DSA-44 signing key, from its 32-byte FIPS 204 seed."""

    name: str
    seed: bytes

    def _key(self) -> mldsa.MLDSA44PrivateKey:
        return mldsa.MLDSA44PrivateKey.from_seed_bytes(self.seed)

    def __repr__(self) -> str:
        return f"MLDSACosigner({self.name!r})"  # never the seed

    @property
    def verifier(self) -> MLDSACosignatureVerifier:
        return MLDSACosignatureVerifier(self.name, self._key().public_key().public_bytes_raw())

    def cosign(self, checkpoint: Checkpoint, *, timestamp: int) -> NoteSignature:
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise MalformedCheckpoint(f"cosignature timestamp {timestamp} is out of range")
        message = subtree_message(
            self.name,
            timestamp,
            checkpoint.origin,
            start=0,
            end=checkpoint.size,
            root=checkpoint.root,
        )
        raw = self._key().sign(message)
        return NoteSignature(
            check_key_name(self.name), self.verifier.key_id, struct.pack(">Q", timestamp) + raw
        )

    def cosign_text(self, text: str, *, timestamp: int) -> NoteSignature:
        return self.cosign(parse_checkpoint_text(text), timestamp=timestamp)


def parse_cosignature_vkey(vkey: str) -> AnyCosignatureVerifier:
    """Parse a witness vkey: type 0x04 (Ed25519 cosignature/v1) or 0x06 (ML-DSA-44)."""
    name, sig_type, public_key = parse_vkey(vkey)
    if sig_type == SIG_COSIGNATURE_MLDSA44:
        try:
            mldsa.MLDSA44PublicKey.from_public_bytes(public_key)
        except ValueError as err:
            raise MalformedKey("not an ML-DSA-44 public key", where=name) from err
        return MLDSACosignatureVerifier(name, bytes(public_key))
    if sig_type != SIG_COSIGNATURE_V1:
        raise MalformedKey(
            f"vkey type {sig_type:#04x} is not a cosignature key (0x04 or 0x06)", where=name
        )
    return CosignatureVerifier(name, public_key)


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A witness's signing key (Ed25519, cosignature/v1)."""

    name: str
    signer: Signer

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.signer.public_key)

    def cosign(self, checkpoint: Checkpoint, *, timestamp: int) -> NoteSignature:
        """Cosign ``checkpoint`` as of ``timestamp`` (POSIX seconds, from the caller's clock)."""
        return self.cosign_text(checkpoint.text(), timestamp=timestamp)

    def cosign_text(self, text: str, *, timestamp: int) -> NoteSignature:
        """Cosign a checkpoint's whole note text (extension lines included: a witness
        cosigns what the log signed)."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise MalformedCheckpoint(f"cosignature timestamp {timestamp} is out of range")
        raw = self.signer.sign(cosignature_message(text, timestamp))
        return NoteSignature(
            check_key_name(self.name), self.verifier.key_id, struct.pack(">Q", timestamp) + raw
        )


def split_cosignature(signature: bytes, *, where: str | None = None) -> tuple[int, bytes]:
    """Split cosignature bytes into (timestamp, Ed25519 signature)."""
    return _split_timestamped(signature, SIGNATURE_SIZE, where)


def verify_cosignatures(note: Note, witnesses: Sequence[AnyCosignatureVerifier]) -> dict[str, int]:
    """Verify the cosignatures of known ``witnesses``; return name → timestamp of each.

    Unknown signatures (including the log's own) are ignored; a known
    witness's signature that fails raises CosignatureInvalid. An empty result
    is not an error here: how many witnesses suffice is the caller's policy.
    """
    by_id = {(w.name, w.key_id): w for w in witnesses}
    verified: dict[str, int] = {}
    for sig in note.signatures:
        witness = by_id.get((sig.name, sig.key_id))
        if witness is None:
            continue
        witness.verify(note.text, sig.signature)
        verified[witness.name] = witness.timestamp(sig.signature)
    return verified


AnyCosignatureVerifier = CosignatureVerifier | MLDSACosignatureVerifier
AnyCosigner = Cosigner | MLDSACosigner
