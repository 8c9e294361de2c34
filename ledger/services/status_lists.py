"""Publishing signed status lists (docs/formats.md §13) from the stream index.

A list is read from the index at the latest checkpoint that ends with an index commit,
so the bits say what that checkpoint proves: entry ``e`` is set when the result it was
drawn for is revoked or superseded there. The agency's seal key signs the document,
and a ``StatusListPublished`` event on ``system/status/<agency>``, signed by the same
key, commits its SHA-256 and issue time to the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.chain import next_body
from ledger.core.errors import RefusedError
from ledger.core.event import sign_event
from ledger.core.index import index_key, parse_state
from ledger.core.registry import KeyRegistration
from ledger.core.seal import StatusRef
from ledger.core.signing import Signer
from ledger.core.status_list import StatusList, StatusListBody, bitstring, sign_status_list
from ledger.domain.streams import (
    STATUS_PUBLISHED,
    StatusPublication,
    status_payload,
    status_stream,
)
from ledger.services.index_proofs import IndexNotCommitted
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import exact_commit_at
from ledger.storage.index_store import IndexStore
from ledger.storage.keys import KeyRegistry
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.status_entries import LIST_SIZE, StatusEntries
from ledger.storage.store import EventStore

SECOND = 1_000_000
SEAL_ROLE = "agency_seal"


class StatusKeyRefused(RefusedError):
    """The key given is not a registered, unrevoked agency seal key of that agency."""

    check = "status_list.key"


@dataclass(frozen=True, slots=True)
class Published:
    status_list: StatusList
    publication: StatusPublication
    invalid: int  # entries set


def seal_key(keys: KeyRegistry, signer: Signer, agency: str) -> KeyRegistration:
    """The registration of ``signer`` as an unrevoked seal key of ``agency``."""
    for listing in keys.list():
        reg = listing.registration
        if (
            reg.key_id == signer.key_id
            and listing.revoked_n is None
            and SEAL_ROLE in reg.roles
            and reg.agency == agency
        ):
            return reg
    raise StatusKeyRefused(
        "a status list is signed by an unrevoked agency seal key of its agency",
        where=f"agency {agency}",
        found=signer.key_id,
    )


def build_status_list(
    store: EventStore, log: MerkleLog, agency: str, list_no: int, signer: Signer, *, now_s: int
) -> tuple[StatusList, int]:
    """The signed list ``list_no`` of ``agency`` at the latest committed checkpoint, and
    how many of its entries are set."""
    latest = Checkpoints(log, signer=None).latest()
    commit = None if latest is None else exact_commit_at(log, latest[0].size)
    if latest is None or commit is None:
        raise IndexNotCommitted(
            "the latest checkpoint does not end with an index commit: sign a new checkpoint"
        )
    entries = StatusEntries(store.backend)
    members = entries.members(agency, list_no)
    streams = sorted({dossier for _, dossier, _ in members})
    values = IndexStore(store.backend).values(
        [index_key(s) for s in streams], version=commit.payload.tree_size
    )
    statuses: dict[tuple[str, str], str] = {}
    for value in values.values():
        state = parse_state(value)
        for result in state.results:
            statuses[(state.stream, result.number)] = result.status
    invalid = {
        entry
        for entry, dossier, result in members
        if statuses.get((dossier, result), "valid") != "valid"
    }
    body = StatusListBody(
        origin=store.origin,
        agency=agency,
        list_no=list_no,
        issued_s=now_s,
        checkpoint=latest[0].size,
        bits=bitstring(LIST_SIZE, invalid),
        key_id=signer.key_id,
    )
    return sign_status_list(body, signer), len(invalid)


def publish(
    store: EventStore,
    log: MerkleLog,
    keys: KeyRegistry,
    agency: str,
    signer: Signer,
    *,
    now_us: int,
    lists: list[int] | None = None,
) -> list[Published]:
    """Sign every list of ``agency`` (or ``lists``), store the documents and commit each
    one's hash to the log."""
    reg = seal_key(keys, signer, agency)
    entries = StatusEntries(store.backend)
    out = []
    for list_no in entries.lists(agency) if lists is None else lists:
        status_list, invalid = build_status_list(
            store, log, agency, list_no, signer, now_s=now_us // SECOND
        )
        publication = StatusPublication(
            agency, list_no, status_list.body.size, status_list.body.issued_s, status_list.digest
        )
        stream = status_stream(agency)
        body = next_body(
            store.head(stream),
            origin=store.origin,
            stream=stream,
            event_type=STATUS_PUBLISHED,
            actor=reg.actor,
            time_us=now_us,
            payload=status_payload(publication),
        )
        entries.store(agency, list_no, status_list.body.issued_s, status_list.document)
        store.append([sign_event(body, [signer]).record])
        out.append(Published(status_list, publication, invalid))
    return out


def assign_entry(store: EventStore, agency: str, dossier: str, result: str) -> StatusRef:
    """The result's entry in its agency's status lists (drawn on first use)."""
    return StatusEntries(store.backend).assign(agency, dossier, result)


def latest_document(store: EventStore, agency: str, list_no: int) -> bytes:
    """The latest published document of the agency's list (``status_list.unknown`` if none)."""
    return StatusEntries(store.backend).latest(agency, list_no)
