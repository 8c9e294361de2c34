"""The stream index: an authenticated map from every stream to its latest state
(docs/formats.md §12).

A binary Merkle prefix trie over 256-bit keys ``key = SHA-256("hoso/index/key/v1" 0x00 ||
stream id)``, with single-leaf subtrees collapsed (as in transparency-dev's verifiable
index and the Jellyfish tree):

* the hash of an **empty** subtree is 32 zero bytes (:data:`EMPTY`);
* a subtree holding **one** leaf has that leaf's hash,
  ``SHA-256("hoso/index/leaf/v1" 0x00 || key || SHA-256("hoso/index/value/v1" 0x00 || value))``;
* a subtree holding **two or more** leaves has
  ``SHA-256("hoso/index/node/v1" 0x00 || left || right)``, where ``left`` is the hash of
  the half whose keys have bit ``depth`` = 0 (bits counted from the most significant).

So the root is a function of the set of (key, value) pairs alone, whatever the order they
were inserted in. A lookup proof for a key is the sibling hashes on the way down to where
its search ends — its own leaf (membership), an empty subtree, or another key's leaf
(non-membership) — and recomputes the root (:func:`root_from_proof`).

Values are :class:`StreamState` s: a stream's number of events, its head event hash, and,
for dossiers, each result's status with the position of the event that set it.

Pure: the trie's storage is passed in (:class:`NodeReader`), so the same update
(:func:`update`) runs over the in-memory :class:`IndexTree` (the verifier, tests) and over
the database (:mod:`ledger.storage.index_store`).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, NamedTuple, Protocol

import msgpack

from ledger.core.encoding import Value, decode, encode_sorted
from ledger.core.errors import MalformedEncoding, MalformedError, VerificationError
from ledger.core.hashing import HASH_SIZE

KEY_CONTEXT: Final = b"hoso/index/key/v1\x00"
LEAF_CONTEXT: Final = b"hoso/index/leaf/v1\x00"
VALUE_CONTEXT: Final = b"hoso/index/value/v1\x00"
NODE_CONTEXT: Final = b"hoso/index/node/v1\x00"
EMPTY: Final = bytes(HASH_SIZE)
"""The hash of an empty subtree (and the root of the empty index)."""
KEY_BITS: Final = 256
STATUSES: Final = ("valid", "revoked", "superseded")
MAX_PROOF_DEPTH: Final = KEY_BITS


class MalformedIndexValue(MalformedError):
    """Index value or proof bytes that are not in the index format (docs/formats.md §12)."""

    check = "index.shape"


class IndexProofFailed(VerificationError):
    """A lookup proof does not recompute the committed index root, or proves another key."""

    check = "index.proof"


# --- values --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultStatus:
    """One result of a dossier: its number, status, and the stream position that set it."""

    number: str
    status: str  # valid | revoked | superseded
    n: int


@dataclass(frozen=True, slots=True)
class StreamState:
    """What the index holds for one stream: its events so far and its head."""

    stream: str
    n: int
    head: bytes
    results: tuple[ResultStatus, ...] = ()

    def encode(self) -> bytes:
        """The canonical value bytes: ``{"head", "n", "results", "stream"}`` (§12.2)."""
        results: list[Value] = [[r.number, r.status, r.n] for r in self.results]
        # the keys in sorted order and every field typed: no checking walk (encode_sorted)
        return encode_sorted(
            {"head": self.head, "n": self.n, "results": results, "stream": self.stream}
        )

    def result(self, number: str) -> ResultStatus | None:
        return next((r for r in self.results if r.number == number), None)


def parse_state(data: bytes) -> StreamState:
    """Parse value bytes; :class:`MalformedIndexValue` unless canonical and well-formed."""
    try:
        raw = decode(data)
    except MalformedEncoding as err:
        raise MalformedIndexValue(f"index value: {err.detail}", where=err.where) from err
    if not isinstance(raw, dict) or set(raw) != {"head", "n", "results", "stream"}:
        raise MalformedIndexValue("an index value is a map of head, n, results and stream")
    stream, n, head, results = raw["stream"], raw["n"], raw["head"], raw["results"]
    if not isinstance(stream, str) or not stream:
        raise MalformedIndexValue("stream must be a non-empty str", where="stream")
    if type(n) is not int or n < 1:
        raise MalformedIndexValue("n must be an int >= 1", where="n")
    if not isinstance(head, bytes) or len(head) != HASH_SIZE:
        raise MalformedIndexValue(f"head must be {HASH_SIZE} bytes", where="head")
    if not isinstance(results, list):
        raise MalformedIndexValue("results must be an array", where="results")
    parsed = []
    for i, item in enumerate(results):
        where = f"results[{i}]"
        if not isinstance(item, list) or len(item) != 3:
            raise MalformedIndexValue("a result is [number, status, n]", where=where)
        number, status, at = item
        if not isinstance(number, str) or not number or status not in STATUSES:
            raise MalformedIndexValue(f"a result is [str, one of {STATUSES}, n]", where=where)
        if type(at) is not int or not 1 <= at <= n:
            raise MalformedIndexValue("a result's n is a position of the stream", where=where)
        parsed.append(ResultStatus(number, str(status), at))
    if [r.number for r in parsed] != sorted({r.number for r in parsed}):
        raise MalformedIndexValue("results are sorted by number, each once", where="results")
    return StreamState(stream, n, head, tuple(parsed))


def parse_state_trusted(data: bytes) -> StreamState:
    """Value bytes the index itself wrote (its own table), without :func:`parse_state`'s
    checks: a builder reading back its own rows. Anything from outside goes through
    :func:`parse_state`; a row changed behind the builder's back changes the root, which
    ``hoso verify`` rebuilds from the log (``index.root_mismatch``)."""
    raw = msgpack.unpackb(data, raw=False, use_list=False)
    return StreamState(
        raw["stream"], raw["n"], raw["head"], tuple(ResultStatus(*r) for r in raw["results"])
    )


def with_results(state: StreamState, changes: Iterable[ResultStatus]) -> StreamState:
    """``state`` with the results in ``changes`` set (by number), kept sorted."""
    results = {r.number: r for r in state.results}
    results.update((r.number, r) for r in changes)
    return StreamState(
        state.stream, state.n, state.head, tuple(results[k] for k in sorted(results))
    )


# --- hashes ------------------------------------------------------------------------


def index_key(stream: str) -> bytes:
    """The 32-byte key of a stream in the index."""
    return hashlib.sha256(KEY_CONTEXT + stream.encode("utf-8")).digest()


def value_hash(value: bytes) -> bytes:
    return hashlib.sha256(VALUE_CONTEXT + value).digest()


def leaf_hash(key: bytes, digest: bytes) -> bytes:
    """The hash of a one-leaf subtree: the key and its value's hash."""
    return hashlib.sha256(LEAF_CONTEXT + key + digest).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_CONTEXT + left + right).digest()


