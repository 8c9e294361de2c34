"""Parse records and check their Ed25519 signatures in batches, on every core.

Signature checks are the verifier's cost, and each is a pure function of
(public key, message, signature). A batch of raw records is shipped to a
worker process with the key ids → public keys known so far (a key id is
derived from its public key, so the pair never changes); the worker parses
each record, hashes it, checks every signature whose key it was given, and
returns a compact summary. Whether a key was *valid at that log position*
(registered, not revoked, right actor and role) is decided afterwards, in log
order, by the caller: it depends on the registry as folded so far.

``workers <= 1`` runs the batches inline (no processes).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import NamedTuple

from ledger.core.errors import HosoError, MalformedError, render
from ledger.core.event import SignedEvent, parse_record
from ledger.core.hashing import EventHash, event_signature_message, leaf_hash
from ledger.core.index import ResultStatus
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.signing import Verification, signature_valid, signatures_valid
from ledger.domain.streams import (
    INDEX_STREAM,
    IndexCommit,
    WrongStream,
    check_stream_event,
    index_commit,
    is_system,
    result_changes,
)


class Parsed(NamedTuple):
    """What pass 1 needs of one well-formed record."""

    origin: str
    stream: str
    n: int
    prev: bytes
    event_hash: bytes
    type: str
    actor: str
    time_us: int
    key_ids: tuple[bytes, ...]
    bad: tuple[int, ...]  # indices of signatures that did not verify
    unchecked: tuple[int, ...]  # indices of signatures whose key was not given
    leaf_hash: bytes
    schema: SchemaError | None = None  # the stream's schema refused it
    results: tuple[ResultStatus, ...] = ()  # what it does to its results (the index fold)
    commit: IndexCommit | None = None  # an IndexCommitted event's payload


class SchemaError(NamedTuple):
    """Why a record's stream does not hold it (``stream.type``, ``domain.payload``...)."""

    check: str
    detail: str
    where: str | None
    malformed: bool
    expected: str | None = None  # rendered as findings render them
    found: str | None = None

    @classmethod
    def of(cls, err: HosoError) -> SchemaError:
        return cls(
            err.check,
            err.detail,
            err.where,
            isinstance(err, MalformedError),
            None if err.expected is None else render(err.expected),
            None if err.found is None else render(err.found),
        )


class Malformed(NamedTuple):
    check: str
    detail: str
    where: str | None
    leaf_hash: bytes


Checked = Parsed | Malformed


def check_records(records: Sequence[bytes], keys: Mapping[bytes, bytes]) -> list[Checked]:
    """Parse each record and check its signatures against ``keys`` (key id → public key),
    the whole batch in one :func:`~ledger.core.signing.signatures_valid` call."""
    parsed: list[SignedEvent | Malformed] = []
    todo: list[Verification] = []
    for record in records:
        try:
            event = parse_record(record)
        except MalformedError as err:
            parsed.append(Malformed(err.check, err.detail, err.where, leaf_hash(record)))
            continue
        parsed.append(event)
        message = event_signature_message(event.event_hash)
        todo.extend(
            (public_key, message, sig.signature)
            for sig in event.signatures
            if (public_key := keys.get(sig.key_id)) is not None
        )
    results = iter(signatures_valid(todo))
    out: list[Checked] = []
    for item, record in zip(parsed, records, strict=True):
        if isinstance(item, Malformed):
            out.append(item)
            continue
        bad: list[int] = []
        unchecked: list[int] = []
        for index, sig in enumerate(item.signatures):
            if sig.key_id not in keys:
                unchecked.append(index)
            elif not next(results):
                bad.append(index)
        body = item.body
        schema = None
        try:
            check_stream_event(body)
        except WrongStream as err:
            schema = SchemaError.of(err)
        except HosoError as err:
            # the registry pass reports a registry payload's own fault (once, in step 1)
            if body.stream != REGISTRY_STREAM:
                schema = SchemaError.of(err)
        commit = None
        if body.stream == INDEX_STREAM and schema is None:
            commit = index_commit(body)
        out.append(
            Parsed(
                body.origin,
                body.stream,
                body.n,
                body.prev,
                item.event_hash,
                body.type,
                body.actor,
                body.time_us,
                item.key_ids,
                tuple(bad),
                tuple(unchecked),
                leaf_hash(record),
                schema,
                result_changes(body.type, body.payload, body.n)
                if not is_system(body.stream)
                else (),
                commit,
            )
        )
    return out


def signature_ok(public_key: bytes, event_hash: bytes, signature: bytes) -> bool:
    """One signature check, inline (for keys a batch was not given)."""
    return signature_valid(public_key, event_signature_message(EventHash(event_hash)), signature)


class BatchChecker:
    """Runs :func:`check_records` over batches, in order, on ``workers`` processes.

    At most ``2 × workers`` batches are in flight, so memory stays bounded
    whatever the log's length.
    """

    def __init__(self, *, workers: int, batch: int = 1000) -> None:
        self.workers = workers
        self.batch = batch
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> BatchChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(
        self, batches: Iterable[Sequence[bytes]], keys: Mapping[bytes, bytes]
    ) -> Iterator[tuple[Sequence[bytes], list[Checked]]]:
        """Yield (batch, results) in order. ``keys`` is read when each batch is sent,
        so keys the caller learns while consuming results reach later batches."""
        if self._pool is None:
            for records in batches:
                yield records, check_records(records, keys)
            return
        pending: deque[tuple[Sequence[bytes], Future[list[Checked]]]] = deque()
        for records in batches:
            pending.append((records, self._pool.submit(check_records, records, dict(keys))))
            while len(pending) >= 2 * self.workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
