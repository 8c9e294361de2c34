"""C2SP tlog-witness ``add-checkpoint`` (c2sp.org/tlog-witness): the request's bytes,
the 409 body, and a witness's checks, pure.

The request body is an old size line ``old <size>\\n`` (decimal, no leading zeros),
at most 63 consistency proof lines (one base64 hash each), an empty line, then the
checkpoint note; every line ends in ``\\n``. The witness checks, in this order, and
each failure has its own class (the status a witness answers with, in brackets):

1. the body's syntax, the note's and the checkpoint's (:class:`MalformedWitnessRequest`,
   :class:`~ledger.core.errors.MalformedNote`,
   :class:`~ledger.core.errors.MalformedCheckpoint`: 400);
2. the origin is one it witnesses (:class:`WitnessUnknownLog`: 404);
3. a trusted log key signed it and no trusted key's signature fails
   (:class:`WitnessLogSignature`: 403);
4. ``old`` is not past the checkpoint's size (:class:`WitnessOldPastCheckpoint`: 400);
5. ``old`` is the size it last cosigned, or 0 (:class:`WitnessSizeConflict`: 409, the
   body ``<its size>\\n`` of type ``text/x.tlog.size``);
6. the proof links what it cosigned to the new tree; an empty tree has the empty
   root; equal sizes have equal roots (:class:`WitnessInconsistent`: 422).

Checkpoints may carry extension lines (the spec allows them; they are cosigned with the
rest of the note text). Log keys may be Ed25519 note keys (0x01) or timestamped
cosignature keys (0x04); a 0x04 signature whose timestamp is past 2^63-1 does not
verify (step 3).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ledger.core import merkle
from ledger.core.checkpoint import Checkpoint, CosignatureVerifier, parse_checkpoint_text
from ledger.core.errors import (
    ConsistencyProofFailed,
    MalformedCheckpoint,
    MalformedError,
    MalformedKey,
    MalformedProof,
    NoteNotSigned,
    NoteSignatureInvalid,
    NotFoundError,
    StateConflict,
    VerificationError,
)
from ledger.core.hashing import EMPTY_ROOT, HASH_SIZE, Hash
from ledger.core.note import (
    MAX_NOTE_BYTES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Ed25519Verifier,
    Note,
    NoteVerifier,
    parse_note,
    parse_vkey,
    verify_note,
)

MAX_PROOF_LINES: Final = 63
SIZE_CONTENT_TYPE: Final = "text/x.tlog.size"
_PROOF_LINE_BYTES: Final = 45  # base64 of 32 bytes, and its newline
MAX_REQUEST_BYTES: Final = len("old 18446744073709551615\n") + MAX_PROOF_LINES * _PROOF_LINE_BYTES
MAX_REQUEST_BYTES_WITH_NOTE: Final = MAX_REQUEST_BYTES + 1 + MAX_NOTE_BYTES
"""The largest well-formed request: old line, 63 proof lines, blank line, largest note."""
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_MAX_SIZE: Final = 2**64 - 1


class MalformedWitnessRequest(MalformedError):
    """An add-checkpoint body is not ``old N``, proof lines, a blank line and a note."""

    check = "witness.request"


class WitnessUnknownLog(NotFoundError):
    """The checkpoint's origin is not a log this witness witnesses."""

    check = "witness.unknown_log"


class WitnessLogSignature(VerificationError):
    """No trusted log key signed the checkpoint, or a trusted key's signature fails."""

    check = "witness.log_signature"


class WitnessOldPastCheckpoint(VerificationError):
    """The old size is larger than the checkpoint's size."""

    check = "witness.old_past_checkpoint"


class WitnessSizeConflict(StateConflict):
    """The old size is not the size the witness last cosigned (``size`` says which)."""

    check = "witness.size_conflict"

    def __init__(self, *, size: int, old: int, origin: str) -> None:
        self.size = size
        super().__init__(
            "old size is not the size this witness last cosigned",
            where=origin,
            expected=size,
            found=old,
        )


class WitnessInconsistent(VerificationError):
    """The checkpoint is not proven consistent with what the witness cosigned before."""

    check = "witness.inconsistent"


@dataclass(frozen=True, slots=True)
class TreeHead:
    """What a witness (or a signer) last vouched for: a size and its root."""

    size: int
    root: Hash

    def __post_init__(self) -> None:
        if not 0 <= self.size <= _MAX_SIZE or len(self.root) != HASH_SIZE:
            raise MalformedCheckpoint(f"tree head of size {self.size} with a bad root")


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """One add-checkpoint request: old size, proof, the note and its checkpoint."""

    old_size: int
    proof: tuple[Hash, ...]
    note: Note
    checkpoint: Checkpoint

    def serialise(self) -> bytes:
        return format_add_checkpoint(old_size=self.old_size, proof=self.proof, note=self.note)


