"""``hoso bundle export``: one dossier's offline bundle from a stored ledger.

The exporter reads through the storage layer (leaf index, stored nodes,
checkpoints); nothing it says is trusted by the verifier, which checks every
proof against the signed checkpoint (:mod:`verify.bundle`, docs/formats.md §10).
The bundle covers the latest checkpoint, which ends with an exact index commit; its
lookup proofs of the dossier and of the key registry let the verifier check that the
bundle holds every event of both. Events integrated after it are left out until the
next checkpoint.
"""

from __future__ import annotations

from ledger.core.errors import NotFoundError
from ledger.core.event import parse_record
from ledger.core.registry import REGISTRY_STREAM
from ledger.services.index_proofs import index_evidence
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import exact_commit_at
from ledger.storage.database import Backend, open_backend
from ledger.storage.merkle_log import MerkleLog
from verify.bundle_format import RESULT_TYPES, Bundle, BundleEntry


class BundleSubjectUnknown(NotFoundError):
    """No dossier (or result) with this code is covered by the latest checkpoint."""

    check = "bundle.unknown"


def export_bundle(url: str, *, dossier: str | None = None, result: str | None = None) -> Bundle:
    """The bundle of ``dossier``, or of the dossier holding result number ``result``."""
    backend = open_backend(url)
    try:
        return bundle_of(backend, dossier=dossier, result=result)
    finally:
        backend.close()


def bundle_of(backend: Backend, *, dossier: str | None = None, result: str | None = None) -> Bundle:
    """:func:`export_bundle` over an open backend (the API's)."""
    log = MerkleLog(backend)
    latest = Checkpoints(log, signer=None).latest()
    if latest is None:
        raise BundleSubjectUnknown("the ledger has no signed checkpoint yet")
    checkpoint, stored = latest
    commit = exact_commit_at(log, checkpoint.size)
    if commit is None or commit.leaf is None:
        raise BundleSubjectUnknown(
            "the latest checkpoint does not end with an index commit: sign a new checkpoint",
            found=checkpoint.size,
        )
    if dossier is None:
        if result is None:
            raise BundleSubjectUnknown("name a dossier or a result")
        dossier = _dossier_of_result(backend, result)
    events = _entries(backend, log, dossier, checkpoint.size)
    if not events:
        raise BundleSubjectUnknown(
            "no event of this dossier is covered by the latest checkpoint", found=dossier
        )
    return Bundle(
        origin=checkpoint.origin,
        checkpoint=stored.serialise(),
        dossier=dossier,
        result=result or "",
        events=events,
        registry=_entries(backend, log, REGISTRY_STREAM, checkpoint.size),
        index=index_evidence(backend, log, commit, [dossier, REGISTRY_STREAM], checkpoint.size),
    )


def _entries(backend: Backend, log: MerkleLog, stream: str, size: int) -> tuple[BundleEntry, ...]:
    rows = backend.sql.rows(
        "SELECT leaf_index FROM hoso_leaves WHERE stream = %s AND leaf_index < %s ORDER BY n",
        [stream, size],
    )
    out = []
    for row in rows:
        leaf = int(row["leaf_index"])
        proof = log.inclusion_proof(index=leaf, size=size)
        out.append(BundleEntry(leaf, log.leaf_record(leaf), tuple(proof)))
    return tuple(out)


def _dossier_of_result(backend: Backend, number: str) -> str:
    rows = backend.sql.rows(
        "SELECT state FROM hoso_events WHERE topic = %s OR topic = %s", list(RESULT_TYPES)
    )
    for row in rows:
        body = parse_record(bytes(row["state"])).body
        if body.payload.get("result_number") == number:
            return body.stream
    raise BundleSubjectUnknown("no dossier holds a result with this number", found=number)
