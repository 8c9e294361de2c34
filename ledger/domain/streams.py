"""Every stream by its own schema, and what each event does to the stream index.

Dossier streams hold dossier events, checked by the lifecycle fold. The system streams
each hold only their own event types, with that type's payload shape
(:func:`check_stream_event`, run by the store before an append and by the verifier on
every record):

==========================  ==========================  ======================================
stream                      event types                 payload
==========================  ==========================  ======================================
``system/keys``             KeyRegistered, KeyRevoked   :func:`ledger.core.registry.registry_change`
``system/access``           DataAccessed                :func:`ledger.domain.privacy.access_entries`
``system/privacy``          SubjectErased               :func:`ledger.domain.privacy.erasure`
``system/index``            IndexCommitted              :func:`index_commit`
``system/status/<agency>``  StatusListPublished         :func:`status_published`
==========================  ==========================  ======================================

Any other ``system/...`` stream is refused (``stream.type``). :func:`next_state` is the
stream index's fold (docs/formats.md §12.2): the same function in the ledger that
commits the index and in the verifier that rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ledger.core.encoding import Value
from ledger.core.errors import VerificationError
from ledger.core.event import EventBody
from ledger.core.hashing import HASH_SIZE
from ledger.core.index import ResultStatus, StreamState, with_results
from ledger.core.registry import KEY_REGISTERED, KEY_REVOKED, REGISTRY_STREAM, registry_change
from ledger.domain import lifecycle as ev
from ledger.domain.payloads import MalformedPayload
from ledger.domain.privacy import (
    ACCESS_STREAM,
    DATA_ACCESSED,
    PRIVACY_STREAM,
    SUBJECT_ERASED,
    access_entries,
    erasure,
)

SYSTEM_PREFIX: Final = "system/"
INDEX_STREAM: Final = "system/index"
INDEX_COMMITTED: Final = "IndexCommitted"
STATUS_PREFIX: Final = "system/status/"
STATUS_PUBLISHED: Final = "StatusListPublished"
STATUS_SIGNER_ROLE: Final = "agency_seal"
"""The role of the key that publishes an agency's status lists (its seal key)."""
STATUS_LIST_MIN: Final = 131_072
"""The smallest status list (W3C Bitstring Status List's herd-privacy minimum), in entries."""

RESULT_TYPES: Final = frozenset({ev.RESULT_ISSUED, ev.REVOKED, ev.CORRECTED})
"""The dossier event types that change a result's status in the index."""

TYPES: Final[Mapping[str, frozenset[str]]] = {
    REGISTRY_STREAM: frozenset({KEY_REGISTERED, KEY_REVOKED}),
    ACCESS_STREAM: frozenset({DATA_ACCESSED}),
    PRIVACY_STREAM: frozenset({SUBJECT_ERASED}),
    INDEX_STREAM: frozenset({INDEX_COMMITTED}),
}


class WrongStream(VerificationError):
    """An event type that this stream does not hold, or a system stream that doesn't exist."""

    check = "stream.type"


class SignatureRoleMissing(VerificationError):
    """No signature is by the actor's key registered for a role (and, where the stream
    asks, the agency) the event needs: the store refuses it, the verifier reports it."""

    check = "signature.role"


def is_system(stream: str) -> bool:
    return stream.startswith(SYSTEM_PREFIX)


def stream_types(stream: str) -> frozenset[str] | None:
    """The event types a system stream holds (None: a dossier stream, or no such stream)."""
    if stream.startswith(STATUS_PREFIX) and len(stream) > len(STATUS_PREFIX):
        return frozenset({STATUS_PUBLISHED})
    return TYPES.get(stream)


def acting_agency(stream: str) -> str | None:
    """The agency whose key must act on ``stream`` (None: no such constraint): a status
    list stream ``system/status/<agency>`` is published by that agency's own seal key."""
    if stream.startswith(STATUS_PREFIX) and len(stream) > len(STATUS_PREFIX):
        return stream[len(STATUS_PREFIX) :]
    return None


def check_stream_event(body: EventBody) -> None:
    """Refuse a system-stream event of another stream's type or with a bad payload.

    Dossier streams pass (the lifecycle fold checks them). Raises
    :class:`WrongStream` (``stream.type``), or the payload's own error
    (``record.shape`` for the key registry, ``domain.payload`` for the others).
    """
    if not is_system(body.stream):
        return
    types = stream_types(body.stream)
    where = body.position
    if types is None:
        raise WrongStream("no such system stream", where=where, found=body.stream)
    if body.type not in types:
        raise WrongStream(
            f"{body.stream} holds only {', '.join(sorted(types))}",
            where=where,
            expected=sorted(types),
            found=body.type,
        )
    if body.stream == REGISTRY_STREAM:
        registry_change(body)
    elif body.type == DATA_ACCESSED:
        access_entries(body)
    elif body.type == SUBJECT_ERASED:
        erasure(body)
    elif body.type == INDEX_COMMITTED:
        index_commit(body)
    else:
        status_published(body)


