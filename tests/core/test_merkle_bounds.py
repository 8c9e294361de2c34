"""The Merkle proof planners' index and size bounds (``ledger/core/merkle.py``).

What the verifier and the bundle checks rely on: an inclusion proof exists only
for 0 ≤ index < size (so size 0 has none), and a consistency proof only for
0 < size1 ≤ size2. Anything outside is ``MalformedProof`` (``merkle.proof_shape``),
raised before any hash is looked at, by the planner, the server side
(``inclusion_proof``) and the verifier side (``root_from_inclusion_proof``,
``verify_inclusion``) alike. The cases just inside the bounds are accepted and
give proofs that verify.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.core.errors import MalformedProof
from ledger.core.hashing import Hash, leaf_hash
from ledger.core.merkle import (
    consistency_proof,
    consistency_proof_plan,
    inclusion_proof,
    inclusion_proof_plan,
    root_from_inclusion_proof,
    roots_from_consistency_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.support.memory_tree import MemoryTree

SIZE = 7  # not a power of two: the last leaf sits on the right border
LEAVES = [leaf_hash(f"leaf {i}".encode()) for i in range(SIZE + 1)]
TREE = MemoryTree(LEAVES)  # one leaf more than SIZE, so index == SIZE is a stored leaf
ROOT = TREE.root(SIZE)


def get_nodes_never(nodes: object) -> list[Hash]:
    raise AssertionError("a proof out of bounds must be refused before any node is read")


def everything_that_takes_an_index(index: int, size: int) -> list[Callable[[], object]]:
    """The planner, the server side and the two verifier-side calls, for (index, size).
    The verifier side is given the leaf's real hash and a proof of the right shape
    where one exists, so only the bounds can refuse it."""
    leaf = LEAVES[index] if 0 <= index < len(LEAVES) else LEAVES[0]
    proof = TREE.inclusion_proof(index=SIZE - 1, size=SIZE)
    return [
        lambda: inclusion_proof_plan(index=index, size=size),
        lambda: inclusion_proof(index=index, size=size, get_nodes=get_nodes_never),
        lambda: root_from_inclusion_proof(index=index, size=size, leaf_hash=leaf, proof=proof),
        lambda: verify_inclusion(index=index, size=size, leaf_hash=leaf, proof=proof, root=ROOT),
    ]


OUTSIDE = {
    "index == size": (SIZE, SIZE),
    "index > size": (SIZE + 1, SIZE),
    "negative index": (-1, SIZE),
    "size 0, index 0": (0, 0),
    "size 0, negative index": (-1, 0),
    "negative size": (0, -1),
}


@pytest.mark.parametrize("case", list(OUTSIDE))
@pytest.mark.parametrize("call", range(4), ids=["plan", "proof", "root_from", "verify"])
def test_inclusion_out_of_bounds_is_merkle_proof_shape(case: str, call: int) -> None:
    """Each of the four inclusion entry points refuses (index, size) outside 0 ≤ index < size
    as ``merkle.proof_shape``, naming the index and the size."""
    index, size = OUTSIDE[case]
    with pytest.raises(MalformedProof) as raised:
        everything_that_takes_an_index(index, size)[call]()
    assert raised.value.check == "merkle.proof_shape"
    assert f"leaf index {index} outside a tree of size {size}" in raised.value.detail


def test_inclusion_of_the_last_leaf_is_accepted() -> None:
    """index == size − 1 (the right border) has a proof that verifies, from the planner to
    ``verify_inclusion``; so does the only leaf of a one-leaf tree."""
    plan = inclusion_proof_plan(index=SIZE - 1, size=SIZE)
    proof = inclusion_proof(index=SIZE - 1, size=SIZE, get_nodes=TREE.get_nodes)
    assert len(plan) == len(proof) == 2  # the node over leaves 4–5, then the one over 0–3
    assert (
        root_from_inclusion_proof(
            index=SIZE - 1, size=SIZE, leaf_hash=LEAVES[SIZE - 1], proof=proof
        )
        == ROOT
    )
    verify_inclusion(index=SIZE - 1, size=SIZE, leaf_hash=LEAVES[SIZE - 1], proof=proof, root=ROOT)
    assert inclusion_proof_plan(index=0, size=1) == []
    verify_inclusion(index=0, size=1, leaf_hash=LEAVES[0], proof=[], root=LEAVES[0])


def test_the_leaf_just_outside_is_refused_even_with_its_own_proof() -> None:
    """Leaf 7 of the 8-leaf tree, claimed in the tree of size 7 with its real proof in the
    larger tree: the size bound refuses it, not the hashes."""
    proof = TREE.inclusion_proof(index=SIZE, size=SIZE + 1)
    verify_inclusion(
        index=SIZE, size=SIZE + 1, leaf_hash=LEAVES[SIZE], proof=proof, root=TREE.root()
    )
    with pytest.raises(MalformedProof, match="outside a tree of size 7"):
        verify_inclusion(index=SIZE, size=SIZE, leaf_hash=LEAVES[SIZE], proof=proof, root=ROOT)


CONSISTENCY_OUTSIDE = {
    "size1 == 0": (0, SIZE, "no consistency proof from size 0"),
    "size1 == size2 == 0": (0, 0, "no consistency proof from size 0"),
    "negative size1": (-1, SIZE, "no consistency proof from size -1"),
    "size1 > size2": (SIZE, SIZE - 1, f"size2 {SIZE - 1} is smaller than size1 {SIZE}"),
}


@pytest.mark.parametrize("case", list(CONSISTENCY_OUTSIDE))
def test_consistency_out_of_bounds_is_merkle_proof_shape(case: str) -> None:
    """The consistency planner, the server side and the verifier side refuse size1 ≤ 0 and
    size1 > size2 as ``merkle.proof_shape``."""
    size1, size2, message = CONSISTENCY_OUTSIDE[case]
    calls: list[Callable[[], object]] = [
        lambda: consistency_proof_plan(size1=size1, size2=size2),
        lambda: consistency_proof(size1=size1, size2=size2, get_nodes=get_nodes_never),
        lambda: roots_from_consistency_proof(size1=size1, size2=size2, root1=ROOT, proof=[]),
        lambda: verify_consistency(size1=size1, size2=size2, root1=ROOT, root2=ROOT, proof=[]),
    ]
    for call in calls:
        with pytest.raises(MalformedProof) as raised:
            call()
        assert raised.value.check == "merkle.proof_shape"
        assert message in raised.value.detail


def test_consistency_of_equal_sizes_is_accepted() -> None:
    """size1 == size2 is the empty proof, which verifies for equal roots (and only then)."""
    assert consistency_proof_plan(size1=SIZE, size2=SIZE) == []
    assert consistency_proof(size1=SIZE, size2=SIZE, get_nodes=get_nodes_never) == []
    verify_consistency(size1=SIZE, size2=SIZE, root1=ROOT, root2=ROOT, proof=[])
    assert roots_from_consistency_proof(size1=1, size2=1, root1=LEAVES[0], proof=[]) == (
        LEAVES[0],
        LEAVES[0],
    )


def test_consistency_from_size_one_is_accepted() -> None:
    """size1 == 1, the smallest allowed, has a proof that verifies against the real roots."""
    proof = TREE.consistency_proof(size1=1, size2=SIZE)
    assert len(consistency_proof_plan(size1=1, size2=SIZE)) == len(proof)
    verify_consistency(size1=1, size2=SIZE, root1=TREE.root(1), root2=ROOT, proof=proof)
