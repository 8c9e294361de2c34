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
6. the result's status, **proven** from the stream index (docs/formats.md §12): the
   backend's index proof for the dossier is checked under the trust anchors and the
   trust list's witnesses (``index.*``, ``note.*``, ``cosignature.invalid``), and the
   result's entry in it says valid, revoked, or superseded (by the number the same
   event made valid). With no proof (no checkpoint ending with an index commit yet),
   or a proof that does not hold the result yet (issued after the checkpoint), the
   outcome is ``status_unknown``: never "valid" on the server's word. The verdict's
   :class:`Freshness` says as of when, and how many trusted witnesses cosigned that.

The backend is passed in (:class:`SealBackend`); nothing here opens a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

from ledger.core import merkle
from ledger.core.checkpoint import Checkpoint, open_checkpoint, parse_cosignature_vkey
from ledger.core.errors import HosoError, MalformedError, NotFoundError, VerificationError
from ledger.core.event import parse_record
from ledger.core.note import Ed25519Verifier
from ledger.core.seal import (
    SEAL_KEY_ID_SIZE,
    SealClaims,
    SealKeyValidity,
    SealUnknownKey,
    decode_text,
    parse_seal,
)
from ledger.core.seal_trust import TrustedSealKey, TrustList, open_trust_list, verified_claims
from ledger.core.status_list import (
    DEFAULT_MAX_AGE_S,
    StatusListBody,
    StatusListMismatch,
    check_fresh,
    parse_status_list,
    verify_status_list,
)
from verify.evidence import verify_index_proof

Outcome = Literal["valid", "revoked", "superseded", "status_unknown", "unknown_key", "invalid"]


class SealResultUnknown(NotFoundError):
    """The ledger has no such result (a seal's, or one asked to be sealed)."""

    check = "seal.not_found"


class SealEventMismatch(VerificationError):
    """The seal's truncated event hash is not the issuing event's in the ledger."""

    check = "seal.event"


class SealNoStatusRef(NotFoundError):
    """A version 1 seal carries no status list entry (only the online check knows)."""

    check = "seal.no_status_ref"


class StatusListMissing(NotFoundError):
    """No status list was given to the offline check."""

    check = "status_list.missing"


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

    def index_proof(self, dossier: str) -> bytes | None:
        """The dossier's index proof document at the latest checkpoint (docs/formats.md
        §12.4); None if no checkpoint ends with an index commit yet."""
        ...


@dataclass(frozen=True, slots=True)
class Freshness:
    """How fresh a proven status is: the checkpoint it was proven at, and the trusted
    witnesses that cosigned it (their latest cosignature time is ``as_of_s``)."""

    checkpoint_size: int
    witnesses: tuple[str, ...]
    as_of_s: int | None  # None: no trusted witness cosigned the checkpoint

    def as_dict(self) -> dict[str, object]:
        return {
            "checkpoint_size": self.checkpoint_size,
            "witnesses": list(self.witnesses),
            "cosigned": len(self.witnesses),
            "as_of_s": self.as_of_s,
        }


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
    freshness: Freshness | None = None  # set when the status was proven from the index
    superseded_by: str | None = None  # proven: the number that replaced this one

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "check": self.check,
            "detail": self.detail,
            "claims": claims_map(self.claims),
            "superseded_by": self.superseded_by,
            "freshness": None if self.freshness is None else self.freshness.as_dict(),
            "notes": list(self.notes),
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


