"""The stream index (ledger.core.index) against a naive reference written from
docs/formats.md §12: roots, incremental updates in any order, lookup proofs of membership
and absence, and every way a proof can be wrong."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core import encoding
from ledger.core.index import (
    EMPTY,
    IndexProofFailed,
    IndexTree,
    LookupProof,
    MalformedIndexValue,
    ResultStatus,
    StreamState,
    bit,
    index_key,
    leaf_hash,
    node_hash,
    parse_state,
    root_from_proof,
    value_hash,
    verify_lookup,
)


def ref_root(items: dict[bytes, bytes], depth: int = 0) -> bytes:
    """The root of the trie over ``items`` (key → value bytes), straight from the spec."""
    if not items:
        return EMPTY
    if len(items) == 1:
        ((key, value),) = items.items()
        return hashlib.sha256(
            b"hoso/index/leaf/v1\x00"
            + key
            + hashlib.sha256(b"hoso/index/value/v1\x00" + value).digest()
        ).digest()
    left = {k: v for k, v in items.items() if not (k[depth // 8] >> (7 - depth % 8)) & 1}
    right = {k: v for k, v in items.items() if k not in left}
    return hashlib.sha256(
        b"hoso/index/node/v1\x00" + ref_root(left, depth + 1) + ref_root(right, depth + 1)
    ).digest()


def state(i: int, n: int = 1, results: tuple[ResultStatus, ...] = ()) -> StreamState:
    return StreamState(f"stream-{i}", n, hashlib.sha256(f"{i}:{n}".encode()).digest(), results)


def ref_of(states: list[StreamState]) -> bytes:
    return ref_root({index_key(s.stream): s.encode() for s in states})


def test_empty_index_root_is_zeros() -> None:
    assert IndexTree().root.hash == EMPTY == bytes(32)


def test_one_stream_root_is_its_leaf() -> None:
    tree = IndexTree()
    s = state(1)
    assert tree.set([s]) == leaf_hash(index_key(s.stream), value_hash(s.encode()))


@settings(max_examples=60)
@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=40),
    st.lists(st.integers(1, 4), min_size=1, max_size=6),
)
def test_incremental_updates_in_any_batches_equal_the_reference(
    order: list[int], batch_sizes: list[int]
) -> None:
    tree = IndexTree()
    latest: dict[int, StreamState] = {}
    position = 0
    step = 0
    while position < len(order):
        size = batch_sizes[step % len(batch_sizes)]
        batch = {}
        for i in order[position : position + size]:
            n = latest[i].n + 1 if i in latest else 1
            batch[i] = state(i, n)
        latest.update(batch)
        position += size
        step += 1
        assert tree.set(batch.values()) == ref_of(list(latest.values()))
    for i, s in latest.items():
        assert verify_lookup(tree.prove(s.stream), root=tree.root.hash, stream=s.stream) == s
        assert tree.state(f"stream-{i}") == s


@settings(max_examples=40)
@given(st.sets(st.integers(0, 200), min_size=0, max_size=50), st.integers(201, 400))
def test_absence_proofs_for_streams_not_there(present: set[int], absent: int) -> None:
    tree = IndexTree()
    tree.set(state(i) for i in present)
    stream = f"stream-{absent}"
    proof = tree.prove(stream)
    assert proof.value is None
    assert verify_lookup(proof, root=tree.root.hash, stream=stream) is None


def built(count: int = 20) -> IndexTree:
    tree = IndexTree()
    tree.set(state(i) for i in range(count))
    return tree


def test_a_membership_proof_fails_against_another_root() -> None:
    tree = built()
    proof = tree.prove("stream-3")
    other = tree.root.hash[:-1] + bytes([tree.root.hash[-1] ^ 1])
    with pytest.raises(IndexProofFailed) as err:
        verify_lookup(proof, root=other, stream="stream-3")
    assert err.value.check == "index.proof"


def test_a_proof_for_another_stream_is_refused() -> None:
    tree = built()
    with pytest.raises(IndexProofFailed, match="another key"):
        verify_lookup(tree.prove("stream-3"), root=tree.root.hash, stream="stream-4")


def test_an_older_value_does_not_verify_under_the_newer_root() -> None:
    """The holder can't show an earlier state (before a revocation, say) as the current."""
    tree = built()
    old = tree.prove("stream-3")
    revoked = state(3, 2, (ResultStatus("KQ-1", "revoked", 2),))
    tree.set([revoked])
    with pytest.raises(IndexProofFailed):
        verify_lookup(old, root=tree.root.hash, stream="stream-3")
    assert verify_lookup(tree.prove("stream-3"), root=tree.root.hash, stream="stream-3") == revoked


