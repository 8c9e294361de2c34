"""The global RFC 9162 Merkle log, persisted as perfect-subtree nodes.

A follower of eventsourcing's notification log integrates every stored record
as a leaf, in notification order. Each page is one transaction that writes the
new nodes, the leaf index rows and the tracking position together, so a crash
loses nothing and repeats nothing (the tracking row refuses a replayed
position). Notification-id gaps are harmless: leaves are numbered by count,
not by id.

Only perfect subtrees are stored (``hoso_nodes``, 2n rows for n leaves); any
root, inclusion proof or consistency proof at any size is one indexed lookup
of at most 2·log2(n) nodes (docs/storage.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack
from eventsourcing.persistence import Tracking

from ledger.core import merkle, tiles
from ledger.core.errors import MalformedProof, NotFoundError
from ledger.core.hashing import EventHash, Hash, event_hash, leaf_hash
from ledger.storage.database import Backend
from ledger.storage.sql import node_key

TRACKING_NAME = "hoso-merkle"
DEFAULT_PAGE = 10_000

_NODES_ANY = "SELECT node_id, hash FROM hoso_nodes WHERE node_id = ANY(%s::bigint[])"
_NODE_COLUMNS = ("node_id", "hash")
_NODE_TYPES = ("int8", "bytea")
_LEAF_COLUMNS = ("leaf_index", "notification_id", "event_hash", "stream", "n")
_LEAF_TYPES = ("int8", "int8", "bytea", "text", "int8")


class LeafNotFound(NotFoundError):
    """No integrated leaf has this index or event hash (yet)."""

    check = "merkle.leaf_unknown"


class MerkleLog:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.sql = backend.sql

    # --- reads ------------------------------------------------------------

    def size(self) -> int:
        rows = self.sql.rows("SELECT MAX(leaf_index) AS last FROM hoso_leaves")
        last = rows[0]["last"] if rows else None
        return 0 if last is None else int(last) + 1

    def get_nodes(self, nodes: Sequence[merkle.NodeID]) -> list[Hash]:
        if not nodes:
            return []
        keys = [node_key(n.level, n.index) for n in nodes]
        params: list[Any]
        if self.sql.dialect == "postgresql":  # one statement text for any count: prepared once
            query, params = _NODES_ANY, [keys]
        else:
            marks = self.sql.in_list(len(keys))
            query, params = f"SELECT node_id, hash FROM hoso_nodes WHERE node_id IN ({marks})", keys
        rows = self.sql.rows(query, params)
        found = {int(r["node_id"]): Hash(bytes(r["hash"])) for r in rows}
        missing = [n for n, k in zip(nodes, keys, strict=True) if k not in found]
        if missing:
            raise MalformedProof(f"tree nodes not integrated yet: {missing[:3]}")
        return [found[k] for k in keys]

    def root(self, size: int | None = None) -> Hash:
        return merkle.root_at(size=self.size() if size is None else size, get_nodes=self.get_nodes)

    def inclusion_proof(self, *, index: int, size: int) -> list[Hash]:
        return merkle.inclusion_proof(index=index, size=size, get_nodes=self.get_nodes)

    def consistency_proof(self, *, size1: int, size2: int) -> list[Hash]:
        return merkle.consistency_proof(size1=size1, size2=size2, get_nodes=self.get_nodes)

    def leaf_index(self, digest: bytes) -> int:
        rows = self.sql.rows("SELECT leaf_index FROM hoso_leaves WHERE event_hash = %s", [digest])
        if not rows:
            raise LeafNotFound("no integrated event has this hash", found=digest)
        return int(rows[0]["leaf_index"])

    def leaf_record(self, index: int) -> bytes:
        rows = self.sql.rows(
            "SELECT e.state FROM hoso_leaves l JOIN hoso_events e"
            " ON e.originator_id = l.stream AND e.originator_version = l.n"
            " WHERE l.leaf_index = %s",
            [index],
        )
        if not rows:
            raise LeafNotFound(f"no leaf {index}", where=f"leaf {index}")
        return bytes(rows[0]["state"])

    def position(self) -> int:
        return int(self.backend.tracking.max_tracking_id(TRACKING_NAME) or 0)

    # --- integration --------------------------------------------------------

    def integrate(self, *, page: int = DEFAULT_PAGE, limit: int | None = None) -> int:
        """Integrate committed events as leaves; return how many were added."""
        added = 0
        size = self.size()
        peaks = self.get_nodes(merkle.perfect_decomposition(begin=0, end=size))
        compact = merkle.CompactRange.from_state(size=size, hashes=peaks)
        while limit is None or added < limit:
            want = page if limit is None else min(page, limit - added)
            notes = self.backend.recorder.select_notifications(
                start=self.position() + 1, limit=want
            )
            if not notes:
                break
            self._integrate_page(compact, notes)
            added += len(notes)
        return added

    def _integrate_page(self, compact: merkle.CompactRange, notes: Sequence[Any]) -> None:
        nodes: list[tuple[int, bytes]] = []
        leaves: list[tuple[int, int, bytes, str, int]] = []

        def visit(node: merkle.NodeID, digest: Hash) -> None:
            nodes.append((node_key(node.level, node.index), digest))

        start = compact.size
        for offset, note in enumerate(notes):
            compact.append(leaf_hash(note.state), visit=visit)
            leaves.append(
                (
                    start + offset,
                    note.id,
                    _record_event_hash(note.state),
                    str(note.originator_id),
                    note.originator_version,
                )
            )
        with self.sql.transaction() as curs:
            curs.insert_many("hoso_nodes", _NODE_COLUMNS, _NODE_TYPES, nodes)
            curs.insert_many("hoso_leaves", _LEAF_COLUMNS, _LEAF_TYPES, leaves)
            self.backend.tracking._insert_tracking(  # the library's in-transaction hook
                curs.raw, Tracking(application_name=TRACKING_NAME, notification_id=notes[-1].id)
            )


def _record_event_hash(record: bytes) -> EventHash:
    """The event hash of a stored record (already checked at append): hash its body bytes."""
    body: bytes = msgpack.unpackb(record, raw=False)["body"]
    return event_hash(body)


def tile_bytes(log: MerkleLog, tile: tiles.Tile) -> bytes:
    """A C2SP hash tile, read from the stored perfect nodes (docs/formats.md §14)."""
    return tiles.encode_tile(log.get_nodes(tile.nodes()))


def bundle_bytes(log: MerkleLog, bundle: tiles.Bundle) -> bytes:
    """A C2SP entry bundle: the signed records of its leaves, uint16 length-prefixed."""
    leaves = bundle.leaves()
    rows = log.sql.rows(
        "SELECT l.leaf_index, e.state FROM hoso_leaves l JOIN hoso_events e"
        " ON e.originator_id = l.stream AND e.originator_version = l.n"
        " WHERE l.leaf_index >= %s AND l.leaf_index < %s ORDER BY l.leaf_index",
        [leaves.start, leaves.stop],
    )
    if [int(r["leaf_index"]) for r in rows] != list(leaves):
        raise LeafNotFound(
            "the leaves of this entry bundle are not all integrated",
            where=bundle.path(),
            expected=len(leaves),
            found=len(rows),
        )
    return tiles.encode_bundle([bytes(r["state"]) for r in rows])