def claims_map(c: SealClaims | None) -> dict[str, object] | None:
    """A verified seal's claims as the online and offline verdicts show them (JSON)."""
    if c is None:
        return None
    return {
        "agency": c.agency,
        "dossier": c.dossier,
        "procedure": c.procedure,
        "result_number": c.result_number,
        "issued_s": c.issued_s,
        "document_hash16": c.document_hash.hex(),
        "event_hash16": c.event_hash.hex(),
        "key_id8": c.key_id.hex(),
        "status_entry": None if c.status is None else [c.status.list_no, c.status.entry],
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
        claims, key = verified_claims(parsed, trust)  # 3
    except SealUnknownKey as err:
        return Verdict("unknown_key", err.check, err.detail)
    except VerificationError as err:
        return Verdict("invalid", err.check, err.detail)
    try:
        status = _ledger_status(claims, backend)  # 4
        log = _in_log(status, key, backend, anchors)  # 5
        proven = _proven_status(claims, backend, anchors, trust)  # 6
    except HosoError as err:
        return Verdict("invalid", err.check, err.detail, claims=claims, key=key)
    notes = [] if log is not None else ["not yet in a signed checkpoint"]
    if proven is None:
        notes.append("no checkpoint proves the result's status yet")
        return Verdict(
            "status_unknown",
            "seal.status_unknown",
            "the result's status is not yet proven by a signed checkpoint",
            claims,
            key,
            status,
            log,
            notes,
        )
    outcome, superseded_by, freshness = proven
    check = None if outcome == "valid" else f"seal.{outcome}"
    return Verdict(outcome, check, "", claims, key, status, log, notes, freshness, superseded_by)


def _proven_status(
    claims: SealClaims,
    backend: SealBackend,
    anchors: Sequence[Ed25519Verifier],
    trust: TrustList,
) -> tuple[Outcome, str | None, Freshness] | None:
    """Step 6: the result's status from the dossier's checked index proof (None: not
    proven yet)."""
    data = backend.index_proof(claims.dossier)
    if data is None:
        return None
    answer = verify_index_proof(
        data,
        origin=backend.origin,
        log_keys=anchors,
        witnesses=[parse_cosignature_vkey(v) for v in trust.witnesses],
        stream=claims.dossier,
    )
    results = () if answer.state is None else answer.state.results
    entry = next((r for r in results if r.number == claims.result_number), None)
    if entry is None:
        return None
    freshness = Freshness(answer.checkpoint.size, answer.witnesses, answer.as_of_s)
    if entry.status == "valid":
        return "valid", None, freshness
    if entry.status == "revoked":
        return "revoked", None, freshness
    by = next((r.number for r in results if r.n == entry.n and r.status == "valid"), None)
    return "superseded", by, freshness


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


# --- offline, with a status list ---------------------------------------------------------

OfflineOutcome = Literal["valid", "invalid_status", "status_unknown", "unknown_key", "invalid"]


@dataclass(frozen=True, slots=True)
class OfflineVerdict:
    """What a seal check with no network says: authenticity from the trust list, and the
    status from a signed status list only while it is fresh (docs/seal.md §Offline)."""

    outcome: OfflineOutcome
    check: str | None = None
    detail: str = ""
    claims: SealClaims | None = None
    key: TrustedSealKey | None = None
    list_issued_s: int | None = None
    list_checkpoint: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "check": self.check,
            "detail": self.detail,
            "claims": claims_map(self.claims),
            "status_list": None
            if self.list_issued_s is None
            else {"issued_s": self.list_issued_s, "checkpoint": self.list_checkpoint},
        }


def check_offline(
    text: str,
    *,
    trust_note: bytes,
    anchors: Sequence[Ed25519Verifier],
    status_list: bytes | None,
    now_s: int,
    max_age_s: int = DEFAULT_MAX_AGE_S,
) -> OfflineVerdict:
    """The seal's authenticity under the trust list, and its status from ``status_list``.

    "valid" only with a fresh list, signed by a seal key of the seal's own agency in the
    same trust list, whose entry for the seal is clear; a set entry is
    ``invalid_status`` (revoked or superseded: the online check says which). No list, a
    stale one, a v1 seal (no entry) or any fault in the list is ``status_unknown`` with
    the check that failed — never "valid".
    """
    try:
        parsed = parse_seal(decode_text(text))
    except MalformedError as err:
        return OfflineVerdict("invalid", err.check, err.detail)
    trust = open_trust_list(trust_note, anchors)
    try:
        claims, key = verified_claims(parsed, trust)
    except SealUnknownKey as err:
        return OfflineVerdict("unknown_key", err.check, err.detail)
    except VerificationError as err:
        return OfflineVerdict("invalid", err.check, err.detail)
    try:
        if claims.status is None:
            raise SealNoStatusRef("a version 1 seal has no status list entry: check it online")
        if status_list is None:
            raise StatusListMissing("no status list given")
        listed = parse_status_list(status_list)
        body = listed.body
        _list_matches(body, claims, key, trust, origin=trust.origin)
        signer = trust.find(body.key_id[:SEAL_KEY_ID_SIZE])
        verify_status_list(listed, signer.public_key)
        check_fresh(body, now_s=now_s, max_age_s=max_age_s)
        status = body.status(claims.status.entry)
    except HosoError as err:
        return OfflineVerdict("status_unknown", err.check, err.detail, claims, key)
    outcome: OfflineOutcome = "valid" if status == "valid" else "invalid_status"
    check = None if outcome == "valid" else "seal.invalid_status"
    return OfflineVerdict(outcome, check, "", claims, key, body.issued_s, body.checkpoint)


def _list_matches(
    body: StatusListBody, claims: SealClaims, key: TrustedSealKey, trust: TrustList, *, origin: str
) -> None:
    ref = claims.status
    where = f"list {body.agency}/{body.list_no}"
    if ref is None:  # (the caller checked)
        raise StatusListMismatch("the seal has no status entry", where=where)
    if body.origin != origin:
        raise StatusListMismatch(
            "the list is for another ledger", where=where, expected=origin, found=body.origin
        )
    if (body.agency, body.list_no) != (key.agency, ref.list_no):
        raise StatusListMismatch(
            "the list is not the one the seal points to",
            where=where,
            expected=f"{key.agency}/{ref.list_no}",
            found=f"{body.agency}/{body.list_no}",
        )
    signer = next((k for k in trust.keys if k.key_id == body.key_id), None)
    if signer is None or signer.agency != body.agency:
        raise StatusListMismatch(
            "the list is not signed by a trusted seal key of its agency",
            where=where,
            expected=body.agency,
            found=body.key_id,
        )
