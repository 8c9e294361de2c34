"""The stream-index vector (tests/vectors/index.json; docs/formats.md §12).

An eleven-leaf log: two key registrations on ``system/keys`` (signed by the authority), a
dossier whose results are issued, corrected (the first superseded) and revoked, two more
dossiers with one event each, and a status-list publication on ``system/status/<agency>``;
then the ``IndexCommitted`` record over those ten leaves at leaf 10 (signed by the log
key), and the checkpoint of size 11 that ends with it. The file gives each stream's key, value
bytes, value hash and leaf hash, the root, the trie's internal nodes, a membership proof
(the dossier), two non-membership proofs (one ending at an empty subtree, one at another
stream's leaf) with the roots they recompute, the commit record, and the standalone index
proof document of the dossier. Deterministic: fixed seeds and times; the absent streams
are the first of a fixed list of candidates that end each way.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.core import encoding
from ledger.core.chain import next_body
from ledger.core.checkpoint import Checkpoint, sign_checkpoint
from ledger.core.encoding import Value
from ledger.core.event import SignedEvent, sign_event
from ledger.core.index import (
    EMPTY,
    KEY_CONTEXT,
    LEAF_CONTEXT,
    NODE_CONTEXT,
    VALUE_CONTEXT,
    IndexTree,
    LookupProof,
    index_key,
    leaf_hash,
    root_from_proof,
    value_hash,
)
from ledger.core.note import Ed25519NoteSigner
from ledger.core.registry import KEY_REGISTERED, REGISTRY_STREAM, key_registered
from ledger.core.signing import Signer
from ledger.domain.streams import (
    INDEX_COMMITTED,
    INDEX_STREAM,
    STATUS_PUBLISHED,
    IndexCommit,
    StatusPublication,
    fold_states,
    index_payload,
    status_payload,
    status_stream,
)
from tests.support.memory_tree import MemoryTree
from verify.evidence import Entry, Evidence, IndexProofDocument, StreamProof

ORIGIN = "hoso.example/hanoi"
AGENCY = "000.39.05.H26"
DOSSIER = "000.39.05.H26-260302-0001"
OTHER = "000.39.05.H26-260302-0002"
THIRD = "000.39.05.H26-260302-0003"
AUTHORITY_SEED = hashlib.sha256(b"hoso index vector: authority").digest()
OFFICER_SEED = hashlib.sha256(b"hoso index vector: officer").digest()
SEAL_SEED = hashlib.sha256(b"hoso index vector: seal").digest()
LOG_SEED = hashlib.sha256(b"hoso test seed 2").digest()  # the checkpoints vector's log key
T0 = 1_772_413_200_000_000  # 2026-03-02T08:00+07:00
MINUTE = 60_000_000
ABSENT_CANDIDATES = [f"000.39.05.H26-260302-{i:04d}" for i in range(4, 100)]


def _event(  # noqa: PLR0917 (one positional list per event keeps build_log readable)
    previous: SignedEvent | None,
    stream: str,
    kind: str,
    actor: str,
    payload: dict[str, Value],
    signer: Signer,
    minute: int,
) -> SignedEvent:
    body = next_body(
        previous,
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=T0 + minute * MINUTE,
        payload=payload,
    )
    return sign_event(body, [signer])


def build_log() -> list[SignedEvent]:
    """The ten records the index covers, in log order."""
    authority, officer, seal = (Signer(s) for s in (AUTHORITY_SEED, OFFICER_SEED, SEAL_SEED))
    reg1 = _event(
        None,
        REGISTRY_STREAM,
        KEY_REGISTERED,
        "authority:hanoi",
        key_registered(
            officer.public_key, actor="ward:lanhdao-01", roles={"leader"}, agency=AGENCY
        ),
        authority,
        0,
    )
    reg2 = _event(
        reg1,
        REGISTRY_STREAM,
        KEY_REGISTERED,
        "authority:hanoi",
        key_registered(seal.public_key, actor="ward:con-dau", roles={"agency_seal"}, agency=AGENCY),
        authority,
        0,
    )
    leader = "ward:lanhdao-01"
    d1 = _event(None, DOSSIER, "DossierSubmitted", leader, {"procedure": "1.001193"}, officer, 1)
    d2 = _event(d1, DOSSIER, "ResultIssued", leader, {"result_number": "12/2026/KS"}, officer, 2)
    d3 = _event(
        d2,
        DOSSIER,
        "ResultCorrected",
        leader,
        {"result_number": "13/2026/KS", "supersedes": "12/2026/KS"},
        officer,
        3,
    )
    other = _event(None, OTHER, "DossierSubmitted", leader, {"procedure": "1.001193"}, officer, 4)
    third = _event(None, THIRD, "DossierSubmitted", leader, {"procedure": "1.001193"}, officer, 4)
    d4 = _event(d3, DOSSIER, "ResultIssued", leader, {"result_number": "14/2026/KS"}, officer, 5)
    d5 = _event(d4, DOSSIER, "ResultRevoked", leader, {"result_number": "14/2026/KS"}, officer, 6)
    publication = StatusPublication(
        AGENCY, 0, 131_072, T0 // 1_000_000 + 420, hashlib.sha256(b"status list 0").digest()
    )
    status = _event(
        None,
        status_stream(AGENCY),
        STATUS_PUBLISHED,
        "system:status",
        status_payload(publication),
        seal,
        7,
    )
    return [reg1, reg2, d1, d2, d3, other, third, d4, d5, status]


def build_index(events: list[SignedEvent]) -> IndexTree:
    tree = IndexTree()
    tree.set(fold_states((e.body, e.event_hash) for e in events).values())
    return tree


def _absent(tree: IndexTree, *, at_leaf: bool) -> str:
    """The first candidate stream the index doesn't hold whose search ends at another
    stream's leaf (``at_leaf``) or at an empty subtree."""
    for name in ABSENT_CANDIDATES:
        proof = tree.prove(name)
        if proof.value is None and (proof.other is not None) == at_leaf:
            return name
    raise ValueError("no candidate ends that way")


