"""The access log: every official read of personal data becomes a signed ledger entry.

A read costs one small insert into ``hoso_access_pending`` (durable before the
data is returned); :meth:`AccessLog.flush` turns the queue into one signed
``DataAccessed`` event on ``system/access`` per batch, and deletes what it
logged. The event lists the queue ids it covers (``queue``), so a crash
between the append and the delete never logs a read twice: every flush first
deletes the ids of the stream's head. (Ids are exact, not a range: on
PostgreSQL a lower id can commit after a higher one was logged.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ledger.core.chain import next_body
from ledger.core.encoding import decode, encode
from ledger.core.event import sign_event
from ledger.core.signing import Signer
from ledger.domain.privacy import ACCESS_STREAM, DATA_ACCESSED, AccessEntry
from ledger.storage.errors import KeyUnregistered, StreamConflict
from ledger.storage.sql import Sql
from ledger.storage.store import EventStore

MAX_BATCH: Final = 500


class AccessLog:
    def __init__(
        self,
        sql: Sql,
        store: EventStore,
        *,
        clock_us: Callable[[], int],
        signer: Signer | None = None,
        flush_every: int = 64,
    ) -> None:
        """``signer`` is the key (registered with role ``system``) that signs the batches;
        without one, reads are queued and a process that has one flushes them."""
        self.sql = sql
        self.store = store
        self.clock_us = clock_us
        self.signer = signer
        self.flush_every = flush_every
        self._queued = 0

    def record(self, entry: AccessEntry) -> None:
        """Queue one read (durably); flush when a batch is full and a signer is set."""
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_access_pending (entry) VALUES (%s)", [encode(entry.as_value())]
            )
        self._queued += 1
        if self.signer is not None and self._queued >= self.flush_every:
            self.flush()

    def pending(self) -> int:
        rows = self.sql.rows("SELECT COUNT(*) AS c FROM hoso_access_pending")
        return int(rows[0]["c"])

    def flush(self) -> int:
        """Append every queued read as signed batches; return how many were logged."""
        if self.signer is None:
            return 0
        logged = 0
        while True:
            head = self.store.head(ACCESS_STREAM)
            if head is not None:
                queue = head.body.payload.get("queue")
                self._forget(
                    [i for i in queue if isinstance(i, int)] if isinstance(queue, list) else []
                )
            rows = self.sql.rows(
                self.sql.q("SELECT id, entry FROM hoso_access_pending ORDER BY id LIMIT %s"),
                [MAX_BATCH],
            )
            if not rows:
                self._queued = 0
                return logged
            ids = [int(r["id"]) for r in rows]
            key = self.signer
            actor = self._actor(key)
            body = next_body(
                head,
                origin=self.store.origin,
                stream=ACCESS_STREAM,
                event_type=DATA_ACCESSED,
                actor=actor,
                time_us=self.clock_us(),
                payload={
                    "queue": list(ids),
                    "entries": [decode(bytes(r["entry"])) for r in rows],
                },
            )
            try:
                self.store.append([sign_event(body, [key]).record])
            except StreamConflict:
                continue  # another process flushed meanwhile: start after its batch
            self._forget(ids)
            logged += len(rows)

    def _actor(self, key: Signer) -> str:
        record = self.store.keys([key.key_id]).get(key.key_id)
        if record is None:
            raise KeyUnregistered(
                "the access-log key is not registered",
                where=ACCESS_STREAM,
                expected="a key registered with role system",
                found=key.key_id,
            )
        return record.actor

    def _forget(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.sql.transaction() as curs:
            curs.execute(
                f"DELETE FROM hoso_access_pending WHERE id IN ({self.sql.in_list(len(ids))})", ids
            )
