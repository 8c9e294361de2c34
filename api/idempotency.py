"""``Idempotency-Key`` for custodial commands: a retry after a lost answer returns the
original result and never applies the command twice (docs/api.md §Idempotency).

A key belongs to the token's actor. The first request with a key records, before it
signs anything, the key, a fingerprint of the request (command, dossier, body), the
dossier's head position and the time; once the event is appended it records the answer.
A retry with the key:

* and another fingerprint: 422 ``idempotency.key_reused`` (nothing runs);
* finding the answer: the same 201 body again, with ``Idempotency-Replayed: true``;
* finding no answer (the first attempt's answer was lost: an outage between the append
  and the record, or a crash): the dossier's events after the recorded head are
  looked at; an event by this actor signed after the record was made is the command's
  own (a command appends exactly one event), so its answer is given and recorded;
  otherwise nothing was stored, and the command runs (once: a claim on the row lets one
  retry through, a concurrent one gets 409 ``idempotency.in_progress``).

A command the ledger refuses (a 4xx: nothing was stored) forgets its key, so the same
key may be sent again once the request is fixed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from api.problems import ApiError
from api.schemas import CommandCreate, EventAppendedPublic
from api.submit import leaf_index_of
from ledger.bootstrap import Ledger
from ledger.core.errors import HosoError
from ledger.storage.errors import StoreUnavailable
from ledger.storage.sql import Sql

TABLE = "hoso_idempotency"
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " actor TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint {blob} NOT NULL,"
    " stream TEXT NOT NULL, head_n BIGINT NOT NULL, created_us BIGINT NOT NULL,"
    " claimed_us BIGINT NOT NULL, answer {blob}, PRIMARY KEY (actor, idem_key))"
)
MAX_KEY = 200
LEASE_US = 10_000_000  # a first attempt still running is not taken over before this


@dataclass(frozen=True, slots=True)
class Recorded:
    fingerprint: bytes
    stream: str
    head_n: int
    created_us: int
    claimed_us: int
    answer: bytes | None


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY or not all(33 <= ord(c) <= 126 for c in key):
        raise ApiError(
            f"Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters",
            check="idempotency.key_malformed",
            status=400,
        )
    return key


def fingerprint(command: str, code: str, args: CommandCreate) -> bytes:
    body = orjson.dumps(args.model_dump(exclude_none=True), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{command}\n{code}\n".encode() + body).digest()


class IdempotencyStore:
    def __init__(self, sql: Sql, *, clock_us: Callable[[], int]) -> None:
        self.sql = sql
        self.clock_us = clock_us

    def create_table(self) -> None:
        with self.sql.transaction() as curs:
            curs.execute(_CREATE.format(blob=self.sql.blob))

    def get(self, actor: str, key: str) -> Recorded | None:
        rows = self.sql.rows(
            "SELECT fingerprint, stream, head_n, created_us, claimed_us, answer"
            " FROM hoso_idempotency"
            " WHERE actor = %s AND idem_key = %s",
            [actor, key],
        )
        if not rows:
            return None
        r = rows[0]
        answer = None if r["answer"] is None else bytes(r["answer"])
        return Recorded(
            bytes(r["fingerprint"]),
            str(r["stream"]),
            int(r["head_n"]),
            int(r["created_us"]),
            int(r["claimed_us"]),
            answer,
        )

    def begin(self, actor: str, key: str, digest: bytes, stream: str, head_n: int) -> bool:
        """Record the key before the command runs; False if another request just did."""
        now = self.clock_us()
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_idempotency (actor, idem_key, fingerprint, stream, head_n,"
                " created_us, claimed_us) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING RETURNING actor",
                [actor, key, digest, stream, head_n, now, now],
            )
            inserted = curs.fetchall()
        return len(inserted) == 1

    def claim(self, actor: str, key: str, seen_claim: int) -> bool:
        """Take over a key whose first attempt left no answer; False if another retry did."""
        with self.sql.transaction() as curs:
            curs.execute(
                "UPDATE hoso_idempotency SET claimed_us = %s"
                " WHERE actor = %s AND idem_key = %s AND claimed_us = %s AND answer IS NULL"
                " RETURNING actor",
                [max(self.clock_us(), seen_claim + 1), actor, key, seen_claim],
            )
            updated = curs.fetchall()
        return len(updated) == 1

    def finish(self, actor: str, key: str, answer: bytes) -> None:
        with self.sql.transaction() as curs:
            curs.execute(
                "UPDATE hoso_idempotency SET answer = %s WHERE actor = %s AND idem_key = %s",
                [answer, actor, key],
            )

    def forget(self, actor: str, key: str) -> None:
        with self.sql.transaction() as curs:
            curs.execute(
                "DELETE FROM hoso_idempotency"
                " WHERE actor = %s AND idem_key = %s AND answer IS NULL",
                [actor, key],
            )


def applied(ledger: Ledger, recorded: Recorded, actor: str) -> EventAppendedPublic | None:
    """The event a lost first attempt appended, if it did (see the module docstring)."""
    for event in ledger.store.read_stream(recorded.stream)[recorded.head_n :]:
        if event.body.actor == actor and event.body.time_us >= recorded.created_us:
            return EventAppendedPublic(
                stream=event.body.stream,
                n=event.body.n,
                event_hash=event.event_hash.hex(),
                duplicate=False,
                leaf_index=leaf_index_of(ledger, event.event_hash),
            )
    return None


def run_once(
    ledger: Ledger,
    keys: IdempotencyStore,
    *,
    actor: str,
    key: str,
    digest: bytes,
    code: str,
    command: Callable[[], EventAppendedPublic],
) -> tuple[EventAppendedPublic, bool]:
    """``command()`` at most once for ``key``; (its answer, whether it is a replay)."""
    recorded = keys.get(actor, key)
    if recorded is not None:
        if recorded.fingerprint != digest:
            raise key_reused()
        if recorded.answer is not None:
            return EventAppendedPublic.model_validate_json(recorded.answer), True
        found = applied(ledger, recorded, actor)
        if found is not None:
            keys.finish(actor, key, orjson.dumps(found.model_dump()))
            return found, True
        if keys.clock_us() - recorded.claimed_us < LEASE_US or not keys.claim(
            actor, key, recorded.claimed_us
        ):
            raise in_progress()
    elif not keys.begin(actor, key, digest, code, ledger.store.head_n(code)):
        raise in_progress()
    try:
        answer = command()
    except StoreUnavailable:
        raise  # the outcome is unknown: the next retry finds out from the stream
    except HosoError:
        keys.forget(actor, key)  # refused: nothing was stored
        raise
    keys.finish(actor, key, orjson.dumps(answer.model_dump()))
    return answer, False


def in_progress() -> ApiError:
    return ApiError(
        "a request with this Idempotency-Key is being processed; retry later",
        check="idempotency.in_progress",
        status=409,
        headers={"Retry-After": "1"},
    )


def key_reused() -> ApiError:
    return ApiError(
        "this Idempotency-Key was used with another request (command, dossier or body)",
        check="idempotency.key_reused",
        status=422,
    )