def bit(key: bytes, depth: int) -> int:
    """Bit ``depth`` of ``key``, counted from the most significant (0 = left)."""
    return (key[depth >> 3] >> (7 - (depth & 7))) & 1


def prefix_of(key: bytes, depth: int) -> int:
    """The first ``depth`` bits of ``key`` as an int (the node's position at that depth)."""
    return int.from_bytes(key, "big") >> (KEY_BITS - depth)


# --- storage, passed in -----------------------------------------------------------------


class Child(NamedTuple):
    """One half of an internal node: its hash and, if it is a one-leaf subtree, its key."""

    hash: bytes
    leaf_key: bytes | None


class Node(NamedTuple):
    """An internal node (a subtree of two or more leaves) at ``depth`` and ``prefix``."""

    depth: int
    prefix: int
    left: Child
    right: Child


class NodeReader(Protocol):
    """Where :func:`update` reads the trie as it stands."""

    def node(self, depth: int, prefix: int) -> Node | None:
        """The internal node at (depth, prefix), or None (empty, or one leaf)."""
        ...


Changes = Sequence[tuple[bytes, bytes]]
"""(key, value hash) pairs, sorted by key, each key once."""


@dataclass
class Written:
    """What an update wrote: the internal nodes (new or changed) and the new root."""

    nodes: list[Node]
    root: Child


