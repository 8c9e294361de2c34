"""The stored key registry (``hoso_keys``): which keys exist, their validity, and the row
each registry event writes.

"Was key K valid for role R at log position P?" is answered with the same
decision function the offline verifier uses
(:func:`ledger.core.registry.check_key_history`); positions are leaf indices,
found by joining the registry rows to the integrated leaves. The store reads
:class:`KeyRecord` s with :func:`key_records` and turns each registry event it
accepts into one statement with :func:`registry_statement`, run in the append's
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.core.event import SignedEvent
from ledger.core.registry import (
    AUTHORITY_ROLE,
    REGISTRY_STREAM,
    KeyHistory,
    KeyRegistration,
    KeyRevocation,
    check_key_history,
    registry_change,
)
from ledger.core.signing import KeyId, PublicKey
from ledger.storage.database import Backend
from ledger.storage.errors import RegistryRejected
from ledger.storage.sql import Sql

_HISTORY = (
    "SELECT k.key_id, k.public_key, k.actor, k.roles, k.agency, k.registered_n, k.revoked_n,"
    " lr.leaf_index AS registered_leaf, lv.leaf_index AS revoked_leaf"
    " FROM hoso_keys k"
    " LEFT JOIN hoso_leaves lr ON lr.stream = %s AND lr.n = k.registered_n"
    " LEFT JOIN hoso_leaves lv ON lv.stream = %s AND lv.n = k.revoked_n"
)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A registered key as the store checks signatures with it."""

    key_id: KeyId
    public_key: PublicKey
    actor: str
    roles: frozenset[str]
    agency: str
    revoked: bool


Statement = tuple[str, list[Any]]
KeyLookup = Callable[[Sequence[bytes]], Mapping[KeyId, KeyRecord]]


def key_records(sql: Sql, key_ids: Sequence[bytes]) -> dict[KeyId, KeyRecord]:
    """The registered keys among ``key_ids`` (unknown ones are left out)."""
    if not key_ids:
        return {}
    rows = sql.rows(
        f"SELECT * FROM hoso_keys WHERE key_id IN ({sql.in_list(len(key_ids))})",
        list(key_ids),
    )
    return {
        KeyId(bytes(r["key_id"])): KeyRecord(
            key_id=KeyId(bytes(r["key_id"])),
            public_key=PublicKey(bytes(r["public_key"])),
            actor=r["actor"],
            roles=frozenset(r["roles"].split(",")),
            agency=r["agency"],
            revoked=r["revoked_n"] is not None,
        )
        for r in rows
    }


def registry_statement(
    event: SignedEvent,
    known: dict[KeyId, KeyRecord],
    lookup: KeyLookup,
    roots: Mapping[KeyId, PublicKey] | None = None,
) -> Statement:
    """The row change a registry event makes, refused (``registry.rejected``) if the
    registry can't take it; ``known`` (this batch's keys so far) is updated with it.
    ``roots`` are the trust-root authority keys: revoking one writes its row, registered
    and revoked at the revocation (it then signs no more registry events)."""
    change = registry_change(event)
    where = event.body.position
    roots = roots or {}
    if isinstance(change, KeyRegistration):
        if (
            change.key_id in known
            or change.key_id in roots
            or change.key_id in lookup([change.key_id])
        ):
            raise RegistryRejected("key is already registered", where=where, found=change.key_id)
        known[change.key_id] = KeyRecord(
            change.key_id, change.public_key, change.actor, change.roles, change.agency, False
        )
        return (
            "INSERT INTO hoso_keys (key_id, public_key, actor, roles, agency, registered_n)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                change.key_id,
                change.public_key,
                change.actor,
                ",".join(sorted(change.roles)),
                change.agency,
                event.body.n,
            ],
        )
    root = roots.get(change.key_id)
    if root is not None and known.get(change.key_id) is None:
        if lookup([change.key_id]):
            raise RegistryRejected(
                "cannot revoke an authority key that is already revoked",
                where=where,
                found=change.key_id,
            )
        known[change.key_id] = KeyRecord(
            change.key_id, root, ROOT_ACTOR, frozenset({AUTHORITY_ROLE}), "", True
        )
        return (
            "INSERT INTO hoso_keys"
            " (key_id, public_key, actor, roles, agency, registered_n, revoked_n)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [change.key_id, root, ROOT_ACTOR, AUTHORITY_ROLE, "", event.body.n, event.body.n],
        )
    return _revocation(event, change, known, lookup)


ROOT_ACTOR = "authority:trust-root"
"""The actor of the row a revoked trust-root authority key leaves in ``hoso_keys``."""


def _revocation(
    event: SignedEvent, change: KeyRevocation, known: dict[KeyId, KeyRecord], lookup: KeyLookup
) -> Statement:
    where = event.body.position
    current = known.get(change.key_id) or lookup([change.key_id]).get(change.key_id)
    if current is None or current.revoked:
        state = "unknown" if current is None else "already revoked"
        raise RegistryRejected(
            f"cannot revoke a key that is {state}", where=where, found=change.key_id
        )
    known[change.key_id] = KeyRecord(
        current.key_id, current.public_key, current.actor, current.roles, current.agency, True
    )
    return (
        "UPDATE hoso_keys SET revoked_n = %s WHERE key_id = %s AND revoked_n IS NULL",
        [event.body.n, change.key_id],
    )


@dataclass(frozen=True, slots=True)
class KeyListing:
    registration: KeyRegistration
    registered_n: int
    revoked_n: int | None


class KeyRegistry:
    def __init__(self, backend: Backend) -> None:
        self.sql = backend.sql

    def check_at(
        self, key: KeyId, *, position: int, role: str | None = None, actor: str | None = None
    ) -> KeyRegistration:
        """Raise ``key.invalid_at_position`` unless ``key`` was valid at leaf ``position``."""
        rows = self.sql.rows(
            _HISTORY + " WHERE k.key_id = %s", [REGISTRY_STREAM, REGISTRY_STREAM, key]
        )
        history = None
        if rows and rows[0]["registered_leaf"] is not None:
            row = rows[0]
            revoked = row["revoked_leaf"]
            history = KeyHistory(
                _registration(row),
                int(row["registered_leaf"]),
                None if revoked is None else int(revoked),
            )
        return check_key_history(history, key, position=position, role=role, actor=actor)

    def list(self) -> list[KeyListing]:
        rows = self.sql.rows(
            _HISTORY + " ORDER BY k.registered_n", [REGISTRY_STREAM, REGISTRY_STREAM]
        )
        return [
            KeyListing(
                _registration(r),
                int(r["registered_n"]),
                None if r["revoked_n"] is None else int(r["revoked_n"]),
            )
            for r in rows
        ]


def _registration(row: Mapping[str, Any]) -> KeyRegistration:
    return KeyRegistration(
        key_id=KeyId(bytes(row["key_id"])),
        public_key=PublicKey(bytes(row["public_key"])),
        actor=str(row["actor"]),
        roles=frozenset(str(row["roles"]).split(",")),
        agency=str(row["agency"]),
    )
