"""The append-only Merkle tree of the ledger: RFC 9162 §2.1 (Certificate Transparency v2).

Follows RFC 9162 §2.1.1 (the Merkle Tree Hash, MTH), §2.1.2 (how the tree grows),
§2.1.3 (inclusion proofs: generation §2.1.3.1, verification §2.1.3.2) and §2.1.4
(consistency proofs: generation §2.1.4.1, verification §2.1.4.2). Leaf and node
hashes are those of :mod:`ledger.core.hashing`; the format is written up in
docs/merkle.md. Edge cases match transparency-dev/merkle's ``proof`` package
(commit 417fb0c3), whose probe vectors are in tests/vectors/.

Three layers, kept apart:

* *plans* say which perfect subtrees (:class:`NodeID`) make up a root or a
  proof, so storage keeps only perfect nodes and serves any proof at any size
  with one batched lookup (``get_nodes``);
* *compute* functions rebuild roots from proofs (``root_from_*``);
* *verify* functions compare and raise (``verify_*``), never return a bool.

Malformed input (index or sizes out of range, wrong proof length, hashes that
are not 32 bytes) raises :class:`~ledger.core.errors.MalformedProof`; a
well-formed proof that does not rebuild the trusted root raises
:class:`~ledger.core.errors.InclusionProofFailed` or
:class:`~ledger.core.errors.ConsistencyProofFailed` with ``expected`` and
``found`` hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, TypeAlias

from ledger.core.errors import ConsistencyProofFailed, InclusionProofFailed, MalformedProof
from ledger.core.hashing import EMPTY_ROOT, HASH_SIZE, Hash, node_hash


class NodeID(NamedTuple):
    """The perfect subtree covering leaves [index·2^level, (index+1)·2^level)."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, on purpose

    def coverage(self) -> tuple[int, int]:
        """The leaf range [begin, end) under this node."""
        return self.index << self.level, (self.index + 1) << self.level


GetNodes: TypeAlias = Callable[[Sequence[NodeID]], Sequence[Hash]]
"""Storage lookup: the hashes of the given perfect nodes, in the same order."""

Visit: TypeAlias = Callable[[NodeID, Hash], None]
"""Called with each perfect node (and its hash) as it becomes complete."""

Plan: TypeAlias = list[list[NodeID]]
"""One entry per proof element: the perfect nodes to fold right-to-left."""


# --- plans -----------------------------------------------------------------


def perfect_decomposition(*, begin: int, end: int) -> list[NodeID]:
    """The perfect subtrees covering leaves [begin, end), left to right.

    Left-greedy: each node is the largest one aligned at the current position
    that fits. For every range the RFC 9162 recursion produces (a subtree
    [begin, end) whose ``begin`` is a multiple of the first power of two ≥ its
    size) this is exactly how the recursion splits it, so folding the nodes
    right-to-left gives the subtree's MTH.
    """
    if begin < 0 or end < begin:
        raise MalformedProof(f"bad leaf range [{begin}, {end})")
    nodes: list[NodeID] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, _trailing_zeros(begin))
        nodes.append(NodeID(level, begin >> level))
        begin += 1 << level
    return nodes


def inclusion_proof_plan(*, index: int, size: int) -> Plan:
    """The plan of PATH(index, D[size]) (RFC 9162 §2.1.3.1), bottom-up."""
    _check_index(index=index, size=size)
    return [perfect_decomposition(begin=b, end=e) for b, e in _path_ranges(index, size)]


def consistency_proof_plan(*, size1: int, size2: int) -> Plan:
    """The plan of PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1); requires 0 < size1 ≤ size2."""
    _check_sizes(size1=size1, size2=size2)
    return [perfect_decomposition(begin=b, end=e) for b, e in _subproof_ranges(size1, size2)]


def _path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges of the PATH elements, bottom-up."""
    ranges: list[tuple[int, int]] = []
    begin, end = 0, size
    while end - begin > 1:
        mid = begin + _split(end - begin)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((begin, mid))
            begin = mid
    ranges.reverse()
    return ranges


def _subproof_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges of the SUBPROOF(size1, D[size2], true) elements, bottom-up."""
    ranges: list[tuple[int, int]] = []
    begin, end, whole = 0, size2, True
    while size1 < end:
        mid = begin + _split(end - begin)
        if size1 <= mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((begin, mid))
            begin, whole = mid, False
    if not whole:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


