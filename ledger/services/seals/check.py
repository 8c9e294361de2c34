"""The online seal check: what the verification page and ``POST /v1/seals/verify`` say.

Numbered steps, each naming the check that fails (docs/seal.md §Online check):

1. decode the text (``seal.malformed``);
2. open the trust list under the trust anchor (``note.*``, ``seal.trust_list``);
3. key, signature, scope, validity (``seal.unknown_key``, ``seal.signature``,
   ``seal.key_scope``, ``seal.key_validity``);
4. the ledger knows the result (``seal.not_found``), and the seal's truncated
   event and document hashes are the ledger's (``seal.event``, ``seal.document``);
5. the issuing event's inclusion proof against the latest signed checkpoint
   (``merkle.inclusion``), and the key valid at the event's log position;
6. the result's status: valid, revoked, or superseded by a newer number.

The backend is passed in (:class:`SealBackend`); nothing here opens a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

from ledger.core import merkle
from ledger.core.checkpoint import Checkpoint, open_checkpoint
from ledger.core.errors import HosoError, MalformedError, NotFoundError, VerificationError
from ledger.core.event import parse_record
from ledger.core.note import Ed25519Verifier
from ledger.core.seal import (
    SealClaims,
    SealKeyValidity,
    SealUnknownKey,
    decode_text,
    parse_seal,
)
from ledger.core.seal_trust import TrustedSealKey, TrustList, open_trust_list, verify_seal

Outcome = Literal["valid", "revoked", "superseded", "unknown_key", "invalid"]


class SealResultUnknown(NotFoundError):
    """The ledger has no such result (a seal's, or one asked to be sealed)."""

    check = "seal.not_found"


class SealEventMismatch(VerificationError):
    """The seal's truncated event hash is not the issuing event's in the ledger."""

    check = "seal.event"


class SealDocumentMismatch(VerificationError):
    """The seal's truncated document hash is not the result's in the ledger."""

    check = "seal.document"


@dataclass(frozen=True, slots=True)
class ResultStatus:
    status: str  # valid | revoked | superseded
    superseded_by: str | None
    event_hash: bytes  # the full hash of the event that issued the result
    document_hash: bytes  # the full SHA-256 of the result document
    procedure_name_vi: str | None = None
    procedure_name_en: str | None = None


@dataclass(frozen=True, slots=True)
class InclusionEvidence:
    leaf_index: int
    record: bytes  # the leaf: the issuing event's stored record
    proof: tuple[bytes, ...]
    checkpoint_note: bytes  # the latest signed checkpoint


class SealBackend(Protocol):
    """What the online check reads from a ledger."""

    @property
    def origin(self) -> str: ...

    def trust_anchors(self) -> Sequence[Ed25519Verifier]:
        """The keys that sign the trust list and the checkpoints (the log key)."""
        ...

    def trust_list_note(self) -> bytes:
        """The current signed trust list (a C2SP note)."""
        ...

    def result_status(self, dossier: str, result_number: str) -> ResultStatus | None: ...

    def inclusion(self, event_hash: bytes) -> InclusionEvidence | None:
        """The event's leaf and proof in the latest checkpoint; None if not yet in one."""
        ...


@dataclass(frozen=True, slots=True)
class LogEvidence:
    leaf_index: int
    tree_size: int
    root: bytes
    proof: tuple[bytes, ...]
    leaf_hash: bytes
    checkpoint_note: str


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    check: str | None = None  # the failed check's id (None when valid)
    detail: str = ""
    claims: SealClaims | None = None  # only once the signature verified
    key: TrustedSealKey | None = None
    status: ResultStatus | None = None
    log: LogEvidence | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        c = self.claims
        return {
            "outcome": self.outcome,
            "check": self.check,
            "detail": self.detail,
            "claims": None
            if c is None
            else {
                "agency": c.agency,
                "dossier": c.dossier,
                "procedure": c.procedure,
                "result_number": c.result_number,
                "issued_s": c.issued_s,
                "document_hash16": c.document_hash.hex(),
                "event_hash16": c.event_hash.hex(),
                "key_id8": c.key_id.hex(),
            },
            "superseded_by": None if self.status is None else self.status.superseded_by,
            "in_log": None
            if self.log is None
            else {
                "leaf_index": self.log.leaf_index,
                "tree_size": self.log.tree_size,
                "root": self.log.root.hex(),
                "leaf_hash": self.log.leaf_hash.hex(),
                "proof": [h.hex() for h in self.log.proof],
                "checkpoint": self.log.checkpoint_note,
            },
        }


def check_seal(text: str, backend: SealBackend) -> Verdict:
    """Run steps 1–6; failures become a verdict naming their check, never an exception."""
    try:
        parsed = parse_seal(decode_text(text))  # 1
    except MalformedError as err:
        return Verdict("invalid", err.check, err.detail)
    anchors = tuple(backend.trust_anchors())
    trust: TrustList = _opened_trust_list(backend.trust_list_note(), anchors)  # 2 (ours: raise)
    claims = parsed.claims
    try:
        key = verify_seal(parsed, trust)  # 3
    except SealUnknownKey as err:
        return Verdict("unknown_key", err.check, err.detail)
    except VerificationError as err:
        return Verdict("invalid", err.check, err.detail)
    try:
        status = _ledger_status(claims, backend)  # 4
        log = _in_log(status, key, backend, anchors)  # 5
    except HosoError as err:
        return Verdict("invalid", err.check, err.detail, claims=claims, key=key)
    notes = [] if log is not None else ["not yet in a signed checkpoint"]
    if status.status in ("revoked", "superseded"):  # 6
        outcome: Outcome = "revoked" if status.status == "revoked" else "superseded"
        return Verdict(outcome, f"seal.{outcome}", "", claims, key, status, log, notes)
    return Verdict("valid", None, "", claims, key, status, log, notes)


@lru_cache(maxsize=16)
def _opened_trust_list(note: bytes, anchors: tuple[Ed25519Verifier, ...]) -> TrustList:
    """The trust list, its signature checked once per (note, anchors): a frozen value."""
    return open_trust_list(note, anchors)


@lru_cache(maxsize=16)
def _opened_checkpoint(
    note: bytes, origin: str, anchors: tuple[Ed25519Verifier, ...]
) -> Checkpoint:
    """The checkpoint, its signature checked once per (note, origin, anchors)."""
    return open_checkpoint(note, origin=origin, log_keys=anchors)[0]


def _ledger_status(claims: SealClaims, backend: SealBackend) -> ResultStatus:
    where = f"dossier {claims.dossier} result {claims.result_number}"
    status = backend.result_status(claims.dossier, claims.result_number)
    if status is None:
        raise SealResultUnknown("the ledger has no such result", where=where)
    if status.event_hash[: len(claims.event_hash)] != claims.event_hash:
        raise SealEventMismatch(
            "the issuing event differs",
            where=where,
            expected=status.event_hash[:16],
            found=claims.event_hash,
        )
    if status.document_hash[: len(claims.document_hash)] != claims.document_hash:
        raise SealDocumentMismatch(
            "the result document differs",
            where=where,
            expected=status.document_hash[:16],
            found=claims.document_hash,
        )
    return status


def _in_log(
    status: ResultStatus,
    key: TrustedSealKey,
    backend: SealBackend,
    anchors: Sequence[Ed25519Verifier],
) -> LogEvidence | None:
    evidence = backend.inclusion(status.event_hash)
    if evidence is None:
        return None
    checkpoint = _opened_checkpoint(evidence.checkpoint_note, backend.origin, tuple(anchors))
    event = parse_record(evidence.record, where=f"leaf {evidence.leaf_index}")
    if event.event_hash != status.event_hash:
        raise SealEventMismatch(
            "the leaf is not the issuing event",
            where=f"leaf {evidence.leaf_index}",
            expected=status.event_hash,
            found=event.event_hash,
        )
    merkle.verify_inclusion(
        index=evidence.leaf_index,
        size=checkpoint.size,
        leaf_hash=event.leaf_hash,
        proof=evidence.proof,
        root=checkpoint.root,
    )
    index = evidence.leaf_index
    if (key.from_leaf is not None and index <= key.from_leaf) or (
        key.until_leaf is not None and index >= key.until_leaf
    ):
        raise SealKeyValidity(
            "the seal key was not valid at the issuing event's log position",
            where=f"leaf {index}",
            expected=f"after leaf {key.from_leaf}",
            found=index,
        )
    return LogEvidence(
        index,
        checkpoint.size,
        checkpoint.root,
        evidence.proof,
        event.leaf_hash,
        evidence.checkpoint_note.decode(),
    )
