"""Signed checkpoints over the integrated tree, and witness cosignatures.

The ledger signs a C2SP checkpoint (origin, size, root) on demand or
periodically, and keeps every one it issued. With the event store at hand, every
checkpoint first commits the stream index (:mod:`ledger.storage.commits`) and ends
right after an exact commit, so it proves each stream's whole history up to it.
Before signing it checks the new tree is consistent with the last checkpoint stored,
and, given a :class:`~ledger.storage.signer_state.SignerMemory`, with the last one the
log key signed as remembered outside the database (a consistency proof out of the
stored tree; ``checkpoint.fork_refused`` otherwise), so a rolled-back or rewritten
database can't make it sign a fork.
A witness's cosignature is accepted only if it verifies under the witness's
configured key and the witness's previous cosigned checkpoint is consistent
with this one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.core import merkle
from ledger.core.checkpoint import (
    AnyCosignatureVerifier,
    Checkpoint,
    parse_checkpoint_text,
    sign_checkpoint,
)
from ledger.core.errors import (
    ConsistencyProofFailed,
    MalformedProof,
    NotFoundError,
    OutOfServiceError,
    StateConflict,
    VerificationError,
)
from ledger.core.note import Ed25519NoteSigner, Note, NoteSignature, parse_note
from ledger.storage.commits import IndexCommits
from ledger.storage.errors import StreamConflict
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.signer_state import ForkRefused, SignerMemory

COMMIT_ATTEMPTS = 10


class CheckpointUnknown(NotFoundError):
    check = "checkpoint.unknown"


class LogKeyMissing(OutOfServiceError):
    check = "checkpoint.no_log_key"


class WitnessUnknown(VerificationError):
    check = "cosignature.unknown_witness"


class IndexCommitRaced(StateConflict):
    """Other writers kept appending between the index build and its commit."""

    check = "checkpoint.index_race"


class Checkpoints:
    def __init__(
        self,
        log: MerkleLog,
        *,
        signer: Ed25519NoteSigner | None,
        witnesses: Sequence[AnyCosignatureVerifier] = (),
        commits: IndexCommits | None = None,
        memory: SignerMemory | None = None,
    ) -> None:
        """``signer`` is the log key; without it the checkpoints are read-only. With
        ``commits`` every checkpoint commits the stream index first; with ``memory``
        the signer refuses any tree not consistent with the last checkpoint it signed."""
        self.log = log
        self.sql = log.sql
        self.signer = signer
        self.witnesses = {w.name: w for w in witnesses}
        self.commits = commits
        self.memory = memory

    def log_key(self) -> Ed25519NoteSigner:
        """The log key (``checkpoint.no_log_key`` when none is loaded)."""
        if self.signer is None:
            raise LogKeyMissing("no log key is loaded: open the keystore to sign checkpoints")
        return self.signer

    def sign(self, *, now_us: int) -> Note:
        """Sign a checkpoint: after an exact index commit when the index is kept, else at
        the integrated size (or return the one already signed at that size)."""
        signer = self.log_key()
        self._check_remembered(self.log.size())  # before the index commit signs anything
        size = self.log.size() if self.commits is None else self._commit_index(signer, now_us)
        if self.memory is None:
            return self._sign_at(size, signer, now_us)
        with self.memory.step():
            return self._sign_at(size, signer, now_us)

    def _commit_index(self, signer: Ed25519NoteSigner, now_us: int) -> int:
        """Integrate, commit the index, integrate; the size of the checkpoint that ends
        with the exact commit."""
        commits = self.commits
        if commits is None:
            raise LogKeyMissing("no event store to commit the index with")
        for _ in range(COMMIT_ATTEMPTS):
            self.log.integrate()
            size = self.log.size()
            if commits.exact_at(size) is not None:
                return size  # nothing since the last exact commit
            try:
                commit = commits.commit(signer.signer, now_us=now_us)
            except StreamConflict:
                continue  # another signer committed meanwhile
            self.log.integrate()
            leaf = self.log.leaf_index(commit.event.event_hash)
            if leaf == commit.payload.tree_size:
                return leaf + 1
        raise IndexCommitRaced(
            f"no exact index commit in {COMMIT_ATTEMPTS} attempts", found=self.log.size()
        )

    def _check_remembered(self, size: int, root: bytes | None = None) -> None:
        """Refuse (``checkpoint.fork_refused``) a tree of ``size`` (and ``root``, default the
        stored tree's) not proven consistent with the last checkpoint the signer
        remembers: a consistency proof from it, out of the stored tree."""
        if self.memory is None:
            return
        last = self.memory.last()
        if last is None or last.size == 0:
            return
        where = f"signer state {self.memory.path}"
        if last.size > size:
            raise ForkRefused(
                "the tree is smaller than the last checkpoint this log key signed",
                where=where,
                expected=last.size,
                found=size,
            )
        new_root = self.log.root(size) if root is None else root
        proof = [] if last.size == size else self.log.consistency_proof(size1=last.size, size2=size)
        try:
            merkle.verify_consistency(
                size1=last.size, size2=size, root1=last.root, root2=new_root, proof=proof
            )
        except (ConsistencyProofFailed, MalformedProof) as err:
            raise ForkRefused(
                f"the tree is not consistent with the last checkpoint this log key signed"
                f" (size {last.size}): {err.detail}",
                where=where,
                expected=last.root,
                found=new_root,
            ) from err

    def _sign_at(self, size: int, signer: Ed25519NoteSigner, now_us: int) -> Note:
        existing = self.note_at(size)
        if existing is not None:
            return existing
        checkpoint = Checkpoint(origin=signer.name, size=size, root=self.log.root(size))
        self._check_remembered(size, checkpoint.root)
        last = self.latest()
        if last is not None and last[0].size > 0:
            previous = last[0]
            proof = self.log.consistency_proof(size1=previous.size, size2=size)
            merkle.verify_consistency(
                size1=previous.size,
                size2=size,
                root1=previous.root,
                root2=checkpoint.root,
                proof=proof,
            )
        note = sign_checkpoint(checkpoint, signer)
        if self.memory is not None:
            self.memory.remember(note)  # durable before anyone can see the note
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_checkpoints (size, root, note, signed_us)"
                " VALUES (%s, %s, %s, %s)",
                [size, checkpoint.root, note.serialise(), now_us],
            )
        return note

    def latest(self) -> tuple[Checkpoint, Note] | None:
        rows = self.sql.rows("SELECT MAX(size) AS size FROM hoso_checkpoints")
        if not rows or rows[0]["size"] is None:
            return None
        note = self.stored_note(int(rows[0]["size"]))
        return parse_checkpoint_text(note.text), note

    def latest_version(self) -> tuple[int, int] | None:
        """(size, cosignatures) of the latest signed checkpoint, in one query; None if none."""
        rows = self.sql.rows(
            "SELECT c.size AS size, (SELECT COUNT(*) FROM hoso_cosignatures s"
            " WHERE s.size = c.size) AS cosignatures FROM hoso_checkpoints c"
            " ORDER BY c.size DESC LIMIT 1"
        )
        if not rows:
            return None
        return int(rows[0]["size"]), int(rows[0]["cosignatures"])

    def stored_note(self, size: int) -> Note:
        """The signed checkpoint at ``size`` with its cosignatures (``checkpoint.unknown``
        if the ledger never signed one of this size)."""
        note = self.note_at(size)
        if note is None:
            raise CheckpointUnknown("the ledger never signed a checkpoint of this size", found=size)
        return note

    def note_at(self, size: int) -> Note | None:
        """The signed checkpoint at ``size`` with every accepted cosignature, or None."""
        rows = self.sql.rows("SELECT note FROM hoso_checkpoints WHERE size = %s", [size])
        if not rows:
            return None
        note = parse_note(bytes(rows[0]["note"]))
        cosigs = self.sql.rows(
            "SELECT line FROM hoso_cosignatures WHERE size = %s ORDER BY witness", [size]
        )
        lines = [parse_note(f"{note.text}\n{r['line']}\n".encode()).signatures[0] for r in cosigs]
        return note.with_signatures(lines)

    def last_cosigned(self, witness: str) -> int:
        """The largest size ``witness`` cosigned that the ledger stored (0 if none)."""
        rows = self.sql.rows(
            "SELECT MAX(size) AS size FROM hoso_cosignatures WHERE witness = %s", [witness]
        )
        return 0 if not rows or rows[0]["size"] is None else int(rows[0]["size"])

    def add_cosignature(self, *, size: int, signature: NoteSignature) -> Note:
        """Verify and store a witness's cosignature of the checkpoint at ``size``."""
        witness = self.witnesses.get(signature.name)
        if witness is None or witness.key_id != signature.key_id:
            raise WitnessUnknown(
                "cosignature by a witness this ledger does not know", found=signature.name
            )
        note = self.stored_note(size)
        witness.verify(note.text, signature.signature)
        checkpoint = parse_checkpoint_text(note.text)
        previous = self.sql.rows(
            "SELECT MAX(size) AS size FROM hoso_cosignatures WHERE witness = %s AND size < %s",
            [witness.name, size],
        )
        if previous and previous[0]["size"] is not None and int(previous[0]["size"]) > 0:
            old_size = int(previous[0]["size"])
            old = self.stored_note(old_size)
            merkle.verify_consistency(
                size1=old_size,
                size2=size,
                root1=parse_checkpoint_text(old.text).root,
                root2=checkpoint.root,
                proof=self.log.consistency_proof(size1=old_size, size2=size),
            )
        timestamp = witness.timestamp(signature.signature)
        line = signature.line().rstrip("\n")
        with self.sql.transaction() as curs:
            curs.execute(
                "DELETE FROM hoso_cosignatures WHERE size = %s AND witness = %s",
                [size, witness.name],
            )
            curs.execute(
                "INSERT INTO hoso_cosignatures (size, witness, line, timestamp)"
                " VALUES (%s, %s, %s, %s)",
                [size, witness.name, line, timestamp],
            )
        return self.stored_note(size)