# --- roots and proofs from stored nodes --------------------------------------


def root_from_leaves(leaf_hashes: Sequence[Hash]) -> Hash:
    """MTH over the given leaf hashes (RFC 9162 §2.1.1); empty gives EMPTY_ROOT."""
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


def root_at(*, size: int, get_nodes: GetNodes) -> Hash:
    """The root of the tree's first ``size`` leaves, from stored perfect nodes."""
    if size < 0:
        raise MalformedProof(f"negative tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    (root,) = _serve([perfect_decomposition(begin=0, end=size)], get_nodes)
    return root


def inclusion_proof(*, index: int, size: int, get_nodes: GetNodes) -> list[Hash]:
    """PATH(index, D[size]) from stored perfect nodes, with one ``get_nodes`` call."""
    return _serve(inclusion_proof_plan(index=index, size=size), get_nodes)


def consistency_proof(*, size1: int, size2: int, get_nodes: GetNodes) -> list[Hash]:
    """PROOF(size1, D[size2]) from stored perfect nodes, with one ``get_nodes`` call."""
    return _serve(consistency_proof_plan(size1=size1, size2=size2), get_nodes)


def _serve(plan: Plan, get_nodes: GetNodes) -> list[Hash]:
    """Look up every node of the plan at once (if any), then fold each element."""
    wanted = list(dict.fromkeys(node for element in plan for node in element))
    if not wanted:
        return []
    found = get_nodes(wanted)
    if len(found) != len(wanted):
        raise MalformedProof(f"get_nodes returned {len(found)} hashes for {len(wanted)} nodes")
    hashes = dict(zip(wanted, found, strict=True))
    for node, value in hashes.items():
        _check_hash(value, what=f"stored node {tuple(node)}", where="get_nodes")
    return [_fold([hashes[node] for node in element]) for element in plan]


def _fold(hashes: Sequence[Hash]) -> Hash:
    """node(h1, node(h2, ... node(h[n-1], h[n]))): the subtree over adjacent perfect nodes."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


# --- inclusion verification (RFC 9162 §2.1.3.2) --------------------------------


def root_from_inclusion_proof(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> Hash:
    """The root that ``proof`` gives for ``leaf_hash`` at ``index`` in a tree of ``size``."""
    where = f"leaf {index} of {size}"
    _check_index(index=index, size=size, where=where)
    _check_hash(leaf_hash, what="leaf hash", where=where)
    _check_proof(proof, want=_inclusion_proof_length(index, size), where=where)
    fn, sn = index, size - 1
    r = Hash(bytes(leaf_hash))
    for p in proof:
        if sn == 0:
            raise MalformedProof("proof is too long", where=where)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise MalformedProof("proof is too short", where=where)
    return r


def verify_inclusion(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless ``proof`` puts ``leaf_hash`` at ``index`` in the tree (``size``, ``root``)."""
    where = f"leaf {index} of {size}"
    computed = root_from_inclusion_proof(index=index, size=size, leaf_hash=leaf_hash, proof=proof)
    _check_hash(root, what="root", where=where)
    if computed != root:
        raise InclusionProofFailed(
            "the proof does not rebuild the trusted root",
            where=where,
            expected=bytes(root),
            found=computed,
        )


def _inclusion_proof_length(index: int, size: int) -> int:
    """Length of PATH(index, D[size]): levels below the fork, plus left border nodes above."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


# --- consistency verification (RFC 9162 §2.1.4.2) ------------------------------


def roots_from_consistency_proof(
    *, size1: int, size2: int, root1: bytes, proof: Sequence[bytes]
) -> tuple[Hash, Hash]:
    """The (first, second) roots ``proof`` rebuilds from ``root1``; requires 0 < size1 ≤ size2.

    With ``size1 == size2`` the proof must be empty and both roots are ``root1``,
    taken as given (compared, never parsed, like transparency-dev/merkle).
    """
    where = f"sizes {size1}→{size2}"
    _check_sizes(size1=size1, size2=size2, where=where)
    if size1 == size2:
        if proof:
            raise MalformedProof("equal sizes need an empty proof", where=where)
        return Hash(bytes(root1)), Hash(bytes(root1))
    _check_hash(root1, what="root1", where=where)
    _check_proof(proof, want=len(_subproof_ranges(size1, size2)), where=where)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root starts the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = Hash(bytes(path[0]))
    for c in path[1:]:
        if sn == 0:
            raise MalformedProof("proof is too long", where=where)
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise MalformedProof("proof is too short", where=where)
    return fr, sr


def verify_consistency(
    *, size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Raise unless ``proof`` shows the tree (size1, root1) is a prefix of (size2, root2)."""
    where = f"sizes {size1}→{size2}"
    first, second = roots_from_consistency_proof(size1=size1, size2=size2, root1=root1, proof=proof)
    if size1 == size2:
        if root1 != root2:
            raise ConsistencyProofFailed(
                "equal sizes with different roots", where=where, expected=root1, found=root2
            )
        return
    _check_hash(root2, what="root2", where=where)
    if first != root1:
        raise ConsistencyProofFailed(
            "the proof does not rebuild root1", where=where, expected=bytes(root1), found=first
        )
    if second != root2:
        raise ConsistencyProofFailed(
            "the proof does not rebuild root2", where=where, expected=bytes(root2), found=second
        )


# --- shape checks ----------------------------------------------------------


def _check_index(*, index: int, size: int, where: str | None = None) -> None:
    if not 0 <= index < size:
        raise MalformedProof(f"leaf index {index} outside a tree of size {size}", where=where)


def _check_sizes(*, size1: int, size2: int, where: str | None = None) -> None:
    if size1 <= 0:
        raise MalformedProof(f"no consistency proof from size {size1}", where=where)
    if size2 < size1:
        raise MalformedProof(f"size2 {size2} is smaller than size1 {size1}", where=where)


def _check_hash(value: object, *, what: str, where: str | None) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes) else type(value).__name__
        raise MalformedProof(f"{what} is {size} bytes, expected {HASH_SIZE}", where=where)


