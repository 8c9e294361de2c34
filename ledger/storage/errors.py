"""What the store refuses, each a typed error with its check id (docs/storage.md §Checks)."""

from __future__ import annotations

import sqlite3

import eventsourcing.persistence as es
import psycopg
import psycopg_pool

from ledger.core.errors import NotFoundError, OutOfServiceError, StateConflict, VerificationError


class StreamConflict(StateConflict):
    """Another event already holds this stream position; carries the current head."""

    check = "append.conflict"

    def __init__(self, detail: str, *, stream: str, head_n: int, head_hash: bytes | None) -> None:
        self.stream = stream
        self.head_n = head_n
        self.head_hash = head_hash
        super().__init__(
            detail, where=f"stream {stream}", expected=f"n={head_n + 1}", found="a taken position"
        )


class OriginMismatch(VerificationError):
    """The record names another ledger's origin."""

    check = "append.origin"


class KeyUnregistered(VerificationError):
    """A signature is by a key the registry does not know."""

    check = "key.unregistered"


class KeyRevoked(VerificationError):
    """A signature is by a revoked key."""

    check = "key.revoked"


class KeyRevokedConcurrently(KeyRevoked):
    """A signing key was revoked by a transaction that committed just before this append
    (found by the recorder's re-check inside the locked insert)."""


class ActorSignatureMissing(VerificationError):
    """No signature is by a key registered to the event's actor."""

    check = "signature.actor"


class RegistryRejected(VerificationError):
    """A key-registry event the registry can't take: not by an authority key, a key
    registered twice, or a revocation of an unknown or revoked key."""

    check = "registry.rejected"


class LogKeyRequired(VerificationError):
    """An index commit not signed by this ledger's log key."""

    check = "append.log_key"


class EventNotStored(NotFoundError):
    """No stored event at this stream position."""

    check = "store.event_unknown"


class StoreUnavailable(OutOfServiceError):
    """The database can't answer now: unreachable, its pool exhausted, or busy (locked).
    Nothing was stored by the call that raised it; retrying later is safe."""

    check = "store.unavailable"


DRIVER_ERRORS: tuple[type[Exception], ...] = (
    es.OperationalError,
    es.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)
"""The drivers' error classes an outage arrives as (what :func:`store_unavailable` sorts)."""


def store_unavailable(err: BaseException) -> StoreUnavailable | None:
    """The :class:`StoreUnavailable` that ``err`` means, or None when it means something else.

    The drivers' errors are classified here once (never by the callers): psycopg's
    operational and interface errors (a refused or broken connection, the pool's wait
    timing out, a lock wait cancelled) and SQLite's "database is locked" / "busy",
    whether raised as they are or wrapped by eventsourcing's recorders.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreUnavailable):
            return current
        if isinstance(current, psycopg_pool.PoolTimeout | psycopg_pool.TooManyRequests):
            return StoreUnavailable(
                "the database connection pool is exhausted", where="pool", found="timeout"
            )
        if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError):
            return StoreUnavailable("the database can't be reached", where="postgresql")
        if isinstance(current, sqlite3.OperationalError) and _busy(str(current)):
            return StoreUnavailable("the database is locked by another writer", where="sqlite")
        if isinstance(current, es.OperationalError | es.InterfaceError) and _busy(str(current)):
            return StoreUnavailable("the database is locked by another writer", where="sqlite")
        current = current.__cause__ or current.__context__
    return None


def _busy(message: str) -> bool:
    text = message.lower()
    return "database is locked" in text or "database is busy" in text or "sqlite_busy" in text
