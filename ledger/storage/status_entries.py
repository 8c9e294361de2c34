"""Status list entries and published lists (docs/formats.md §13), in the ledger's database.

Each result gets one entry in its agency's current list the first time a seal is issued
for it, drawn uniformly at random among the free entries (W3C Bitstring Status List's
herd privacy: an entry says nothing about when or for whom it was drawn). A list takes
entries until half of it is used, then the next list opens, so a random draw rarely
collides. The (stream, result) → entry mapping is not secret, but nothing outside the
ledger needs it: the seal carries its own entry.
"""

from __future__ import annotations

import secrets
from typing import Final

from ledger.core.errors import NotFoundError, OutOfServiceError
from ledger.core.seal import MAX_STATUS_LIST, StatusRef
from ledger.core.status_list import MIN_ENTRIES
from ledger.storage.database import Backend

LIST_SIZE: Final = MIN_ENTRIES
FILL: Final = LIST_SIZE // 2
"""A list opens its successor once this many of its entries are used."""


class StatusListUnknown(NotFoundError):
    """No list of that number has been published for the agency."""

    check = "status_list.unknown"


class StatusListsFull(OutOfServiceError):
    """Every status list number a seal can name (0–255) is half full."""

    check = "status_list.full"


class StatusEntries:
    def __init__(self, backend: Backend) -> None:
        self.sql = backend.sql

    def entry(self, agency: str, dossier: str, result: str) -> StatusRef | None:
        rows = self.sql.rows(
            "SELECT list_no, entry FROM hoso_status_entries"
            " WHERE agency = %s AND dossier = %s AND result = %s",
            [agency, dossier, result],
        )
        return StatusRef(int(rows[0]["list_no"]), int(rows[0]["entry"])) if rows else None

    def assign(self, agency: str, dossier: str, result: str) -> StatusRef:
        """The result's entry: the one it has, or a fresh random one in the open list."""
        for _ in range(64):
            existing = self.entry(agency, dossier, result)
            if existing is not None:
                return existing
            list_no = self._open_list(agency)
            entry = secrets.randbelow(LIST_SIZE)
            with self.sql.transaction() as curs:
                curs.execute(
                    "INSERT INTO hoso_status_entries (agency, list_no, entry, dossier, result)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [agency, list_no, entry, dossier, result],
                )
        existing = self.entry(agency, dossier, result)
        if existing is None:  # 64 collisions in a list at most half full: ~2^-64
            raise StatusListUnknown("no free status entry found", where=f"agency {agency}")
        return existing

    def _open_list(self, agency: str) -> int:
        rows = self.sql.rows(
            "SELECT list_no, COUNT(*) AS used FROM hoso_status_entries WHERE agency = %s"
            " GROUP BY list_no ORDER BY list_no DESC LIMIT 1",
            [agency],
        )
        if not rows:
            return 0
        list_no, used = int(rows[0]["list_no"]), int(rows[0]["used"])
        if used < FILL:
            return list_no
        if list_no >= MAX_STATUS_LIST:  # 256 lists: 16.7 million sealed results
            raise StatusListsFull(
                "the agency's status lists are full", where=f"agency {agency}", found=list_no
            )
        return list_no + 1

    def lists(self, agency: str) -> list[int]:
        """The list numbers the agency's entries are in."""
        rows = self.sql.rows(
            "SELECT DISTINCT list_no FROM hoso_status_entries WHERE agency = %s ORDER BY list_no",
            [agency],
        )
        return [int(r["list_no"]) for r in rows]

    def agencies(self) -> list[str]:
        rows = self.sql.rows("SELECT DISTINCT agency FROM hoso_status_entries ORDER BY agency")
        return [str(r["agency"]) for r in rows]

    def members(self, agency: str, list_no: int) -> list[tuple[int, str, str]]:
        """Every (entry, dossier, result) of one list."""
        rows = self.sql.rows(
            "SELECT entry, dossier, result FROM hoso_status_entries"
            " WHERE agency = %s AND list_no = %s",
            [agency, list_no],
        )
        return [(int(r["entry"]), str(r["dossier"]), str(r["result"])) for r in rows]

    # --- published documents ------------------------------------------------------

    def store(self, agency: str, list_no: int, issued_s: int, document: bytes) -> None:
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_status_lists (agency, list_no, issued, document)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [agency, list_no, issued_s, document],
            )

    def latest(self, agency: str, list_no: int) -> bytes:
        rows = self.sql.rows(
            "SELECT document FROM hoso_status_lists WHERE agency = %s AND list_no = %s"
            " ORDER BY issued DESC LIMIT 1",
            [agency, list_no],
        )
        if not rows:
            raise StatusListUnknown(
                "no status list published", where=f"agency {agency} list {list_no}"
            )
        return bytes(rows[0]["document"])
