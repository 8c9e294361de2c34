"""Key registry lookups over the stored registry: which keys exist, and their validity.

"Was key K valid for role R at log position P?" is answered with the same
decision function the offline verifier uses
(:func:`ledger.core.registry.check_key_history`); positions are leaf indices,
found by joining the registry rows to the integrated leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.core.registry import (
    REGISTRY_STREAM,
    KeyHistory,
    KeyRegistration,
    check_key_history,
)
from ledger.core.signing import KeyId, PublicKey
from ledger.storage.database import Backend

_HISTORY = (
    "SELECT k.key_id, k.public_key, k.actor, k.roles, k.agency, k.registered_n, k.revoked_n,"
    " lr.leaf_index AS registered_leaf, lv.leaf_index AS revoked_leaf"
    " FROM hoso_keys k"
    " LEFT JOIN hoso_leaves lr ON lr.stream = %s AND lr.n = k.registered_n"
    " LEFT JOIN hoso_leaves lv ON lv.stream = %s AND lv.n = k.revoked_n"
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