def test_an_absence_claimed_for_a_present_stream_fails() -> None:
    tree = built()
    proof = tree.prove("stream-3")
    assert proof.value is not None
    forged_empty = LookupProof(proof.key, proof.siblings)
    with pytest.raises(IndexProofFailed):
        verify_lookup(forged_empty, root=tree.root.hash, stream="stream-3")


def test_an_absence_proof_ending_at_the_keys_own_leaf_is_refused() -> None:
    tree = built()
    proof = tree.prove("stream-3")
    assert proof.value is not None
    own = LookupProof(proof.key, proof.siblings, other=(proof.key, value_hash(proof.value)))
    with pytest.raises(IndexProofFailed, match="own leaf"):
        root_from_proof(own)


def test_an_absence_proof_with_a_leaf_off_the_keys_path_is_refused() -> None:
    tree = built(2)
    proof = tree.prove("stream-999")
    # move the search's end one level down: the other leaf no longer shares the prefix
    key = proof.key
    stranger = bytes([key[0] ^ 0x80]) + key[1:]
    forged = LookupProof(key, proof.siblings, other=(stranger, bytes(32)))
    with pytest.raises(IndexProofFailed, match="search ends"):
        root_from_proof(forged)


@pytest.mark.parametrize(
    "change",
    ["drop a sibling", "add a sibling", "flip a sibling", "swap value"],
)
def test_every_mutation_of_a_proof_fails(change: str) -> None:
    tree = built(30)
    proof = tree.prove("stream-7")
    siblings = list(proof.siblings)
    value = proof.value
    if change == "drop a sibling":
        siblings.pop()
    elif change == "add a sibling":
        siblings.append(EMPTY)
    elif change == "flip a sibling":
        siblings[0] = siblings[0][:-1] + bytes([siblings[0][-1] ^ 1])
    else:
        value = state(7, 9).encode()
    with pytest.raises(IndexProofFailed):
        verify_lookup(
            LookupProof(proof.key, tuple(siblings), value=value),
            root=tree.root.hash,
            stream="stream-7",
        )


def test_malformed_proof_parts_are_malformed_not_failed() -> None:
    with pytest.raises(MalformedIndexValue):
        root_from_proof(LookupProof(b"short", ()))
    with pytest.raises(MalformedIndexValue):
        root_from_proof(LookupProof(index_key("s"), (b"x",)))
    with pytest.raises(MalformedIndexValue):
        root_from_proof(LookupProof(index_key("s"), (), value=b"v", other=(bytes(32), bytes(32))))


@pytest.mark.parametrize(
    "value",
    [
        b"\x80",
        StreamState("s", 1, bytes(32)).encode()[:-1],
        StreamState("s", 1, bytes(31)).encode(),
        StreamState("s", 0, bytes(32)).encode(),
        StreamState(
            "s", 1, bytes(32), (ResultStatus("b", "valid", 1), ResultStatus("a", "valid", 1))
        ).encode(),
        StreamState("s", 1, bytes(32), (ResultStatus("a", "lost", 1),)).encode(),
        StreamState("s", 1, bytes(32), (ResultStatus("a", "valid", 2),)).encode(),
    ],
    ids=["not msgpack", "truncated", "short head", "n=0", "unsorted", "bad status", "n past"],
)
def test_bad_values_are_refused(value: bytes) -> None:
    with pytest.raises(MalformedIndexValue) as err:
        parse_state(value)
    assert err.value.check == "index.shape"


def test_bit_order_is_most_significant_first() -> None:
    key = bytes([0b10100000]) + bytes(31)
    assert [bit(key, d) for d in range(4)] == [1, 0, 1, 0]
    assert node_hash(EMPTY, EMPTY) != EMPTY


@settings(max_examples=200, deadline=None)
@given(
    stream=st.text(min_size=1, max_size=40),
    n=st.integers(min_value=1, max_value=2**40),
    numbers=st.lists(st.text(min_size=1, max_size=32), max_size=5, unique=True),
)
def test_a_value_encodes_to_the_canonical_bytes_of_its_map(
    stream: str, n: int, numbers: list[str]
) -> None:
    """StreamState.encode skips encode's checking walk; its bytes are encode's all the same."""
    try:
        stream.encode("utf-8")
    except UnicodeEncodeError:
        return
    results = tuple(
        ResultStatus(number, ("valid", "revoked", "superseded")[i % 3], 1 + i % n)
        for i, number in enumerate(sorted(numbers, key=lambda x: x.encode("utf-8")))
    )
    value = StreamState(stream, n, hashlib.sha256(stream.encode()).digest(), results)
    expected = encoding.encode(
        {
            "head": value.head,
            "n": value.n,
            "results": [[r.number, r.status, r.n] for r in value.results],
            "stream": value.stream,
        }
    )
    assert value.encode() == expected
    assert parse_state(expected) == value
