"""Signed seal trust lists kept in the database (docs/formats.md §11.4).

Whoever holds the log key signs the trust list when the key registry changes and keeps
it here; an API server without the keystore serves the one that lists the current
registry (or, until the holder re-signs, the latest one: a seal by a key registered
since then reads "unknown key" until it does, never a false "valid").
"""

from __future__ import annotations

from ledger.storage.database import Backend


class TrustLists:
    def __init__(self, backend: Backend) -> None:
        self.sql = backend.sql

    def store(self, registry_head: bytes, issued_s: int, note: bytes) -> None:
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_trust_lists (registry_head, issued, note) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                [registry_head, issued_s, note],
            )

    def for_registry(self, registry_head: bytes) -> bytes | None:
        rows = self.sql.rows(
            "SELECT note FROM hoso_trust_lists WHERE registry_head = %s", [registry_head]
        )
        return bytes(rows[0]["note"]) if rows else None

    def latest(self) -> bytes | None:
        rows = self.sql.rows("SELECT note FROM hoso_trust_lists ORDER BY issued DESC LIMIT 1")
        return bytes(rows[0]["note"]) if rows else None
