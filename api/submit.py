"""Client-signed events: check who may submit, append through the store, report the result.

The store does every check on the record (docs/storage.md); here only the principal is
checked: the event's actor must be the token's actor, and an existing dossier must be
one the principal sees (else 404, as for reads). A byte-identical resubmission is
reported by the store as a duplicate and answered with the same result (idempotent).
"""

from __future__ import annotations

from api.auth import Principal, check_visible, require
from api.problems import forbidden
from api.schemas import EventAppendedPublic, StreamHeadPublic
from ledger.bootstrap import Ledger
from ledger.core.event import parse_record
from ledger.core.hashing import GENESIS_PREV
from ledger.storage.merkle_log import LeafNotFound

SYSTEM_PREFIX = "system/"


def leaf_index_of(ledger: Ledger, event_hash: bytes) -> int | None:
    try:
        return ledger.log.leaf_index(event_hash)
    except LeafNotFound:
        return None


def check_stream_access(ledger: Ledger, principal: Principal, stream: str) -> None:
    """System streams are for system principals and inspectors; dossiers need scope."""
    if stream.startswith(SYSTEM_PREFIX):
        if principal.kind not in ("system", "inspector"):
            raise forbidden("system streams are for system principals", check="scope.stream")
        return
    if principal.kind == "inspector":
        return
    state = ledger.dossiers.state(stream)
    if state is not None:
        check_visible(principal, {state.agency, state.current_agency})


def submit(ledger: Ledger, principal: Principal | None, record: bytes) -> EventAppendedPublic:
    who = require(principal, "officer", "system", "inspector")
    event = parse_record(record, where="record")
    if event.body.actor != who.actor:
        raise forbidden(
            f"the event's actor is {event.body.actor!r}; this token acts for {who.actor!r}",
            check="scope.actor",
        )
    check_stream_access(ledger, who, event.body.stream)
    appended = ledger.store.append([record])[0]
    return EventAppendedPublic(
        stream=appended.stream,
        n=appended.n,
        event_hash=appended.event_hash.hex(),
        duplicate=appended.duplicate,
        leaf_index=leaf_index_of(ledger, appended.event_hash),
    )


def stream_head(ledger: Ledger, principal: Principal | None, stream: str) -> StreamHeadPublic:
    who = require(principal, "officer", "system", "inspector")
    check_stream_access(ledger, who, stream)
    head = ledger.store.head(stream)
    n = 0 if head is None else head.body.n
    digest = None if head is None else head.event_hash.hex()
    return StreamHeadPublic(
        origin=ledger.store.origin,
        stream=stream,
        n=n,
        event_hash=digest,
        next_n=n + 1,
        next_prev=digest or GENESIS_PREV.hex(),
    )
