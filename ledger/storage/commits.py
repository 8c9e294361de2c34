"""Committing the stream index into the log (docs/formats.md §12.3).

Before each checkpoint the ledger builds the index over the log's first ``N`` entries
(:class:`ledger.storage.index_store.IndexStore`) and appends an ``IndexCommitted`` event
on ``system/index`` — ``{root, streams, tree_size: N}``, signed by the log key — so the
checkpoint that follows covers the root, and so do the witnesses who cosign it. A commit
is **exact** when it landed at leaf ``N`` itself: then the checkpoint of size ``N + 1``
proves, for every stream, all of its events in that checkpoint. The checkpoint signer
retries until its commit is exact (other writers may append between the build and the
commit); the inexact ones stay in the log as true statements about a shorter prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.chain import next_body
from ledger.core.event import SignedEvent, parse_stored, sign_event
from ledger.core.signing import Signer
from ledger.domain.streams import (
    INDEX_COMMITTED,
    INDEX_STREAM,
    IndexCommit,
    index_commit,
    index_payload,
)
from ledger.storage.index_store import IndexStore
from ledger.storage.merkle_log import LeafNotFound, MerkleLog
from ledger.storage.store import EventStore


@dataclass(frozen=True, slots=True)
class Commit:
    """An ``IndexCommitted`` event, what it says, and its leaf (None: not integrated yet)."""

    event: SignedEvent
    payload: IndexCommit
    leaf: int | None

    @property
    def exact(self) -> bool:
        """It landed at the very size it covers: nothing lies between."""
        return self.leaf is not None and self.leaf == self.payload.tree_size


def exact_commit_at(log: MerkleLog, size: int) -> Commit | None:
    """The exact commit a checkpoint of ``size`` ends with (its last leaf), if any."""
    if size < 1:
        return None
    try:
        record = log.leaf_record(size - 1)
    except LeafNotFound:
        return None
    event = parse_stored(record)
    if event.body.stream != INDEX_STREAM:
        return None
    commit = Commit(event, index_commit(event.body), size - 1)
    return commit if commit.exact else None


class IndexCommits:
    def __init__(self, store: EventStore, log: MerkleLog) -> None:
        self.store = store
        self.log = log
        self.index = IndexStore(store.backend)

    def latest(self) -> Commit | None:
        """The last ``IndexCommitted`` event of the ledger."""
        head = self.store.head(INDEX_STREAM)
        return None if head is None else self._commit(head)

    def at(self, n: int) -> Commit:
        return self._commit(self.store.stored_event(INDEX_STREAM, n))

    def exact_at(self, size: int) -> Commit | None:
        return exact_commit_at(self.log, size)

    def commit(self, signer: Signer, *, now_us: int) -> Commit:
        """Build the index over the integrated log and append its commit (not integrated)."""
        size = self.log.size()
        self.index.wait_for_follower(size)
        built = self.index.build(end=size)
        payload = IndexCommit(size, built.root.hash, built.streams)
        body = next_body(
            self.store.head(INDEX_STREAM),
            origin=self.store.origin,
            stream=INDEX_STREAM,
            event_type=INDEX_COMMITTED,
            actor=self.store.origin,
            time_us=now_us,
            payload=index_payload(payload),
        )
        event = sign_event(body, [signer])
        self.store.append([event.record])
        return Commit(event, payload, None)

    def _commit(self, event: SignedEvent) -> Commit:
        try:
            leaf: int | None = self.log.leaf_index(event.event_hash)
        except LeafNotFound:
            leaf = None
        return Commit(event, index_commit(event.body), leaf)
