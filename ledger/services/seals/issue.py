"""Issuing seals from a ledger, its trust list, and the ledger side of the online check.

The I/O edge of the QR seal (the format is :mod:`ledger.core.seal`): it reads
a dossier's state and the event that issued a result, and signs the claims
with the agency seal key (docs/seal.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

from ledger.core.errors import OutOfServiceError, VerificationError
from ledger.core.hashing import EventHash
from ledger.core.note import Ed25519NoteSigner, Ed25519Verifier, Note
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.seal import SEAL_HASH_SIZE, SEAL_KEY_ID_SIZE, SealClaims, sign_seal
from ledger.core.seal_trust import TrustedSealKey, TrustList, sign_trust_list
from ledger.core.signing import Signer
from ledger.services.dossiers import DossierService, DossierUnknown
from ledger.services.index_proofs import IndexNotCommitted, index_proof
from ledger.services.seals.check import InclusionEvidence, ResultStatus, SealResultUnknown
from ledger.services.status_lists import assign_entry
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.keys import KeyRegistry
from ledger.storage.merkle_log import LeafNotFound, MerkleLog
from ledger.storage.trust_lists import TrustLists

SEAL_ROLE: Final = "agency_seal"
SECOND: Final = 1_000_000


class SealResultNotValid(VerificationError):
    """The result was revoked or superseded: no new seal is issued for it."""

    check = "seal.revoked"


class SealKeyNotAllowed(VerificationError):
    """The signer is not a registered agency seal key of the issuing agency."""

    check = "seal.issuer_key"


class TrustListKeyMissing(OutOfServiceError):
    """The trust list is signed with the log key, and none is loaded."""

    check = "seal.trust_list_key"


class SealSources(Protocol):
    """The parts of a ledger seals read (:class:`ledger.bootstrap.Ledger` has them)."""

    @property
    def dossiers(self) -> DossierService: ...
    @property
    def log(self) -> MerkleLog: ...
    @property
    def checkpoints(self) -> Checkpoints: ...
    @property
    def keys(self) -> KeyRegistry: ...


@dataclass(frozen=True, slots=True)
class SealParts:
    """The same parts, for callers without a bootstrapped Ledger (the demo)."""

    dossiers: DossierService
    log: MerkleLog
    checkpoints: Checkpoints
    keys: KeyRegistry


def issue_seal(src: SealSources, dossier_code: str, result_number: str, signer: Signer) -> bytes:
    """Sign a seal for a valid result with its agency's seal key."""
    state = src.dossiers.state(dossier_code)
    result = None if state is None else state.results.get(result_number)
    if result is not None and result.status != "valid":
        raise SealResultNotValid(
            f"the result is {result.status}",
            where=f"dossier {dossier_code} result {result_number}",
            found=result.superseded_by,
        )
    return sign_seal(seal_claims(src, dossier_code, result_number, signer), signer)


def seal_claims(
    src: SealSources, dossier_code: str, result_number: str, signer: Signer
) -> SealClaims:
    """The claims a seal by ``signer`` makes about a result, whatever its status now."""
    where = f"dossier {dossier_code} result {result_number}"
    state = src.dossiers.state(dossier_code)
    if state is None:
        raise DossierUnknown("no dossier has this code", found=dossier_code)
    result = state.results.get(result_number)
    if result is None:
        raise SealResultUnknown("the dossier has no result with this number", where=where)
    event = src.dossiers.store.stored_event(dossier_code, result.n)
    listings = src.keys.list()
    mine = next((k for k in listings if k.registration.key_id == signer.key_id), None)
    if mine is None or SEAL_ROLE not in mine.registration.roles or mine.revoked_n is not None:
        raise SealKeyNotAllowed(
            "the key is not a registered, unrevoked agency seal key",
            where=where,
            found=signer.key_id,
        )
    registration = mine.registration
    sealed_by = {s.key_id for s in event.signatures}
    agency_seals = {
        k.registration.key_id
        for k in listings
        if SEAL_ROLE in k.registration.roles and k.registration.agency == registration.agency
    }
    if not sealed_by & agency_seals:
        raise SealKeyNotAllowed(
            "the issuing event carries no seal of this key's agency",
            where=where,
            expected=registration.agency,
        )
    return SealClaims(
        key_id=signer.key_id[:SEAL_KEY_ID_SIZE],
        agency=registration.agency,  # not encoded in v2: the verifier takes the key's
        dossier=dossier_code,
        procedure=state.procedure,
        result_number=result_number,
        issued_s=result.issued_us // SECOND,
        document_hash=result.document_hash[:SEAL_HASH_SIZE],
        event_hash=event.event_hash[:SEAL_HASH_SIZE],
        status=assign_entry(src.dossiers.store, registration.agency, dossier_code, result_number),
    )


