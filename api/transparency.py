"""Checkpoints, proofs and the witness flow over the stored Merkle log.

Sizes and indexes are checked against the integrated log before any node is looked
up, so no request can ask the database for a node past the tree (400 instead).

Witnesses (c2sp.org/tlog-witness, read for hoso): in C2SP the *log* POSTs
``add-checkpoint`` to a witness. hoso turns the call around, because witnesses here are
supervising agencies that pull: a registered witness fetches the latest checkpoint and a
consistency proof from the size it last cosigned, verifies them itself, and POSTs the
same ``add-checkpoint`` body back with its cosignature line added to the note:

    old <size it last cosigned>\\n
    <base64 consistency proof hash>\\n ...
    \\n
    <the checkpoint note, with the witness's cosignature line>

The ledger checks ``old`` against the last size it stored for that witness (409 with
``known_size`` on a mismatch, as C2SP's 409), re-checks the proof against its own signed
checkpoints, and stores the cosignature through :meth:`Checkpoints.add_cosignature`
(which verifies it under the configured witness key and checks consistency again).
"""

from __future__ import annotations

import base64
import binascii

from api.problems import ApiError
from api.schemas import CheckpointPublic, ConsistencyProofPublic, InclusionProofPublic
from ledger.bootstrap import Ledger
from ledger.core import merkle
from ledger.core.checkpoint import parse_checkpoint_text
from ledger.core.errors import MalformedNote, MalformedProof
from ledger.core.hashing import Hash
from ledger.core.note import Note, NoteSignature, parse_note
from ledger.storage.checkpoints import CheckpointUnknown
from ledger.storage.merkle_log import MerkleLog

MAX_PROOF_LINES = 128


def latest_note(ledger: Ledger) -> Note:
    latest = ledger.checkpoints.latest()
    if latest is None:
        raise CheckpointUnknown("the ledger has signed no checkpoint yet")
    return latest[1]


def note_at(ledger: Ledger, size: int) -> Note:
    note = ledger.checkpoints.note_at(size)
    if note is None:
        raise CheckpointUnknown("the ledger never signed a checkpoint of this size", found=size)
    return note


def latest_size(ledger: Ledger) -> int | None:
    """The size of the latest signed checkpoint (one indexed lookup), or None."""
    rows = ledger.backend.sql.rows("SELECT MAX(size) AS size FROM hoso_checkpoints")
    return None if not rows or rows[0]["size"] is None else int(rows[0]["size"])


def checkpoint_public(note: Note) -> CheckpointPublic:
    checkpoint = parse_checkpoint_text(note.text)
    return CheckpointPublic(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=base64.b64encode(checkpoint.root).decode(),
        note=note.serialise().decode(),
    )


