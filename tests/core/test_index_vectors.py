"""tests/vectors/index.json (docs/formats.md §12), checked three ways.

(a) hoso's code (ledger.core.index, verify.evidence) agrees with every value in the file;
(b) an independent re-derivation from the format description alone — hashlib, msgpack,
    nacl.signing, base64, nothing from ``ledger`` — rebuilds the values from the records,
    the root, each proof's recomputed root, the commit and the index-proof document;
(c) docs/formats.md §12 quotes the file's values.

The file itself is what ``python -m tests.vectors.generate`` writes
(tests/core/test_event_vectors.py::test_files_are_what_the_generator_writes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import nacl.signing
import pytest

from ledger.core.event import parse_record
from ledger.core.index import (
    IndexTree,
    LookupProof,
    StreamState,
    parse_state,
    root_from_proof,
    verify_lookup,
)
from ledger.core.note import parse_ed25519_vkey
from ledger.domain.streams import index_commit
from verify.evidence import parse_index_proof, verify_index_proof

HOSO_NAMES = frozenset(
    name
    for name, value in globals().items()
    if getattr(value, "__module__", "").startswith(("ledger", "verify", "tests.vectors"))
)

ROOT = Path(__file__).resolve().parents[2]
VECTOR: dict[str, Any] = json.loads((ROOT / "tests/vectors/index.json").read_text("utf-8"))
PROOF_NAMES = ["member", "absent_empty", "absent_leaf"]


# --- (a) hoso's code --------------------------------------------------------------------


def _hoso_tree() -> IndexTree:
    tree = IndexTree()
    tree.set(parse_state(bytes.fromhex(s["value_hex"])) for s in VECTOR["streams"])
    return tree


def test_hoso_rebuilds_the_root_and_the_values() -> None:
    tree = _hoso_tree()
    assert tree.root.hash.hex() == VECTOR["root_hex"]
    assert len(tree.values) == VECTOR["stream_count"]
    for entry in VECTOR["streams"]:
        state = tree.state(entry["stream"])
        assert state is not None
        v = entry["value"]
        assert (state.stream, state.n, state.head.hex()) == (v["stream"], v["n"], v["head_hex"])
        assert [[r.number, r.status, r.n] for r in state.results] == v["results"]
        assert state.encode().hex() == entry["value_hex"]
    assert {(n["depth"], n["hash_hex"]) for n in VECTOR["nodes"]} == {
        (node.depth, (_node_hash(node.left.hash, node.right.hash)).hex())
        for node in tree.nodes.values()
    }


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"hoso/index/node/v1\x00" + left + right).digest()


@pytest.mark.parametrize("name", PROOF_NAMES)
def test_hoso_proves_what_the_file_says(name: str) -> None:
    entry = VECTOR["proofs"][name]
    tree = _hoso_tree()
    proof = tree.prove(entry["stream"])
    other = entry["other_hex"]
    assert proof == LookupProof(
        bytes.fromhex(entry["key_hex"]),
        tuple(bytes.fromhex(s) for s in entry["siblings_hex"]),
        None if entry["value_hex"] is None else bytes.fromhex(entry["value_hex"]),
        None if other is None else (bytes.fromhex(other[0]), bytes.fromhex(other[1])),
    )
    assert root_from_proof(proof).hex() == entry["recomputed_root_hex"] == VECTOR["root_hex"]
    state = verify_lookup(proof, root=bytes.fromhex(VECTOR["root_hex"]), stream=entry["stream"])
    assert (state is None) == (name != "member")


def test_hoso_verifies_the_index_proof_document() -> None:
    document = bytes.fromhex(VECTOR["index_proof"]["document_hex"])
    answer = verify_index_proof(
        document,
        origin=VECTOR["origin"],
        log_keys=[parse_ed25519_vkey(VECTOR["log_vkey"])],
        witnesses=[],
        stream=VECTOR["index_proof"]["stream"],
    )
    member = VECTOR["proofs"]["member"]
    assert isinstance(answer.state, StreamState)
    assert answer.state.encode().hex() == member["value_hex"]
    assert answer.checkpoint.size == VECTOR["checkpoint"]["size"]
    assert parse_index_proof(document).encode() == document
    commit = index_commit(parse_record(bytes.fromhex(VECTOR["commit"]["record_hex"])).body)
    assert (commit.tree_size, commit.root.hex(), commit.streams) == (
        VECTOR["commit"]["tree_size"],
        VECTOR["root_hex"],
        VECTOR["stream_count"],
    )


# --- (b) independent: hashlib, msgpack, nacl -----------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _pack(value: Any) -> bytes:
    """Canonical msgpack (§1) of a value whose maps are already in sorted key order."""
    return msgpack.packb(value, use_bin_type=True)


def _fold(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """§12.1: each stream's n and head after the records, and each result's status."""
    states: dict[str, dict[str, Any]] = {}
    for r in records:
        record = bytes.fromhex(r["record_hex"])
        body_bytes = msgpack.unpackb(record, raw=False)["body"]
        body = msgpack.unpackb(body_bytes, raw=False)
        head = _h(b"hoso/event/v1\x00" + body_bytes)
        assert head.hex() == r["event_hash_hex"]
        state = states.setdefault(body["stream"], {"results": {}})
        state["n"], state["head"] = body["n"], head
        number, old = body["payload"].get("result_number"), body["payload"].get("supersedes")
        if body["type"] == "ResultIssued" and isinstance(number, str):
            state["results"][number] = ("valid", body["n"])
        elif body["type"] == "ResultRevoked" and isinstance(number, str):
            state["results"][number] = ("revoked", body["n"])
        elif body["type"] == "ResultCorrected" and isinstance(number, str) and isinstance(old, str):
            state["results"][old] = ("superseded", body["n"])
            state["results"][number] = ("valid", body["n"])
    return states


def _value(stream: str, state: dict[str, Any]) -> bytes:
    results = [[k, *state["results"][k]] for k in sorted(state["results"])]
    return _pack({"head": state["head"], "n": state["n"], "results": results, "stream": stream})


def _leaf(key: bytes, value: bytes) -> bytes:
    return _h(b"hoso/index/leaf/v1\x00" + key + _h(b"hoso/index/value/v1\x00" + value))


def _bit(key: bytes, depth: int) -> int:
    return (key[depth // 8] >> (7 - depth % 8)) & 1


def _root(leaves: dict[bytes, bytes], depth: int = 0) -> bytes:
    """§12.2 from the definition: key → leaf hash; empty = zeros; one leaf = its hash."""
    if not leaves:
        return bytes(32)
    if len(leaves) == 1:
        return next(iter(leaves.values()))
    left = {k: v for k, v in leaves.items() if not _bit(k, depth)}
    right = {k: v for k, v in leaves.items() if _bit(k, depth)}
    return _h(b"hoso/index/node/v1\x00" + _root(left, depth + 1) + _root(right, depth + 1))


def _recompute(entry: dict[str, Any]) -> bytes:
    """§12.3: the root a lookup proof recomputes."""
    key = bytes.fromhex(entry["key_hex"])
    siblings = [bytes.fromhex(s) for s in entry["siblings_hex"]]
    depth = len(siblings)
    if entry["value_hex"] is not None:
        here = _leaf(key, bytes.fromhex(entry["value_hex"]))
    elif entry["other_hex"] is not None:
        other_key, other_digest = (bytes.fromhex(x) for x in entry["other_hex"])
        assert other_key != key
        assert [_bit(other_key, d) for d in range(depth)] == [_bit(key, d) for d in range(depth)]
        here = _h(b"hoso/index/leaf/v1\x00" + other_key + other_digest)
    else:
        here = bytes(32)
    for i, sibling in enumerate(siblings):
        pair = sibling + here if _bit(key, depth - 1 - i) else here + sibling
        here = _h(b"hoso/index/node/v1\x00" + pair)
    return here


def _inclusion_root(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root an inclusion proof recomputes."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise AssertionError("proof too long")
        if fn & 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


def test_independent_values_and_root() -> None:
    states = _fold(VECTOR["records"])
    assert len(states) == VECTOR["stream_count"]
    leaves = {}
    for entry in VECTOR["streams"]:
        stream = entry["stream"]
        key = _h(b"hoso/index/key/v1\x00" + stream.encode("utf-8"))
        value = _value(stream, states[stream])
        assert key.hex() == entry["key_hex"]
        assert value.hex() == entry["value_hex"]
        assert _h(b"hoso/index/value/v1\x00" + value).hex() == entry["value_hash_hex"]
        assert _leaf(key, value).hex() == entry["leaf_hash_hex"]
        leaves[key] = _leaf(key, value)
    assert [e["key_hex"] for e in VECTOR["streams"]] == sorted(k.hex() for k in leaves)
    assert _root(leaves).hex() == VECTOR["root_hex"]
    assert VECTOR["empty_hex"] == "00" * 32


@pytest.mark.parametrize("name", PROOF_NAMES)
def test_independent_proofs(name: str) -> None:
    entry = VECTOR["proofs"][name]
    key = _h(b"hoso/index/key/v1\x00" + entry["stream"].encode("utf-8"))
    assert key.hex() == entry["key_hex"]
    assert _recompute(entry).hex() == entry["recomputed_root_hex"] == VECTOR["root_hex"]
    other = entry["other_hex"]
    proof_map = {
        "other": None if other is None else [bytes.fromhex(x) for x in other],
        "siblings": [bytes.fromhex(s) for s in entry["siblings_hex"]],
        "stream": entry["stream"],
        "value": None if entry["value_hex"] is None else bytes.fromhex(entry["value_hex"]),
    }
    assert _pack(proof_map).hex() == entry["proof_map_hex"]
    # Any flipped sibling byte gives another root.
    if entry["siblings_hex"]:
        flipped = bytearray.fromhex(entry["siblings_hex"][0])
        flipped[0] ^= 1
        forged = entry | {"siblings_hex": [flipped.hex(), *entry["siblings_hex"][1:]]}
        assert _recompute(forged).hex() != VECTOR["root_hex"]


def test_independent_commit_and_document() -> None:
    commit = VECTOR["commit"]
    record = bytes.fromhex(commit["record_hex"])
    outer = msgpack.unpackb(record, raw=False)
    body = msgpack.unpackb(outer["body"], raw=False)
    digest = _h(b"hoso/event/v1\x00" + outer["body"])
    assert digest.hex() == commit["event_hash_hex"]
    assert (body["stream"], body["type"], body["origin"]) == (
        "system/index",
        "IndexCommitted",
        VECTOR["origin"],
    )
    assert body["payload"] == {
        "root": bytes.fromhex(VECTOR["root_hex"]),
        "streams": VECTOR["stream_count"],
        "tree_size": commit["tree_size"],
    }
    # Signed by the log key.
    log_key = nacl.signing.SigningKey(bytes.fromhex(VECTOR["log_seed_hex"]))
    public = bytes(log_key.verify_key)
    (sig,) = outer["sigs"]
    assert sig["kid"] == _h(b"hoso/key-id/v1\x00\x01" + public)[:16]
    nacl.signing.VerifyKey(public).verify(b"hoso/event-signature/v1\x00" + digest, sig["sig"])
    # The commit is the checkpoint's last leaf and covers every leaf before it.
    note = VECTOR["checkpoint"]["note"]
    origin, size, root_b64 = note.split("\n")[:3]
    assert (origin, int(size)) == (VECTOR["origin"], commit["leaf"] + 1)
    assert commit["tree_size"] == commit["leaf"] == len(VECTOR["records"])
    proof = [bytes.fromhex(h) for h in commit["inclusion_proof_hex"]]
    leaf = _h(b"\x00" + record)
    assert _inclusion_root(commit["leaf"], int(size), leaf, proof) == base64.b64decode(root_b64)
    # The standalone document: exactly these six keys, canonical.
    document = bytes.fromhex(VECTOR["index_proof"]["document_hex"])
    assert _h(document).hex() == VECTOR["index_proof"]["document_sha256_hex"]
    member = msgpack.unpackb(bytes.fromhex(VECTOR["proofs"]["member"]["proof_map_hex"]), raw=False)
    expected = {
        "checkpoint": note.encode("utf-8"),
        "commit": {"leaf": commit["leaf"], "proof": proof, "record": record},
        "kind": "hoso/index-proof",
        "origin": VECTOR["origin"],
        "proofs": [member],
        "v": 1,
    }
    assert _pack(expected) == document


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


INDEPENDENT = [
    _h,
    _pack,
    _fold,
    _value,
    _leaf,
    _bit,
    _root,
    _recompute,
    _inclusion_root,
    test_independent_values_and_root,
    test_independent_proofs,
    test_independent_commit_and_document,
]


@pytest.mark.parametrize("function", INDEPENDENT, ids=[f.__name__ for f in INDEPENDENT])
def test_independent_path_is_independent(function: Callable[..., Any]) -> None:
    """Part (b) references nothing from ledger or verify."""
    assert {"IndexTree", "verify_index_proof", "parse_record"} <= HOSO_NAMES
    assert not _names_used(function.__code__) & HOSO_NAMES


# --- (c) the spec quotes the vector ---------------------------------------------------------


def test_formats_doc_quotes_the_index_vector() -> None:
    doc = (ROOT / "docs/formats.md").read_text("utf-8")
    section = doc[doc.index("## 12. Stream index") :]
    section = section[: section.index("\n## 13.")] if "\n## 13." in section else section
    flat = section.replace("\n", "")
    member = VECTOR["proofs"]["member"]
    dossier = next(s for s in VECTOR["streams"] if s["stream"] == member["stream"])
    quoted = [
        VECTOR["root_hex"],
        dossier["key_hex"],
        dossier["value_hex"],
        dossier["value_hash_hex"],
        dossier["leaf_hash_hex"],
        *member["siblings_hex"],
        VECTOR["proofs"]["absent_empty"]["stream"],
        VECTOR["proofs"]["absent_leaf"]["stream"],
        *VECTOR["proofs"]["absent_leaf"]["other_hex"],
        VECTOR["commit"]["event_hash_hex"],
        VECTOR["index_proof"]["document_sha256_hex"],
    ]
    for value in quoted:
        assert value in flat, value