# --- the index's own events ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexCommit:
    """An ``IndexCommitted`` event: the index root over the log's first ``tree_size``
    entries, and how many streams it holds."""

    tree_size: int
    root: bytes
    streams: int


def index_payload(commit: IndexCommit) -> dict[str, Value]:
    return {"root": commit.root, "streams": commit.streams, "tree_size": commit.tree_size}


def index_commit(body: EventBody) -> IndexCommit:
    """Read an ``IndexCommitted`` payload; ``domain.payload`` if it has the wrong shape."""
    where = body.position
    p = body.payload
    if body.type != INDEX_COMMITTED or set(p) != {"root", "streams", "tree_size"}:
        raise MalformedPayload(
            "an IndexCommitted payload is root, streams and tree_size", where=where
        )
    root, streams, size = p["root"], p["streams"], p["tree_size"]
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise MalformedPayload(f"root must be {HASH_SIZE} bytes", where=where)
    if type(streams) is not int or type(size) is not int or streams < 0 or size < 0:
        raise MalformedPayload("streams and tree_size are non-negative ints", where=where)
    return IndexCommit(size, root, streams)


@dataclass(frozen=True, slots=True)
class StatusPublication:
    """A ``StatusListPublished`` event: which list, its size, when, and its document's hash."""

    agency: str
    list_no: int
    size: int
    issued_s: int
    digest: bytes


def status_stream(agency: str) -> str:
    return STATUS_PREFIX + agency


def status_payload(pub: StatusPublication) -> dict[str, Value]:
    return {
        "digest": pub.digest,
        "issued": pub.issued_s,
        "list": pub.list_no,
        "size": pub.size,
    }


def status_published(body: EventBody) -> StatusPublication:
    """Read a ``StatusListPublished`` payload; ``domain.payload`` if it has the wrong shape."""
    where = body.position
    p = body.payload
    if set(p) != {"digest", "issued", "list", "size"}:
        raise MalformedPayload(
            "a StatusListPublished payload is digest, issued, list and size", where=where
        )
    digest, issued, list_no, size = p["digest"], p["issued"], p["list"], p["size"]
    if not isinstance(digest, bytes) or len(digest) != HASH_SIZE:
        raise MalformedPayload(f"digest must be {HASH_SIZE} bytes", where=where)
    if type(list_no) is not int or list_no < 0 or type(issued) is not int or issued < 0:
        raise MalformedPayload("list and issued are non-negative ints", where=where)
    if type(size) is not int or size < STATUS_LIST_MIN or size % 8:
        raise MalformedPayload(
            f"size is a multiple of 8 of at least {STATUS_LIST_MIN}", where=where
        )
    return StatusPublication(body.stream.removeprefix(STATUS_PREFIX), list_no, size, issued, digest)


# --- the index's fold ------------------------------------------------------------------


def result_changes(
    event_type: str, payload: Mapping[str, Value], n: int
) -> tuple[ResultStatus, ...]:
    """What a dossier event does to its results' statuses (docs/formats.md §12.2): an issue
    makes its number valid, a revocation revoked, a correction supersedes the old number
    and makes the new one valid. Other events (and payloads without the fields) change
    nothing."""
    number = payload.get("result_number")
    if event_type == ev.RESULT_ISSUED and isinstance(number, str):
        return (ResultStatus(number, "valid", n),)
    if event_type == ev.REVOKED and isinstance(number, str):
        return (ResultStatus(number, "revoked", n),)
    old = payload.get("supersedes")
    if event_type == ev.CORRECTED and isinstance(number, str) and isinstance(old, str):
        return (ResultStatus(old, "superseded", n), ResultStatus(number, "valid", n))
    return ()


def next_state(
    before: StreamState | None,
    *,
    stream: str,
    n: int,
    head: bytes,
    changes: tuple[ResultStatus, ...] = (),
) -> StreamState:
    """The stream's index value after its event at position ``n`` with hash ``head``."""
    state = StreamState(stream, n, head, () if before is None else before.results)
    return with_results(state, changes) if changes else state


def fold_states(
    events: Iterable[tuple[EventBody, bytes]],
    before: Mapping[str, StreamState] | None = None,
) -> dict[str, StreamState]:
    """Every stream's index value after ``events`` (body and event hash, in log order),
    from ``before`` (default: an empty index). The reference fold the store's index and
    the verifier's rebuild must agree with."""
    states = dict(before or {})
    for body, head in events:
        states[body.stream] = next_state(
            states.get(body.stream),
            stream=body.stream,
            n=body.n,
            head=head,
            changes=result_changes(body.type, body.payload, body.n),
        )
    return states