def _b64(hashes: list[Hash]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _within_log(log: MerkleLog, size: int, what: str) -> None:
    integrated = log.size()
    if size > integrated:
        raise MalformedProof(f"{what} {size} is past the integrated log ({integrated})", where=what)


def _event_digest(event_hash: str) -> bytes:
    try:
        digest = bytes.fromhex(event_hash)
    except ValueError:
        raise MalformedProof("hash must be 64 hex digits", where="hash") from None
    if len(digest) != 32:
        raise MalformedProof("hash must be 64 hex digits", where="hash")
    return digest


def inclusion(
    ledger: Ledger,
    *,
    index: int | None,
    event_hash: str | None,
    size: int | None,
    log: MerkleLog | None = None,
) -> InclusionProofPublic:
    """The proof from ``log`` (default: the primary's; the API passes the standby's)."""
    log = ledger.log if log is None else log
    digest: bytes | None = None
    if index is not None and event_hash is None:
        leaf = index
    elif index is None and event_hash is not None:
        digest = _event_digest(event_hash)
        leaf = log.leaf_index(digest)
    else:
        raise MalformedProof("give exactly one of index and hash", where="index")
    signed = latest_size(ledger)
    if size is None:
        if signed is None:
            raise CheckpointUnknown("the ledger has signed no checkpoint yet")
        size = signed
    if signed is None or size > signed:  # a signed size is integrated: no need to look
        _within_log(log, size, "size")
    if not 0 <= leaf < size:
        raise MalformedProof(f"leaf index {leaf} outside a tree of size {size}", where="index")
    proof = log.inclusion_proof(index=leaf, size=size)
    return InclusionProofPublic(
        index=leaf,
        size=size,
        event_hash=None if digest is None else digest.hex(),
        proof=_b64(proof),
    )


def consistency(
    ledger: Ledger, *, size1: int, size2: int, log: MerkleLog | None = None
) -> ConsistencyProofPublic:
    log = ledger.log if log is None else log
    if not 0 < size1 <= size2:
        raise MalformedProof(f"no consistency proof from {size1} to {size2}", where="from")
    _within_log(log, size2, "to")
    proof = log.consistency_proof(size1=size1, size2=size2)
    return ConsistencyProofPublic(size1=size1, size2=size2, proof=_b64(proof))


# --- witnesses -------------------------------------------------------------------


def parse_add_checkpoint(body: bytes) -> tuple[int, list[Hash], Note]:
    """``old N``, proof lines, a blank line, the note; MalformedNote otherwise."""
    head, sep, rest = body.partition(b"\n\n")
    if not sep:
        raise MalformedNote("add-checkpoint: no blank line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise MalformedNote("add-checkpoint: the header is not ASCII") from None
    first = lines[0].split(" ")
    if len(first) != 2 or first[0] != "old" or not first[1].isdigit() or len(first[1]) > 19:
        raise MalformedNote("add-checkpoint: the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedNote("add-checkpoint: too many proof lines")
    proof: list[Hash] = []
    for line in lines[1:]:
        try:
            value = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise MalformedNote("add-checkpoint: a proof line is not base64") from None
        if len(value) != 32:
            raise MalformedNote("add-checkpoint: a proof hash is not 32 bytes")
        proof.append(Hash(value))
    return int(first[1]), proof, parse_note(rest)


def last_cosigned(ledger: Ledger, witness: str) -> int:
    rows = ledger.backend.sql.rows(
        "SELECT MAX(size) AS size FROM hoso_cosignatures WHERE witness = %s", [witness]
    )
    return 0 if not rows or rows[0]["size"] is None else int(rows[0]["size"])


def add_checkpoint(ledger: Ledger, witness: str, body: bytes) -> NoteSignature:
    """Check and store ``witness``'s cosignature; return it."""
    old, proof, note = parse_add_checkpoint(body)
    checkpoint = parse_checkpoint_text(note.text)
    ours = note_at(ledger, checkpoint.size)
    if ours.text != note.text:
        raise CheckpointUnknown("this is not the checkpoint the ledger signed", found=note.text)
    mine = [s for s in note.signatures if s.name == witness]
    if not mine:
        raise ApiError(
            f"the note carries no cosignature by {witness}",
            check="witness.no_cosignature",
            status=400,
        )
    known = last_cosigned(ledger, witness)
    if old != known:
        raise SizeMismatch(known)
    if old > checkpoint.size:
        raise MalformedProof("old size is past the checkpoint", where="old")
    if 0 < old < checkpoint.size:
        merkle.verify_consistency(
            size1=old,
            size2=checkpoint.size,
            root1=parse_checkpoint_text(note_at(ledger, old).text).root,
            root2=checkpoint.root,
            proof=proof,
        )
    elif proof:
        raise MalformedProof("no proof is due from size 0 or to the same size", where="proof")
    ledger.checkpoints.add_cosignature(size=checkpoint.size, signature=mine[-1])
    return mine[-1]


class SizeMismatch(ApiError):
    def __init__(self, known: int) -> None:
        super().__init__(
            f"the ledger's last cosignature from you is at size {known}",
            check="witness.size_mismatch",
            status=409,
            extra={"known_size": known},
        )
