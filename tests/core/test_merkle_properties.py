"""ledger.core.merkle against a naive reference written from the RFC 9162 text.

The reference (``ref_*``) follows RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH),
§2.1.4.1 (PROOF / SUBPROOF) and the verification steps of §2.1.3.2 / §2.1.4.2
literally, on lists of entries, with hashlib only. It is slow and only for tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.errors import (
    ConsistencyProofFailed,
    HosoError,
    InclusionProofFailed,
    MalformedProof,
)
from ledger.core.hashing import EMPTY_ROOT, Hash, leaf_hash
from ledger.core.merkle import (
    CompactRange,
    NodeID,
    consistency_proof,
    consistency_proof_plan,
    inclusion_proof,
    inclusion_proof_plan,
    perfect_decomposition,
    root_from_inclusion_proof,
    root_from_leaves,
    roots_from_consistency_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.support.memory_tree import MemoryTree

MAX = 300
ENTRIES = [f"entry {i}".encode() for i in range(MAX)]
LEAVES = [leaf_hash(e) for e in ENTRIES]

SETTINGS = settings(max_examples=200, deadline=None)

# --- reference, from the RFC text ----------------------------------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1."""
    n = len(d)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + d[0])
    k = _k(n)
    return _sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1."""
    return ref_subproof(m, d, True)


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right)


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn & 1 == 0 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def ref_verify_inclusion(
    index: int, size: int, hash_: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:  # 1.
        return False
    fn, sn = index, size - 1  # 2.
    r = hash_  # 3.
    for p in path:  # 4.
        if sn == 0:  # 4a.
            return False
        if fn & 1 or fn == sn:  # 4b.
            r = _node(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1  # 4c.
    return sn == 0 and r == root  # 5.


def ref_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, step by step, plus transparency-dev's size1 == size2 case."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_hash == second_hash
    if not path:  # 1.
        return False
    if first & (first - 1) == 0:  # 2.
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1  # 3.
    while fn & 1:  # 4.
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # 5.
    for c in path[1:]:  # 6.
        if sn == 0:  # 6a.
            return False
        if fn & 1 or fn == sn:  # 6b.
            fr, sr = _node(c, fr), _node(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c.
    return fr == first_hash and sr == second_hash and sn == 0  # 7.


@cache
def ref_root(size: int) -> bytes:
    return ref_mth(ENTRIES[:size])


@cache
def full_tree() -> MemoryTree:
    return MemoryTree(LEAVES)


def _accepts_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    try:
        verify_inclusion(index=index, size=size, leaf_hash=leaf, proof=proof, root=root)
    except HosoError:
        return False
    return True


def _accepts_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> bool:
    try:
        verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof)
    except HosoError:
        return False
    return True


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@st.composite
def index_and_size(draw: st.DrawFn, max_size: int = MAX) -> tuple[int, int]:
    size = draw(st.integers(1, max_size))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn, max_size: int = MAX) -> tuple[int, int]:
    size2 = draw(st.integers(1, max_size))
    return draw(st.integers(1, size2)), size2


# --- the reference itself, against RFC 9162 §2.1.5's example tree ------------------


def test_reference_matches_the_rfc_example() -> None:
    # The seven-leaf tree of RFC 9162 §2.1.5, with the RFC's node names.
    d = [bytes([i]) for i in range(7)]
    a, b, c, dd, e, f, j = (_sha256(b"\x00" + x) for x in d)
    g, h, i = _node(a, b), _node(c, dd), _node(e, f)
    k, l_ = _node(g, h), _node(i, j)
    assert ref_mth(d) == _node(k, l_)
    assert ref_path(0, d) == [b, h, l_]
    assert ref_path(3, d) == [c, g, l_]
    assert ref_path(4, d) == [f, j, k]
    assert ref_path(6, d) == [i, k]
    assert ref_proof(3, d) == [c, dd, g, l_]
    assert ref_proof(4, d) == [l_]
    assert ref_proof(6, d) == [i, j, k]


# --- roots ---------------------------------------------------------------------


def test_roots_at_every_size_match_the_reference() -> None:
    compact = CompactRange()
    tree = full_tree()
    assert compact.root() == EMPTY_ROOT == root_from_leaves([]) == tree.root(size=0)
    for size in range(1, MAX + 1):
        compact.append(LEAVES[size - 1])
        want = ref_root(size)
        assert compact.root() == want
        assert root_from_leaves(LEAVES[:size]) == want
        assert tree.root(size=size) == want
    assert tree.root() == ref_root(MAX)


@SETTINGS
@given(st.integers(0, MAX), st.integers(0, MAX))
def test_perfect_decomposition_covers_the_range(begin: int, end: int) -> None:
    begin, end = min(begin, end), max(begin, end)
    nodes = perfect_decomposition(begin=begin, end=end)
    at = begin
    for node in nodes:
        first, last = node.coverage()
        assert first == at
        at = last
    assert at == end
    assert len(nodes) <= 2 * (end - begin).bit_length()


def test_perfect_decomposition_rejects_bad_ranges() -> None:
    with pytest.raises(MalformedProof):
        perfect_decomposition(begin=3, end=2)
    with pytest.raises(MalformedProof):
        perfect_decomposition(begin=-1, end=2)


# --- inclusion -------------------------------------------------------------------


@SETTINGS
@given(index_and_size())
def test_inclusion_proofs_match_the_reference_and_verify(case: tuple[int, int]) -> None:
    index, size = case
    want = ref_path(index, ENTRIES[:size])
    exact = MemoryTree(LEAVES[:size])
    assert exact.inclusion_proof(index=index) == want
    proof: list[bytes] = list(full_tree().inclusion_proof(index=index, size=size))
    assert proof == want
    root = ref_root(size)
    assert ref_verify_inclusion(index, size, LEAVES[index], proof, root)
    computed = root_from_inclusion_proof(
        index=index, size=size, leaf_hash=LEAVES[index], proof=proof
    )
    assert computed == root
    verify_inclusion(index=index, size=size, leaf_hash=LEAVES[index], proof=proof, root=root)


@SETTINGS
@given(index_and_size(), st.data())
def test_inclusion_rejects_any_single_bit_flip(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    proof: list[bytes] = list(full_tree().inclusion_proof(index=index, size=size))
    leaf: bytes = LEAVES[index]
    root = ref_root(size)
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == -2:
        leaf = _flip(leaf, bit)
    elif target == -1:
        root = _flip(root, bit)
    else:
        proof[target] = _flip(proof[target], bit)
    with pytest.raises(InclusionProofFailed) as caught:
        verify_inclusion(index=index, size=size, leaf_hash=leaf, proof=proof, root=root)
    assert caught.value.where == f"leaf {index} of {size}"
    assert caught.value.expected == root
    assert caught.value.found != root


@SETTINGS
@given(index_and_size(), st.sampled_from([-1, 1, "xor2", "mul2", "div2", "size-1", "size+1"]))
def test_inclusion_with_a_wrong_index_or_size(case: tuple[int, int], mutation: object) -> None:
    index, size = case
    proof: list[bytes] = list(full_tree().inclusion_proof(index=index, size=size))
    leaf, root = LEAVES[index], ref_root(size)
    if mutation in (-1, 1, "xor2"):
        bad = index ^ 2 if mutation == "xor2" else index + int(str(mutation))
        # A different leaf position always changes the shape of the fold.
        assert not _accepts_inclusion(bad, size, leaf, proof, root)
        return
    new_size = {"mul2": size * 2, "div2": size // 2, "size-1": size - 1, "size+1": size + 1}
    bad_size = new_size[str(mutation)]
    # RFC 9162 roots do not commit to the size by themselves (a checkpoint does):
    # a wrong size is rejected exactly when the RFC's own algorithm rejects it.
    want = bad_size > index and ref_verify_inclusion(index, bad_size, leaf, proof, root)
    assert _accepts_inclusion(index, bad_size, leaf, proof, root) == want


def test_a_root_alone_does_not_bind_the_tree_size() -> None:
    # Leaf 0's proof in the tree of 3 folds exactly like one in a tree of 4.
    proof: list[bytes] = list(full_tree().inclusion_proof(index=0, size=3))
    verify_inclusion(index=0, size=4, leaf_hash=LEAVES[0], proof=proof, root=ref_root(3))


def test_inclusion_rejects_malformed_input() -> None:
    root, leaf = ref_root(5), LEAVES[2]
    proof: list[bytes] = list(full_tree().inclusion_proof(index=2, size=5))
    cases: list[tuple[int, int, bytes, list[bytes], bytes]] = [
        (-1, 5, leaf, proof, root),
        (5, 5, leaf, proof, root),
        (0, 0, leaf, [], root),
        (2, 5, leaf[:31], proof, root),
        (2, 5, leaf, proof, root + b"\x00"),
        (2, 5, leaf, proof[:-1], root),
        (2, 5, leaf, [*proof, root], root),
        (2, 5, leaf, [proof[0][:31], *proof[1:]], root),
    ]
    for index, size, leaf_, proof_, root_ in cases:
        with pytest.raises(MalformedProof):
            verify_inclusion(index=index, size=size, leaf_hash=leaf_, proof=proof_, root=root_)


# --- consistency -----------------------------------------------------------------


@SETTINGS
@given(two_sizes())
def test_consistency_proofs_match_the_reference_and_verify(sizes: tuple[int, int]) -> None:
    size1, size2 = sizes
    want = ref_proof(size1, ENTRIES[:size2])
    assert MemoryTree(LEAVES[:size2]).consistency_proof(size1=size1) == want
    proof: list[bytes] = list(full_tree().consistency_proof(size1=size1, size2=size2))
    assert proof == want
    root1, root2 = ref_root(size1), ref_root(size2)
    assert ref_verify_consistency(size1, size2, root1, root2, proof)
    roots = roots_from_consistency_proof(size1=size1, size2=size2, root1=root1, proof=proof)
    assert roots == (root1, root2)
    verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof)


@SETTINGS
@given(two_sizes(), st.data())
def test_consistency_rejects_any_single_bit_flip(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = sizes
    proof: list[bytes] = list(full_tree().consistency_proof(size1=size1, size2=size2))
    root1, root2 = ref_root(size1), ref_root(size2)
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == -2:
        root1 = _flip(root1, bit)
    elif target == -1:
        root2 = _flip(root2, bit)
    else:
        proof[target] = _flip(proof[target], bit)
    with pytest.raises(ConsistencyProofFailed) as caught:
        verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof)
    assert caught.value.where == f"sizes {size1}→{size2}"
    assert caught.value.expected != caught.value.found


@SETTINGS
@given(two_sizes(), st.sampled_from(["1-", "1+", "1^2", "2-", "2+", "2*2", "2/2"]))
def test_consistency_with_wrong_sizes(sizes: tuple[int, int], mutation: str) -> None:
    size1, size2 = sizes
    proof: list[bytes] = list(full_tree().consistency_proof(size1=size1, size2=size2))
    root1, root2 = ref_root(size1), ref_root(size2)
    bad1, bad2 = size1, size2
    match mutation:
        case "1-":
            bad1 -= 1
        case "1+":
            bad1 += 1
        case "1^2":
            bad1 ^= 2
        case "2-":
            bad2 -= 1
        case "2+":
            bad2 += 1
        case "2*2":
            bad2 *= 2
        case _:
            bad2 //= 2
    want = ref_verify_consistency(bad1, bad2, root1, root2, proof)
    assert _accepts_consistency(bad1, bad2, root1, root2, proof) == want


def test_consistency_edge_cases() -> None:
    r1, r3 = ref_root(1), ref_root(3)
    verify_consistency(size1=3, size2=3, root1=r3, root2=r3, proof=[])
    with pytest.raises(ConsistencyProofFailed):
        verify_consistency(size1=3, size2=3, root1=r3, root2=r1, proof=[])
    malformed: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (3, 3, r3, r3, [r3]),  # equal sizes need an empty proof
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, []),  # nothing is proven from the empty tree
        (0, 3, EMPTY_ROOT, r3, []),
        (3, 2, r3, r1, []),
        (1, 3, r1, r3, []),  # sizes differ: the proof can't be empty
        (1, 3, r1[:5], r3, list(full_tree().consistency_proof(size1=1, size2=3))),
        (1, 3, r1, r3[:5], list(full_tree().consistency_proof(size1=1, size2=3))),
    ]
    for size1, size2, root1, root2, proof in malformed:
        with pytest.raises(MalformedProof):
            verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof)


# --- serving proofs from perfect nodes -----------------------------------------------


@SETTINGS
@given(two_sizes(), st.integers(0, MAX - 1))
def test_get_nodes_is_called_once_per_proof(sizes: tuple[int, int], index: int) -> None:
    size1, size2 = sizes
    index %= size2
    tree = full_tree()
    calls: list[list[NodeID]] = []

    def get_nodes(nodes: Sequence[NodeID]) -> list[Hash]:
        calls.append(list(nodes))
        return tree.get_nodes(nodes)

    served = inclusion_proof(index=index, size=size2, get_nodes=get_nodes)
    plan = inclusion_proof_plan(index=index, size=size2)
    assert len(calls) == (1 if plan else 0)
    assert served == tree.inclusion_proof(index=index, size=size2)
    _assert_perfect_within(calls, size2)

    calls.clear()
    consistency_proof(size1=size1, size2=size2, get_nodes=get_nodes)
    assert len(calls) == (1 if consistency_proof_plan(size1=size1, size2=size2) else 0)
    _assert_perfect_within(calls, size2)


def _assert_perfect_within(calls: list[list[NodeID]], size: int) -> None:
    for nodes in calls:
        assert nodes
        assert len(set(nodes)) == len(nodes)
        assert all(node.coverage()[1] <= size for node in nodes)


@SETTINGS
@given(index_and_size(max_size=1 << 13))
def test_big_trees_serve_proofs_that_verify(case: tuple[int, int]) -> None:
    index, size = case
    tree = big_tree()
    root = tree.root(size=size)
    proof = tree.inclusion_proof(index=index, size=size)
    leaf = big_leaves()[index]
    verify_inclusion(index=index, size=size, leaf_hash=leaf, proof=proof, root=root)
    size1 = index + 1
    proof = tree.consistency_proof(size1=size1, size2=size)
    root1 = tree.root(size=size1)
    verify_consistency(size1=size1, size2=size, root1=root1, root2=root, proof=proof)


@cache
def big_leaves() -> list[Hash]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(1 << 13)]


@cache
def big_tree() -> MemoryTree:
    return MemoryTree(big_leaves())


def test_memory_tree_rejects_sizes_it_has_not_reached() -> None:
    tree = MemoryTree(LEAVES[:5])
    with pytest.raises(MalformedProof):
        tree.root(size=6)
    with pytest.raises(MalformedProof):
        tree.inclusion_proof(index=0, size=6)
    with pytest.raises(MalformedProof):
        tree.consistency_proof(size1=1, size2=6)
    with pytest.raises(MalformedProof):
        tree.get_nodes([NodeID(3, 0)])
    assert tree.append(LEAVES[5]) == 5
    assert tree.size == 6


# --- compact range ---------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, MAX // 2), st.integers(0, MAX // 2))
def test_compact_state_round_trips_and_keeps_appending(first: int, more: int) -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:first])
    state = compact.state()
    assert state.size == first
    assert len(state.hashes) == first.bit_count()
    assert [n.coverage() for n in perfect_decomposition(begin=0, end=first)] == [
        (b, e) for b, e in _peaks(first)
    ]
    resumed = CompactRange.from_state(size=state.size, hashes=state.hashes)
    assert resumed.state() == state
    for h, (b, e) in zip(state.hashes, _peaks(first), strict=True):
        assert h == ref_mth(ENTRIES[b:e])
    resumed.extend(LEAVES[first : first + more])
    compact.extend(LEAVES[first : first + more])
    assert resumed.state() == compact.state()
    assert resumed.root() == ref_root(first + more)


def _peaks(size: int) -> list[tuple[int, int]]:
    out, begin = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            out.append((begin, begin + (1 << level)))
            begin += 1 << level
    return out


def test_compact_state_is_validated() -> None:
    good = CompactRange()
    good.extend(LEAVES[:5])
    size, hashes = good.state()
    bad_states: list[tuple[int, Sequence[bytes]]] = [
        (-1, ()),
        (size, hashes[:1]),
        (size + 2, hashes),  # 7 has three peaks
        (size, (hashes[0], hashes[1][:31])),
        (size, (hashes[0], hashes[1] + b"\x00")),
    ]
    for bad_size, bad_hashes in bad_states:
        with pytest.raises(MalformedProof):
            CompactRange.from_state(size=bad_size, hashes=bad_hashes)
    with pytest.raises(MalformedProof):
        good.append(Hash(b"short"))


@SETTINGS
@given(st.integers(0, MAX))
def test_visit_emits_each_perfect_node_once(size: int) -> None:
    seen: list[tuple[NodeID, Hash]] = []
    visit: Callable[[NodeID, Hash], None] = lambda node, h: seen.append((node, h))  # noqa: E731
    compact = CompactRange()
    compact.extend(LEAVES[:size], visit)
    nodes = [node for node, _ in seen]
    assert len(set(nodes)) == len(nodes)
    perfect = {
        NodeID(level, index) for level in range(size.bit_length()) for index in range(size >> level)
    }
    assert set(nodes) == perfect
    assert len(nodes) == 2 * size - size.bit_count()
    for node, h in seen:
        begin, end = node.coverage()
        assert h == ref_mth(ENTRIES[begin:end])