def trust_list(src: SealSources, *, origin: str, now_us: int) -> TrustList:
    """Every agency seal key in the registry, with its validity (docs/formats.md §11.4)."""
    store = src.dossiers.store
    keys = []
    for listing in src.keys.list():
        reg = listing.registration
        if SEAL_ROLE not in reg.roles:
            continue
        registered = store.stored_event(REGISTRY_STREAM, listing.registered_n)
        revoked = (
            None
            if listing.revoked_n is None
            else store.stored_event(REGISTRY_STREAM, listing.revoked_n)
        )
        keys.append(
            TrustedSealKey(
                key_id=reg.key_id,
                public_key=reg.public_key,
                agency=reg.agency,
                valid_from_s=registered.body.time_us // SECOND,
                valid_until_s=None if revoked is None else revoked.body.time_us // SECOND,
                from_leaf=_leaf(src.log, registered.event_hash),
                until_leaf=None if revoked is None else _leaf(src.log, revoked.event_hash),
            )
        )
    witnesses = tuple(sorted(w.vkey for w in src.checkpoints.witnesses.values()))
    return TrustList(
        origin=origin, issued_s=now_us // SECOND, keys=tuple(keys), witnesses=witnesses
    )


def signed_trust_list(src: SealSources, *, origin: str, now_us: int) -> Note:
    """The trust list of the current registry, signed with the log key and stored, so a
    server without the keystore serves it (:class:`LedgerSealBackend`)."""
    signer = src.checkpoints.signer
    if signer is None:
        raise TrustListKeyMissing("open the keystore with the log key to sign the trust list")
    trust = trust_list(src, origin=origin, now_us=now_us)
    note = sign_trust_list(trust, signer)
    head = src.dossiers.store.head(REGISTRY_STREAM)
    TrustLists(src.log.backend).store(
        b"" if head is None else head.event_hash, trust.issued_s, note.serialise()
    )
    return note


def _leaf(log: MerkleLog, digest: bytes) -> int | None:
    try:
        return log.leaf_index(digest)
    except LeafNotFound:
        return None


class TrustListUnsigned(OutOfServiceError):
    """No signed trust list is stored and no log key is loaded to sign one."""

    check = "seal.trust_list_unsigned"


