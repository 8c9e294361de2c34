"""Index evidence (docs/formats.md §12.4): a committed stream index, proven under a
checkpoint, and lookup proofs of some streams in it.

The evidence is one canonical msgpack map (inside a bundle, or standalone as an
*index proof* with its checkpoint)::

    {"commit": entry,                the IndexCommitted record at the checkpoint's last leaf
     "proofs": [proof, ...]}
    entry = {"leaf": int, "proof": [bin(32), ...], "record": bin}     (as in a bundle)
    proof = {"other": nil | [bin(32) key, bin(32) value hash],
             "siblings": [bin(32), ...],     bottom-up
             "stream": str,
             "value": nil | bin}             the stream's index value (§12.2)

Standalone: ``{"checkpoint": bin, "kind": "hoso/index-proof", "origin": str,
"v": 1, ...the two keys above}``.

Checking it (:func:`open_commit`, :func:`look_up`): the commit record's inclusion proof
against the checkpoint root; the record is an ``IndexCommitted`` signed by the trusted
log key; the commit is **exact** and **last** — at leaf ``tree_size``, in a checkpoint of
size ``tree_size + 1`` — so the index covers every entry of the checkpoint but itself
(else ``index.commit``); then each lookup proof against the committed root
(``index.proof``). A stream's value then says how many events it has and its head, as
of that checkpoint; an absence proof says it has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ledger.core import encoding, merkle
from ledger.core.checkpoint import (
    AnyCosignatureVerifier,
    Checkpoint,
    open_checkpoint,
    verify_cosignatures,
)
from ledger.core.errors import MalformedError, VerificationError
from ledger.core.event import parse_record, verify_signatures
from ledger.core.hashing import leaf_hash
from ledger.core.index import LookupProof, StreamState, index_key, verify_lookup
from ledger.core.note import Ed25519Verifier
from ledger.core.signing import KeyId, PublicKey, key_id
from ledger.domain.streams import INDEX_STREAM, IndexCommit, index_commit

PROOF_KIND: Final = "hoso/index-proof"
PROOF_VERSION: Final = 1


class MalformedEvidence(MalformedError):
    """Index evidence that does not follow docs/formats.md §12.4."""

    check = "index.evidence_shape"


class CommitNotProven(VerificationError):
    """The index commit is not an exact, log-signed commit ending the checkpoint."""

    check = "index.commit"


@dataclass(frozen=True)
class Entry:
    """A log record with its leaf index and inclusion proof."""

    leaf: int
    record: bytes
    proof: tuple[bytes, ...]

    def to_map(self) -> dict[str, encoding.Value]:
        return {"leaf": self.leaf, "record": self.record, "proof": list(self.proof)}


@dataclass(frozen=True)
class StreamProof:
    stream: str
    lookup: LookupProof

    def to_map(self) -> dict[str, encoding.Value]:
        other = self.lookup.other
        return {
            "stream": self.stream,
            "siblings": list(self.lookup.siblings),
            "value": self.lookup.value,
            "other": None if other is None else [other[0], other[1]],
        }


@dataclass(frozen=True)
class Evidence:
    commit: Entry
    proofs: tuple[StreamProof, ...]

    def to_map(self) -> dict[str, encoding.Value]:
        return {"commit": self.commit.to_map(), "proofs": [p.to_map() for p in self.proofs]}

    def proof_of(self, stream: str) -> StreamProof | None:
        return next((p for p in self.proofs if p.stream == stream), None)


@dataclass(frozen=True)
class IndexProofDocument:
    """A standalone index proof: evidence with the checkpoint that covers it."""

    origin: str
    checkpoint: bytes
    evidence: Evidence

    def encode(self) -> bytes:
        return encoding.encode(
            {
                "v": PROOF_VERSION,
                "kind": PROOF_KIND,
                "origin": self.origin,
                "checkpoint": self.checkpoint,
                **self.evidence.to_map(),
            }
        )


def parse_entry(value: Any, where: str, error: type[MalformedError] = MalformedEvidence) -> Entry:
    if not isinstance(value, dict) or set(value) != {"leaf", "record", "proof"}:
        raise error("an entry is a map of leaf, record and proof", where=where)
    leaf, record, proof = value["leaf"], value["record"], value["proof"]
    if type(leaf) is not int or leaf < 0 or not isinstance(record, bytes):
        raise error("leaf must be a non-negative int, record bin", where=where)
    if not isinstance(proof, list) or not all(isinstance(h, bytes) for h in proof):
        raise error("proof must be an array of bin", where=where)
    return Entry(leaf, record, tuple(proof))


def parse_evidence(raw: Any, where: str = "index") -> Evidence:
    """Evidence from its decoded map; :class:`MalformedEvidence` on any shape error."""
    if not isinstance(raw, dict) or set(raw) != {"commit", "proofs"}:
        raise MalformedEvidence("index evidence is a map of commit and proofs", where=where)
    proofs = raw["proofs"]
    if not isinstance(proofs, list):
        raise MalformedEvidence("proofs must be an array", where=f"{where}.proofs")
    parsed = tuple(_stream_proof(p, f"{where}.proofs[{i}]") for i, p in enumerate(proofs))
    seen: set[str] = set()
    for i, proof in enumerate(parsed):
        if proof.stream in seen:  # which of two would a reader believe? neither
            raise MalformedEvidence(
                "a stream has one lookup proof", where=f"{where}.proofs[{i}]", found=proof.stream
            )
        seen.add(proof.stream)
    return Evidence(parse_entry(raw["commit"], f"{where}.commit"), parsed)


def _stream_proof(raw: Any, where: str) -> StreamProof:
    if not isinstance(raw, dict) or set(raw) != {"other", "siblings", "stream", "value"}:
        raise MalformedEvidence("a proof is a map of other, siblings, stream, value", where=where)
    stream, siblings, value, other = raw["stream"], raw["siblings"], raw["value"], raw["other"]
    if not isinstance(stream, str) or not stream:
        raise MalformedEvidence("stream must be a non-empty str", where=where)
    if not isinstance(siblings, list) or not all(isinstance(s, bytes) for s in siblings):
        raise MalformedEvidence("siblings must be an array of bin", where=where)
    if value is not None and not isinstance(value, bytes):
        raise MalformedEvidence("value must be bin or nil", where=where)
    pair: tuple[bytes, bytes] | None = None
    if other is not None:
        if not (
            isinstance(other, list) and len(other) == 2 and all(isinstance(o, bytes) for o in other)
        ):
            raise MalformedEvidence("other must be nil or [key, value hash]", where=where)
        pair = (other[0], other[1])
    return StreamProof(stream, LookupProof(index_key(stream), tuple(siblings), value, pair))


def parse_index_proof(data: bytes) -> IndexProofDocument:
    raw = encoding.decode(data)
    keys = {"v", "kind", "origin", "checkpoint", "commit", "proofs"}
    if not isinstance(raw, dict) or set(raw) != keys:
        raise MalformedEvidence(f"an index proof is a map of exactly {sorted(keys)}")
    if raw["v"] != PROOF_VERSION or raw["kind"] != PROOF_KIND:
        raise MalformedEvidence(f"not a {PROOF_KIND} v{PROOF_VERSION}")
    origin, checkpoint = raw["origin"], raw["checkpoint"]
    if not isinstance(origin, str) or not isinstance(checkpoint, bytes):
        raise MalformedEvidence("origin must be str, checkpoint bin")
    evidence = parse_evidence({"commit": raw["commit"], "proofs": raw["proofs"]})
    return IndexProofDocument(origin, checkpoint, evidence)


def open_commit(
    evidence: Evidence, *, checkpoint: Checkpoint, log_keys: Mapping[KeyId, PublicKey]
) -> IndexCommit:
    """The commit the evidence proves under ``checkpoint`` (exact and last), or raise."""
    entry = evidence.commit
    where = f"leaf {entry.leaf}"
    merkle.verify_inclusion(
        index=entry.leaf,
        size=checkpoint.size,
        leaf_hash=leaf_hash(entry.record),
        proof=entry.proof,
        root=checkpoint.root,
    )
    event = parse_record(entry.record, where=where)
    if event.body.stream != INDEX_STREAM or event.body.origin != checkpoint.origin:
        raise CommitNotProven(
            "the commit entry is not this ledger's index commit",
            where=where,
            expected=f"{checkpoint.origin} {INDEX_STREAM}",
            found=f"{event.body.origin} {event.body.stream}",
        )
    verify_signatures(event, log_keys)
    commit = index_commit(event.body)
    if commit.tree_size != entry.leaf or checkpoint.size != entry.leaf + 1:
        raise CommitNotProven(
            "the checkpoint does not end with an exact index commit: the index would not "
            "cover every entry of it",
            where=where,
            expected=f"tree_size = leaf = checkpoint size - 1 = {checkpoint.size - 1}",
            found=f"tree_size {commit.tree_size} at leaf {entry.leaf}",
        )
    return commit


def look_up(evidence: Evidence, commit: IndexCommit, stream: str) -> StreamState | None:
    """The stream's state as of the commit (None: the index proves it has no events)."""
    proof = evidence.proof_of(stream)
    if proof is None:
        raise MalformedEvidence("no lookup proof for this stream", where=stream)
    return verify_lookup(proof.lookup, root=commit.root, stream=stream)