def format_add_checkpoint(*, old_size: int, proof: Sequence[bytes], note: Note) -> bytes:
    """The request body: ``old N``, the proof lines, an empty line, the note."""
    if not 0 <= old_size <= _MAX_SIZE:
        raise MalformedWitnessRequest(f"old size {old_size} is outside [0, 2^64-1]")
    if len(proof) > MAX_PROOF_LINES:
        raise MalformedWitnessRequest(
            f"a proof of {len(proof)} hashes is over {MAX_PROOF_LINES} lines"
        )
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode("ascii") + "\n" for h in proof)]
    return "".join(lines).encode("ascii") + b"\n" + note.serialise()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body (steps 1 of the witness's checks)."""
    if len(body) > MAX_REQUEST_BYTES_WITH_NOTE:
        raise MalformedWitnessRequest(
            f"body is {len(body)} bytes, over {MAX_REQUEST_BYTES_WITH_NOTE}"
        )
    head, sep, rest = body.partition(b"\n\n")
    if not sep:
        raise MalformedWitnessRequest("no empty line after the old size and proof lines")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as err:
        raise MalformedWitnessRequest(
            "old size and proof lines are not ASCII", where=f"byte {err.start}"
        ) from None
    word, space, size = lines[0].partition(" ")
    if word != "old" or not space or not _DECIMAL.fullmatch(size) or int(size) > _MAX_SIZE:
        raise MalformedWitnessRequest(
            "the first line must be 'old <size>' (decimal, no leading zeros, < 2^64)",
            found=lines[0][:40],
        )
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedWitnessRequest(
            f"{len(lines) - 1} consistency proof lines, over {MAX_PROOF_LINES}"
        )
    proof = tuple(_proof_hash(line, i) for i, line in enumerate(lines[1:]))
    note = parse_note(rest)
    return AddCheckpoint(
        old_size=int(size), proof=proof, note=note, checkpoint=checkpoint_of(note.text)
    )


def checkpoint_of(text: str) -> Checkpoint:
    """The checkpoint in a note text whose first three lines are origin, size and root;
    any further lines are extension lines, which must be non-empty."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise MalformedCheckpoint("a checkpoint has at least 3 newline-terminated lines")
    if any(not line for line in lines[3:-1]):
        raise MalformedCheckpoint("checkpoint extension lines must be non-empty")
    return parse_checkpoint_text("\n".join(lines[:3]) + "\n")


def _proof_hash(line: str, i: int) -> Hash:
    where = f"proof line {i + 1}"
    try:
        raw = base64.b64decode(line, validate=True)
    except binascii.Error:
        raise MalformedWitnessRequest("a proof line is not base64", where=where) from None
    if base64.b64encode(raw).decode("ascii") != line:
        raise MalformedWitnessRequest("a proof line is not in canonical base64", where=where)
    if len(raw) != HASH_SIZE:
        raise MalformedWitnessRequest(
            f"a proof line holds {len(raw)} bytes, not a {HASH_SIZE}-byte hash", where=where
        )
    return Hash(raw)


def format_size(size: int) -> bytes:
    """A 409 body: the witness's size in decimal and a newline."""
    return f"{size}\n".encode("ascii")


def parse_size(body: bytes) -> int:
    """Read a 409 ``text/x.tlog.size`` body."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or not _DECIMAL.fullmatch(text[:-1]) or int(text[:-1]) > _MAX_SIZE:
        raise MalformedWitnessRequest("a size body is one decimal line", found=text[:40])
    return int(text[:-1])


def check_add_checkpoint(
    request: AddCheckpoint, *, log_keys: Sequence[NoteVerifier], latest: TreeHead | None
) -> TreeHead:
    """Steps 3 to 6 for a known log: return the tree head to record and cosign.

    ``log_keys`` are the keys trusted for the request's origin; ``latest`` is what this
    witness last cosigned for it (None: never).
    """
    checkpoint = request.checkpoint
    where = f"{checkpoint.origin} at size {checkpoint.size}"
    try:
        verify_note(request.note, log_keys)
    except (NoteNotSigned, NoteSignatureInvalid, MalformedCheckpoint) as err:
        raise WitnessLogSignature(err.detail, where=where) from err
    old = request.old_size
    if old > checkpoint.size:
        raise WitnessOldPastCheckpoint(
            "old size is past the checkpoint's size",
            where=where,
            expected=checkpoint.size,
            found=old,
        )
    known = 0 if latest is None else latest.size
    if old != known:
        raise WitnessSizeConflict(size=known, old=old, origin=checkpoint.origin)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise WitnessInconsistent(
            "a tree of size 0 has the empty root",
            where=where,
            expected=EMPTY_ROOT,
            found=checkpoint.root,
        )
    if old == 0:
        if request.proof:
            raise WitnessInconsistent("no proof is due from size 0", where=where)
    elif latest is not None:
        try:
            merkle.verify_consistency(
                size1=old,
                size2=checkpoint.size,
                root1=latest.root,
                root2=checkpoint.root,
                proof=request.proof,
            )
        except (ConsistencyProofFailed, MalformedProof) as err:
            raise WitnessInconsistent(
                f"not consistent with the tree cosigned before: {err.detail}",
                where=where,
                expected=err.expected,
                found=err.found,
            ) from err
    return TreeHead(size=checkpoint.size, root=checkpoint.root)


def parse_log_vkey(vkey: str) -> NoteVerifier:
    """A log's key as a witness trusts it: an Ed25519 note vkey (0x01) or a timestamped
    cosignature vkey (0x04); its name is the log's origin."""
    name, sig_type, public_key = parse_vkey(vkey)
    if sig_type == SIG_ED25519:
        return Ed25519Verifier(name, public_key)
    if sig_type == SIG_COSIGNATURE_V1:
        return CosignatureVerifier(name, public_key)
    raise MalformedKey(f"log vkey type {sig_type:#04x} is neither 0x01 nor 0x04", where=name)
