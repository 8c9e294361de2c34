"""Index proofs from a stored ledger (docs/formats.md §12.4): a stream's state at the latest
checkpoint, proven by the index commit that ends it.

Nothing here is trusted by whoever checks the proof (:func:`verify.evidence.verify_index_proof`):
the commit's inclusion proof, its log-key signature and the lookup proof are all checked
against the signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.core.errors import NotFoundError
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import Commit, exact_commit_at
from ledger.storage.database import Backend
from ledger.storage.index_store import IndexStore
from ledger.storage.merkle_log import MerkleLog
from verify.evidence import Entry, Evidence, IndexProofDocument, StreamProof


class IndexNotCommitted(NotFoundError):
    """No checkpoint ending with an index commit yet (sign a checkpoint)."""

    check = "index.not_committed"


def index_evidence(
    backend: Backend, log: MerkleLog, commit: Commit, streams: list[str], size: int
) -> Evidence:
    """The commit entry (with its inclusion proof) and lookup proofs of ``streams``."""
    if commit.leaf is None:
        raise IndexNotCommitted("the index commit is not integrated yet")
    index = IndexStore(backend)
    version = commit.payload.tree_size
    entry = Entry(
        commit.leaf,
        log.leaf_record(commit.leaf),
        tuple(log.inclusion_proof(index=commit.leaf, size=size)),
    )
    return Evidence(entry, tuple(StreamProof(s, index.prove(s, version=version)) for s in streams))


def index_proof(backend: Backend, streams: Sequence[str]) -> IndexProofDocument:
    """The index proof of ``streams`` at the latest checkpoint, with the cosignatures the
    ledger has for it. The latest, not the latest cosigned: a revocation the log key has
    signed is shown at once (the log can't take it back), and the proof's cosignatures
    say how many witnesses vouch for it yet (the checker reports that freshness)."""
    log = MerkleLog(backend)
    latest = Checkpoints(log, signer=None).latest()
    commit = None if latest is None else exact_commit_at(log, latest[0].size)
    if latest is None or commit is None:
        raise IndexNotCommitted(
            "the latest checkpoint does not end with an index commit: sign a new checkpoint"
        )
    checkpoint, note = latest
    evidence = index_evidence(backend, log, commit, list(streams), checkpoint.size)
    return IndexProofDocument(checkpoint.origin, note.serialise(), evidence)