def update(reader: NodeReader, root: Child, changes: Changes) -> Written:
    """Set ``changes`` in the trie whose root is ``root``; return the nodes to write.

    Keys already present get their new value hash; new keys are inserted. A subtree that
    is not internal is rebuilt from its one leaf (if any) and the changes under it, so
    only the paths of changed keys are read and written. The changes under a node are a
    run of the sorted list, split in two at each depth by one binary search.
    """
    keys = [k for k, _ in changes]
    if any(a >= b for a, b in pairwise(keys)):
        raise ValueError("changes must be sorted by key, each key once")
    out: list[Node] = []
    if not changes:
        return Written(out, root)
    digests = [d for _, d in changes]
    new_root = _Update(reader, keys, digests, out).run(0, 0, root, 0, len(keys))
    return Written(out, new_root)


def half(depth: int, prefix: int) -> bytes:
    """The smallest key under (depth, prefix) whose bit ``depth`` is 1: where a sorted run
    of keys under that node splits into its left and right halves."""
    return (((prefix << 1) | 1) << (KEY_BITS - depth - 1)).to_bytes(HASH_SIZE, "big")


class _Update:
    """One :func:`update`: the sorted changes, and the nodes written so far."""

    __slots__ = ("digests", "keys", "out", "reader")

    def __init__(
        self, reader: NodeReader, keys: list[bytes], digests: list[bytes], out: list[Node]
    ) -> None:
        self.reader, self.keys, self.digests, self.out = reader, keys, digests, out

    def run(self, depth: int, prefix: int, here: Child, lo: int, hi: int) -> Child:
        """The new subtree at (depth, prefix), now ``here``, with changes [lo, hi)."""
        node = None
        if here.leaf_key is None and here.hash != EMPTY:
            node = self.reader.node(depth, prefix)
        if node is None:  # empty, or one leaf: rebuild it with the changes under it
            keys = self.keys[lo:hi]
            digests = self.digests[lo:hi]
            leaves = [Child(leaf_hash(k, d), k) for k, d in zip(keys, digests, strict=True)]
            kept = here.leaf_key
            if kept is not None:  # a leaf's hash is where-independent
                at = bisect_left(keys, kept)
                if at == len(keys) or keys[at] != kept:
                    keys.insert(at, kept)
                    leaves.insert(at, here)
            return self.build(depth, prefix, keys, leaves, 0, len(keys))
        mid = bisect_left(self.keys, half(depth, prefix), lo, hi)
        left = self.run(depth + 1, prefix << 1, node.left, lo, mid) if mid > lo else node.left
        right = (
            self.run(depth + 1, (prefix << 1) | 1, node.right, mid, hi) if hi > mid else node.right
        )
        self.out.append(Node(depth, prefix, left, right))
        return Child(node_hash(left.hash, right.hash), None)

    def build(  # noqa: PLR0917 (a recursion's own state)
        self, depth: int, prefix: int, keys: list[bytes], leaves: list[Child], lo: int, hi: int
    ) -> Child:
        if hi == lo:
            return Child(EMPTY, None)
        if hi - lo == 1:
            return leaves[lo]
        if depth >= KEY_BITS:
            raise ValueError("two leaves with one key")
        mid = bisect_left(keys, half(depth, prefix), lo, hi)
        left = self.build(depth + 1, prefix << 1, keys, leaves, lo, mid)
        right = self.build(depth + 1, (prefix << 1) | 1, keys, leaves, mid, hi)
        self.out.append(Node(depth, prefix, left, right))
        return Child(node_hash(left.hash, right.hash), None)


# --- proofs ------------------------------------------------------------------------------


class LookupProof(NamedTuple):
    """Where a key's search ends, and the sibling hashes from there up to the root.

    ``value`` is the key's own value (membership); else ``other`` is the (key, value
    hash) of the one leaf found where the key would be, or None for an empty subtree.
    ``siblings[i]`` is the sibling at depth ``len(siblings) - i`` (bottom-up).
    """

    key: bytes
    siblings: tuple[bytes, ...]
    value: bytes | None = None
    other: tuple[bytes, bytes] | None = None