@dataclass(frozen=True)
class IndexAnswer:
    """What a checked index proof says of one stream, and how fresh that is."""

    stream: str
    state: StreamState | None  # None: the stream has no event in the checkpoint
    checkpoint: Checkpoint
    witnesses: tuple[str, ...]  # trusted witnesses whose cosignatures verified
    as_of_s: int | None  # the latest of their cosignature times (None: no witness)


def verify_index_proof(
    data: bytes,
    *,
    origin: str,
    log_keys: Sequence[Ed25519Verifier],
    witnesses: Sequence[AnyCosignatureVerifier],
    stream: str,
) -> IndexAnswer:
    """Check a standalone index proof under trust roots alone; what it proves of ``stream``.

    Raises: the document's shape (``index.evidence_shape``), the checkpoint's signature
    and origin (``note.*``, ``checkpoint.origin``), a witness's bad cosignature
    (``cosignature.invalid``), the commit (``merkle.inclusion``, ``index.commit``,
    ``signature.*``) or the lookup (``index.proof``).
    """
    document = parse_index_proof(data)
    if document.origin != origin:
        raise CommitNotProven(
            "the proof is for another ledger", expected=origin, found=document.origin
        )
    checkpoint, note = open_checkpoint(document.checkpoint, origin=origin, log_keys=log_keys)
    times: dict[str, int] = {}
    for witness in witnesses:
        times.update(verify_cosignatures(note, [witness]))
    keys = {key_id(k.public_key): k.public_key for k in log_keys}
    commit = open_commit(document.evidence, checkpoint=checkpoint, log_keys=keys)
    state = look_up(document.evidence, commit, stream)
    return IndexAnswer(
        stream, state, checkpoint, tuple(sorted(times)), max(times.values()) if times else None
    )
