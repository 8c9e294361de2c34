"""The per-stream hash chain (docs/formats.md §4.4 step 4): ``n`` and ``prev`` in each body.

Every stream (a dossier, or a system stream) is a chain: its first event has
``n = 1`` and ``prev`` = the genesis value, each later one ``n + 1`` and the hash
of its predecessor. :func:`next_body` builds the body that continues a head;
:func:`verify_position` and :func:`verify_link` check that one does. Omission,
reordering or substitution inside a stream breaks the chain.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger.core.encoding import Value
from ledger.core.errors import ChainLinkBroken, ChainPositionBroken, ChainStreamMismatch
from ledger.core.event import EventBody, SignedEvent
from ledger.core.hashing import GENESIS_PREV, EventHash


class StreamHead(NamedTuple):
    """What the next event of a stream must continue: the head's position and hash."""

    n: int
    event_hash: EventHash


def next_body(
    head: SignedEvent | None,
    *,
    origin: str,
    stream: str,
    event_type: str,
    actor: str,
    time_us: int,
    payload: dict[str, Value],
) -> EventBody:
    """The body of the event that continues ``stream`` after ``head`` (``None``: its first).

    The one place that turns a stream's head into the next position and ``prev``;
    every writer (the dossier service, the custodian, the access log, the registry
    commands, the generator) signs what this returns.
    """
    if head is not None and (head.body.origin, head.body.stream) != (origin, stream):
        raise ChainStreamMismatch(
            "the head belongs to another ledger or stream",
            where=head.body.position,
            expected=f"{origin} {stream}",
            found=f"{head.body.origin} {head.body.stream}",
        )
    return EventBody(
        origin=origin,
        stream=stream,
        n=1 if head is None else head.body.n + 1,
        prev=GENESIS_PREV if head is None else head.event_hash,
        type=event_type,
        actor=actor,
        time_us=time_us,
        payload=payload,
    )


def verify_position(*, n: int, prev: bytes, head: StreamHead | None, where: str) -> None:
    """Check that an event at position ``n`` linking to ``prev`` continues ``head``
    (``None``: it must be the stream's first event, n = 1 with the genesis ``prev``)."""
    if head is None:
        if n != 1:
            raise ChainPositionBroken(
                "a stream's first event must have n=1", where=where, expected=1, found=n
            )
        if prev != GENESIS_PREV:
            raise ChainLinkBroken(
                "first event's prev is not the genesis value",
                where=where,
                expected=GENESIS_PREV,
                found=prev,
            )
        return
    if n != head.n + 1:
        raise ChainPositionBroken(
            "position does not follow the predecessor's",
            where=where,
            expected=head.n + 1,
            found=n,
        )
    if prev != head.event_hash:
        raise ChainLinkBroken(
            "prev is not the predecessor's event hash",
            where=where,
            expected=head.event_hash,
            found=prev,
        )


def verify_link(event: SignedEvent, predecessor: SignedEvent | None) -> None:
    """Check ``event`` follows ``predecessor`` in its stream (``None``: it must be first)."""
    body = event.body
    if predecessor is not None:
        before = predecessor.body
        if (before.origin, before.stream) != (body.origin, body.stream):
            raise ChainStreamMismatch(
                "predecessor belongs to another ledger or stream",
                where=body.position,
                expected=f"{before.origin} {before.stream}",
                found=f"{body.origin} {body.stream}",
            )
    verify_position(
        n=body.n,
        prev=body.prev,
        head=None
        if predecessor is None
        else StreamHead(predecessor.body.n, predecessor.event_hash),
        where=body.position,
    )
