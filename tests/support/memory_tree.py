"""An in-memory Merkle tree over the pure core's planners, for tests and benchmarks
(kept out of the library, like transparency-dev's ``testonly``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.core.errors import MalformedProof
from ledger.core.hashing import Hash
from ledger.core.merkle import CompactRange, NodeID, consistency_proof, inclusion_proof, root_at


class MemoryTree:
    """Every perfect node of a growing tree, in memory: ``levels[level][index]``.

    The reference node store for tests and benchmarks; persistent storage
    (:class:`ledger.storage.merkle_log.MerkleLog`) keeps the same nodes (each one
    :class:`CompactRange` visits) in a table.
    """

    __slots__ = ("_compact", "_levels")

    def __init__(self, leaf_hashes: Iterable[Hash] = ()) -> None:
        self._compact = CompactRange()
        self._levels: list[list[Hash]] = []
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return self._compact.size

    def append(self, leaf_hash: Hash) -> int:
        """Add one leaf; return its index."""
        index = self._compact.size
        self._compact.append(leaf_hash, self._store)
        return index

    def extend(self, leaf_hashes: Iterable[Hash]) -> None:
        self._compact.extend(leaf_hashes, self._store)

    def get_nodes(self, nodes: Sequence[NodeID]) -> list[Hash]:
        """The stored hashes of ``nodes`` (a :data:`GetNodes`)."""
        for level, index in nodes:
            if not (0 <= level < len(self._levels) and 0 <= index < len(self._levels[level])):
                raise MalformedProof(
                    f"node {(level, index)} is not stored", where=f"tree of size {self.size}"
                )
        return [self._levels[level][index] for level, index in nodes]

    def root(self, size: int | None = None) -> Hash:
        """The root at ``size`` (default: now)."""
        if size is None:
            return self._compact.root()
        self._check_size(size)
        return root_at(size=size, get_nodes=self.get_nodes)

    def inclusion_proof(self, *, index: int, size: int | None = None) -> list[Hash]:
        size = self.size if size is None else size
        self._check_size(size)
        return inclusion_proof(index=index, size=size, get_nodes=self.get_nodes)

    def consistency_proof(self, *, size1: int, size2: int | None = None) -> list[Hash]:
        size2 = self.size if size2 is None else size2
        self._check_size(size2)
        return consistency_proof(size1=size1, size2=size2, get_nodes=self.get_nodes)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise MalformedProof(f"size {size} outside 0..{self.size}", where="memory tree")

    def _store(self, node: NodeID, value: Hash) -> None:
        if node.level == len(self._levels):
            self._levels.append([])
        self._levels[node.level].append(value)