def _nodes(tree: IndexTree) -> list[dict[str, Any]]:
    out = []
    for (depth, prefix), node in sorted(tree.nodes.items()):
        out.append(
            {
                "depth": depth,
                "prefix_bits": format(prefix, f"0{depth}b") if depth else "",
                "left_hex": node.left.hash.hex(),
                "right_hex": node.right.hash.hex(),
                "hash_hex": hashlib.sha256(NODE_CONTEXT + node.left.hash + node.right.hash)
                .digest()
                .hex(),
            }
        )
    return out


def _proof(tree: IndexTree, stream: str) -> tuple[LookupProof, dict[str, Any]]:
    proof = tree.prove(stream)
    other = proof.other
    return proof, {
        "stream": stream,
        "key_hex": proof.key.hex(),
        "siblings_hex": [s.hex() for s in proof.siblings],
        "value_hex": None if proof.value is None else proof.value.hex(),
        "other_hex": None if other is None else [other[0].hex(), other[1].hex()],
        "proof_map_hex": encoding.encode(StreamProof(stream, proof).to_map()).hex(),
        "recomputed_root_hex": root_from_proof(proof).hex(),
    }


def index_vectors() -> dict[str, Any]:
    events = build_log()
    tree = build_index(events)
    size = len(events)
    commit_payload = IndexCommit(size, tree.root.hash, len(tree.values))
    commit = _event(
        None,
        INDEX_STREAM,
        INDEX_COMMITTED,
        ORIGIN,
        index_payload(commit_payload),
        Signer(LOG_SEED),
        8,
    )
    log = [*events, commit]
    merkle = MemoryTree()
    for event in log:
        merkle.append(event.leaf_hash)
    checkpoint = Checkpoint(origin=ORIGIN, size=size + 1, root=merkle.root(size + 1))
    note = sign_checkpoint(checkpoint, Ed25519NoteSigner(ORIGIN, Signer(LOG_SEED)))
    proofs = {
        "member": _proof(tree, DOSSIER),
        "absent_empty": _proof(tree, _absent(tree, at_leaf=False)),
        "absent_leaf": _proof(tree, _absent(tree, at_leaf=True)),
    }
    entry = Entry(size, commit.record, tuple(merkle.inclusion_proof(index=size, size=size + 1)))
    document = IndexProofDocument(
        ORIGIN, note.serialise(), Evidence(entry, (StreamProof(DOSSIER, proofs["member"][0]),))
    ).encode()
    states = fold_states((e.body, e.event_hash) for e in events)
    streams = []
    for state in sorted(states.values(), key=lambda s: index_key(s.stream)):
        key = index_key(state.stream)
        value = tree.values[key]
        streams.append(
            {
                "stream": state.stream,
                "value": {
                    "head_hex": state.head.hex(),
                    "n": state.n,
                    "results": [[r.number, r.status, r.n] for r in state.results],
                    "stream": state.stream,
                },
                "key_hex": key.hex(),
                "value_hex": value.hex(),
                "value_hash_hex": value_hash(value).hex(),
                "leaf_hash_hex": leaf_hash(key, value_hash(value)).hex(),
            }
        )
    return {
        "comment": (
            "The stream index (docs/formats.md §12): ten records, the index over them, its "
            "commit at leaf 10 and the size-11 checkpoint ending with it. Generated by "
            "`python -m tests.vectors.generate`; do not edit by hand."
        ),
        "contexts": {
            "key": KEY_CONTEXT.decode("ascii"),
            "value": VALUE_CONTEXT.decode("ascii"),
            "leaf": LEAF_CONTEXT.decode("ascii"),
            "node": NODE_CONTEXT.decode("ascii"),
        },
        "empty_hex": EMPTY.hex(),
        "origin": ORIGIN,
        "log_seed_hex": LOG_SEED.hex(),
        "log_vkey": Ed25519NoteSigner(ORIGIN, Signer(LOG_SEED)).verifier.vkey,
        "records": [
            {
                "leaf": i,
                "stream": e.body.stream,
                "n": e.body.n,
                "type": e.body.type,
                "event_hash_hex": e.event_hash.hex(),
                "record_hex": e.record.hex(),
            }
            for i, e in enumerate(events)
        ],
        "streams": streams,
        "root_hex": tree.root.hash.hex(),
        "stream_count": len(tree.values),
        "nodes": _nodes(tree),
        "proofs": {name: body for name, (_, body) in proofs.items()},
        "commit": {
            "leaf": size,
            "tree_size": size,
            "streams": len(tree.values),
            "root_hex": tree.root.hash.hex(),
            "event_hash_hex": commit.event_hash.hex(),
            "record_hex": commit.record.hex(),
            "inclusion_proof_hex": [h.hex() for h in entry.proof],
        },
        "checkpoint": {"size": size + 1, "note": note.serialise().decode("utf-8")},
        "index_proof": {
            "stream": DOSSIER,
            "document_hex": document.hex(),
            "document_sha256_hex": hashlib.sha256(document).hexdigest(),
        },
    }