class LedgerSealBackend:
    """:class:`ledger.services.seals.check.SealBackend` over a ledger.

    With the log key (``log_signer``) it signs the trust list when the key registry
    changes and keeps the signed note in the database (``hoso_trust_lists``); with only
    the log key's public half (``log_verifier``: a server run without the keystore) it
    serves the stored note that lists the current registry, else the latest stored one.
    """

    def __init__(
        self,
        src: SealSources,
        *,
        log_signer: Ed25519NoteSigner | None = None,
        log_verifier: Ed25519Verifier | None = None,
        now_us: int | None = None,
    ) -> None:
        verifier = log_signer.verifier if log_signer is not None else log_verifier
        if verifier is None:
            raise TrustListUnsigned("a seal backend needs the log key or its vkey")
        self.src = src
        self.signer = log_signer
        self.verifier = verifier
        self.now_us = now_us
        self.stored = TrustLists(src.log.backend)
        self._trust_list: tuple[bytes, bytes] | None = None  # (registry head, signed note)
        # Reused answers, each checked by one cheap query per call (never a fixed delay):
        # a result's status while its dossier's head is the same; the latest checkpoint
        # while its size and number of cosignatures are; a leaf's proof for that size.
        self._status: dict[tuple[str, str], tuple[int, ResultStatus]] = {}
        self._latest: tuple[tuple[int, int], bytes] | None = None
        self._evidence: dict[tuple[bytes, int], InclusionEvidence | None] = {}

    @property
    def origin(self) -> str:
        return self.verifier.name

    def trust_anchors(self) -> Sequence[Ed25519Verifier]:
        return [self.verifier]

    def trust_list_note(self) -> bytes:
        """The signed trust list of the current registry: cached, else stored, else signed
        (with the log key) and stored; without the key, the latest stored."""
        head = self.src.dossiers.store.head(REGISTRY_STREAM)
        version = b"" if head is None else head.event_hash
        if self._trust_list is not None and self._trust_list[0] == version:
            return self._trust_list[1]
        note = self.stored.for_registry(version)
        if note is None and self.signer is not None:
            now = self.now_us if self.now_us is not None else self.src.dossiers.clock_us()
            trust = trust_list(self.src, origin=self.origin, now_us=now)
            note = sign_trust_list(trust, self.signer).serialise()
            self.stored.store(version, trust.issued_s, note)
        if note is None:
            latest = self.stored.latest()
            if latest is None:
                raise TrustListUnsigned(
                    "no signed seal trust list is stored: run `hoso seal trust-list` where the"
                    " log key is (or serve with the keystore open)"
                )
            return latest  # not cached: the key holder may sign the current one any time
        self._trust_list = (version, note)
        return note

    def result_status(self, dossier: str, result_number: str) -> ResultStatus | None:
        head = self.src.dossiers.store.head_n(dossier)
        held = self._status.get((dossier, result_number))
        if held is not None and held[0] == head:
            return held[1]
        status = self._result_status(dossier, result_number)
        if status is not None:
            if len(self._status) > 50_000:
                self._status.clear()
            self._status[(dossier, result_number)] = (head, status)
        return status

    def _result_status(self, dossier: str, result_number: str) -> ResultStatus | None:
        state = self.src.dossiers.state(dossier)
        result = None if state is None else state.results.get(result_number)
        if state is None or result is None:
            return None
        event = self.src.dossiers.store.stored_event(dossier, result.n)
        procedure = self.src.dossiers.catalogue.procedures.get(state.procedure)
        return ResultStatus(
            status=result.status,
            superseded_by=result.superseded_by,
            event_hash=event.event_hash,
            document_hash=result.document_hash,
            procedure_name_vi=None if procedure is None else procedure.name_vi,
            procedure_name_en=None if procedure is None else procedure.name_en,
        )

    def index_proof(self, dossier: str) -> bytes | None:
        try:
            return index_proof(self.src.log.backend, [dossier]).encode()
        except IndexNotCommitted:
            return None

    def inclusion(self, event_hash: bytes) -> InclusionEvidence | None:
        latest = self._latest_note()
        if latest is None:
            return None
        size, note = latest
        key = (bytes(event_hash), size)
        if key in self._evidence:
            found = self._evidence[key]
            return None if found is None else replace(found, checkpoint_note=note)
        index = _leaf(self.src.log, EventHash(event_hash))
        evidence = None
        if index is not None and index < size:
            evidence = InclusionEvidence(
                leaf_index=index,
                record=self.src.log.leaf_record(index),
                proof=tuple(self.src.log.inclusion_proof(index=index, size=size)),
                checkpoint_note=note,
            )
        if evidence is not None:  # (a leaf not yet in the checkpoint may be soon)
            if len(self._evidence) > 50_000:
                self._evidence.clear()
            self._evidence[key] = evidence
        return evidence

    def _latest_note(self) -> tuple[int, bytes] | None:
        """The latest signed checkpoint with its cosignatures, read again only when its
        size or its number of cosignatures changed (one query)."""
        version = self.src.checkpoints.latest_version()
        if version is None:
            return None
        if self._latest is None or self._latest[0] != version:
            self._latest = (version, self.src.checkpoints.stored_note(version[0]).serialise())
        return version[0], self._latest[1]