def root_from_proof(proof: LookupProof) -> bytes:
    """The root the proof recomputes (compare it with the committed root)."""
    if len(proof.key) != HASH_SIZE or len(proof.siblings) > MAX_PROOF_DEPTH:
        raise MalformedIndexValue("a proof's key is 32 bytes and it has at most 256 siblings")
    for i, sibling in enumerate(proof.siblings):
        if not isinstance(sibling, bytes) or len(sibling) != HASH_SIZE:
            raise MalformedIndexValue(f"sibling {i} is not {HASH_SIZE} bytes", where="siblings")
    depth = len(proof.siblings)
    if proof.value is not None:
        if proof.other is not None:
            raise MalformedIndexValue("a proof is of membership or of absence, not both")
        here = leaf_hash(proof.key, value_hash(proof.value))
    elif proof.other is not None:
        other_key, other_digest = proof.other
        if len(other_key) != HASH_SIZE or len(other_digest) != HASH_SIZE:
            raise MalformedIndexValue("the other leaf's key and value hash are 32 bytes")
        if other_key == proof.key:
            raise IndexProofFailed("an absence proof ends at the key's own leaf")
        if prefix_of(other_key, depth) != prefix_of(proof.key, depth):
            raise IndexProofFailed(
                "the other leaf is not where the key's search ends",
                expected=f"{depth} bits shared",
                found=proof.other[0],
            )
        here = leaf_hash(other_key, other_digest)
    else:
        here = EMPTY
    for i, sibling in enumerate(proof.siblings):
        d = depth - 1 - i
        here = node_hash(sibling, here) if bit(proof.key, d) else node_hash(here, sibling)
    return here


def verify_lookup(proof: LookupProof, *, root: bytes, stream: str) -> StreamState | None:
    """Check ``proof`` for ``stream`` against ``root``: the stream's state, or None if the
    index proves it holds no such stream. Raises :class:`IndexProofFailed` otherwise."""
    key = index_key(stream)
    if proof.key != key:
        raise IndexProofFailed("the proof is for another key", expected=key, found=proof.key)
    state = None if proof.value is None else parse_state(proof.value)
    if state is not None and state.stream != stream:
        raise IndexProofFailed("the value is another stream's", expected=stream, found=state.stream)
    found = root_from_proof(proof)
    if found != root:
        raise IndexProofFailed(
            "the proof does not recompute the committed index root", expected=root, found=found
        )
    return state


# --- in memory ----------------------------------------------------------------------


class IndexTree:
    """The whole index in memory: for the verifier (which rebuilds it from the log) and
    tests. Keeps the internal nodes and every leaf's value."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], Node] = {}
        self.values: dict[bytes, bytes] = {}
        self.root = Child(EMPTY, None)

    def node(self, depth: int, prefix: int) -> Node | None:
        return self.nodes.get((depth, prefix))

    def set(self, states: Iterable[StreamState]) -> bytes:
        """Set these streams' states; return the new root hash."""
        encoded = {index_key(s.stream): s.encode() for s in states}
        changes = sorted((k, value_hash(v)) for k, v in encoded.items())
        written = update(self, self.root, changes)
        for node in written.nodes:
            self.nodes[(node.depth, node.prefix)] = node
        self.values.update(encoded)
        self.root = written.root
        return self.root.hash

    def state(self, stream: str) -> StreamState | None:
        value = self.values.get(index_key(stream))
        return None if value is None else parse_state(value)

    def prove(self, stream: str) -> LookupProof:
        return prove(self.node, self.root, index_key(stream), self.values.get)


def prove(
    node_at: Callable[[int, int], Node | None],
    root: Child,
    key: bytes,
    value_of: Callable[[bytes], bytes | None],
) -> LookupProof:
    """The lookup proof of ``key`` from a trie read through ``node_at`` and ``value_of``."""
    siblings: list[bytes] = []
    here, depth = root, 0
    while here.hash != EMPTY and here.leaf_key is None:
        node = node_at(depth, prefix_of(key, depth))
        if node is None:
            raise ValueError(f"the trie has no node at depth {depth} on this key's path")
        side = bit(key, depth)
        here, other = (node.right, node.left) if side else (node.left, node.right)
        siblings.append(other.hash)
        depth += 1
    siblings.reverse()
    if here.hash == EMPTY:
        return LookupProof(key, tuple(siblings))
    found = here.leaf_key
    value = None if found is None else value_of(found)
    if found is None or value is None:
        raise ValueError("the trie has no value for a leaf on this key's path")
    if found == key:
        return LookupProof(key, tuple(siblings), value=value)
    return LookupProof(key, tuple(siblings), other=(found, value_hash(value)))


def root_of(states: Mapping[str, StreamState]) -> bytes:
    """The root of an index holding exactly ``states`` (a naive rebuild, for checks)."""
    tree = IndexTree()
    return tree.set(states.values())