def _check_proof(proof: Sequence[bytes], *, want: int, where: str) -> None:
    if len(proof) != want:
        raise MalformedProof(f"proof has {len(proof)} hashes, expected {want}", where=where)
    for i, element in enumerate(proof):
        _check_hash(element, what=f"proof[{i}]", where=where)


# --- compact range -----------------------------------------------------------


class CompactState(NamedTuple):
    """What a persisted tree needs to resume appending: its size and perfect peaks."""

    size: int
    hashes: tuple[Hash, ...]


class CompactRange:
    """The O(log n) state of the tree over leaves [0, size): its perfect peaks.

    ``hashes`` are the roots of :func:`perfect_decomposition` ``(0, size)``,
    left to right (one per set bit of ``size``, largest first).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[Hash] = []

    @classmethod
    def from_state(cls, *, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resume from a persisted :class:`CompactState`; MalformedProof if it can't be one."""
        where = f"compact range of size {size}"
        if size < 0:
            raise MalformedProof("negative size", where=where)
        if len(hashes) != size.bit_count():
            raise MalformedProof(f"{len(hashes)} peaks, expected {size.bit_count()}", where=where)
        for i, value in enumerate(hashes):
            _check_hash(value, what=f"peak {i}", where=where)
        compact = cls()
        compact._size = size
        compact._hashes = [Hash(bytes(h)) for h in hashes]
        return compact

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[Hash, ...]:
        return tuple(self._hashes)

    def state(self) -> CompactState:
        return CompactState(size=self._size, hashes=tuple(self._hashes))

    def append(self, leaf_hash: Hash, visit: Visit | None = None) -> None:
        """Add one leaf; ``visit`` sees the leaf node, then each perfect node it completes."""
        _check_hash(leaf_hash, what="leaf hash", where=f"leaf {self._size}")
        node, value = NodeID(0, self._size), leaf_hash
        if visit is not None:
            visit(node, value)
        while node.index & 1:
            value = node_hash(self._hashes.pop(), value)
            node = NodeID(node.level + 1, node.index >> 1)
            if visit is not None:
                visit(node, value)
        self._hashes.append(value)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[Hash], visit: Visit | None = None) -> None:
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash, visit)

    def root(self) -> Hash:
        """MTH of the leaves so far: the peaks folded right-to-left."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT
