"""The vault: personal records encrypted per data subject, found through a keyed index.

Tables (docs/privacy.md §Where things are stored):

- ``hoso_subjects``: one row per subject — the applicant commitment (the
  subject's pseudonym in the ledger), the data key wrapped by the master key,
  and the sealed identity (salt, id kind, id number);
- ``hoso_subject_index``: HMAC tag of the id number → subject;
- ``hoso_personal``: one sealed snapshot of the record per dossier (``ref``),
  with its commitment (``DossierSubmitted.personal``).

Nothing here is authorisation or access logging: :mod:`ledger.privacy.service`
decides who may read and records that they did. Erasure deletes the key, the
index tag and every sealed row, then asks the database to drop the dead bytes.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ledger.core.commitment import SALT_SIZE, index_tag
from ledger.core.errors import GoneError, NotFoundError, StateConflict, VerificationError
from ledger.privacy.crypto import MasterKeys, new_data_key, seal, unseal
from ledger.privacy.records import (
    PersonalRecord,
    applicant_commitment,
    normalize_id_number,
    personal_commitment,
)
from ledger.storage.sql import Sql

VAULT_TABLES = ("hoso_subjects", "hoso_subject_index", "hoso_personal")


class SubjectUnknown(NotFoundError):
    """No subject in the vault has this commitment."""

    check = "privacy.subject_unknown"


class SubjectErased(GoneError):
    """The subject's data was erased: it can't be read or written again."""

    check = "privacy.erased"


class VaultRecordDamaged(VerificationError):
    """A vault row or decrypted record lacks a field or has the wrong type."""

    check = "privacy.vault_damaged"


class SnapshotConflict(StateConflict):
    """A dossier already holds a different personal record (snapshots are write-once)."""

    check = "privacy.snapshot_conflict"


@dataclass(frozen=True, slots=True)
class Opened:
    """A decrypted snapshot with what's needed to check it against the ledger."""

    subject: bytes
    ref: str
    record: PersonalRecord
    salt: bytes
    commitment: bytes


@dataclass(frozen=True, slots=True)
class Identity:
    subject: bytes
    id_kind: str
    id_number: str
    salt: bytes


class Vault:
    def __init__(
        self, sql: Sql, *, keys: MasterKeys, index_key: bytes, clock_us: Callable[[], int]
    ) -> None:
        self.sql = sql
        self.keys = keys
        self._index_key = index_key
        self.clock_us = clock_us

    def __repr__(self) -> str:
        return f"Vault(master={self.keys.current!r})"

    # --- subjects ---------------------------------------------------------------

    def tag(self, id_number: str, kind: str = "cccd") -> bytes:
        return index_tag(self._index_key, kind, normalize_id_number(id_number, kind))

    def lookup(self, id_number: str, kind: str = "cccd") -> bytes | None:
        """The subject holding this id number, or None."""
        rows = self.sql.rows(
            self.sql.q("SELECT subject FROM hoso_subject_index WHERE tag = %s"),
            [self.tag(id_number, kind)],
        )
        return bytes(rows[0]["subject"]) if rows else None

    def enroll(self, record: PersonalRecord) -> bytes:
        """The subject's applicant commitment: the existing one, or a new subject's."""
        existing = self.lookup(record.id_number, record.id_kind)
        if existing is not None:
            return existing
        salt = os.urandom(SALT_SIZE)
        subject = applicant_commitment(salt, record.id_kind, record.id_number)
        data_key = new_data_key()
        identity = seal(
            data_key,
            {"subject": subject, "salt": salt, "id_kind": record.id_kind, "id": record.id_number},
        )
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_subjects (subject, master_kid, wrapped_key, identity,"
                " created_us) VALUES (%s, %s, %s, %s, %s)",
                [
                    subject,
                    self.keys.current.kid,
                    self.keys.current.wrap(data_key),
                    identity,
                    self.clock_us(),
                ],
            )
            curs.execute(
                "INSERT INTO hoso_subject_index (tag, subject) VALUES (%s, %s)",
                [self.tag(record.id_number, record.id_kind), subject],
            )
        return subject

    def status(self, subject: bytes) -> str | None:
        """``"active"``, ``"erased"``, or None for a commitment the vault never held."""
        rows = self.sql.rows(
            self.sql.q("SELECT erased_us FROM hoso_subjects WHERE subject = %s"), [subject]
        )
        if not rows:
            return None
        return "active" if rows[0]["erased_us"] is None else "erased"

    def identity(self, subject: bytes) -> Identity:
        row = self._subject_row(subject)
        where = _at(subject)
        opened = unseal(self._data_key(subject, row), _b(row, "identity"), where=where)
        if not isinstance(opened, dict) or opened.get("subject") != subject:
            raise SubjectUnknown("the identity record belongs to another subject", where=where)
        return Identity(subject, _s(opened, "id_kind"), _s(opened, "id"), _b(opened, "salt"))

    # --- snapshots ------------------------------------------------------------

    def deposit(self, subject: bytes, ref: str, record: PersonalRecord) -> bytes:
        """Seal ``record`` as dossier ``ref``'s copy; return its commitment (write-once)."""
        row = self._subject_row(subject)
        data_key = self._data_key(subject, row)
        existing = self._snapshot_row(subject, ref)
        if existing is not None:
            opened = self._open(subject, ref, data_key, existing)
            if opened.record != record:
                raise SnapshotConflict(
                    "this dossier already holds a different personal record",
                    where=f"{_at(subject)} ref={ref}",
                )
            return opened.commitment
        salt = os.urandom(SALT_SIZE)
        commitment = personal_commitment(salt, record)
        sealed = seal(
            data_key,
            {"subject": subject, "ref": ref, "salt": salt, "record": record.as_value()},
        )
        with self.sql.transaction() as curs:
            curs.execute(
                "INSERT INTO hoso_personal (subject, ref, commitment, sealed)"
                " VALUES (%s, %s, %s, %s)",
                [subject, ref, commitment, sealed],
            )
        return commitment

    def open(self, subject: bytes, ref: str) -> Opened:
        """Decrypt dossier ``ref``'s snapshot (callers log the access: see the service)."""
        row = self._subject_row(subject)
        snapshot = self._snapshot_row(subject, ref)
        if snapshot is None:
            raise SubjectUnknown("no personal record for this dossier", where=f"ref={ref}")
        return self._open(subject, ref, self._data_key(subject, row), snapshot)

    def refs(self, subject: bytes) -> list[str]:
        rows = self.sql.rows(
            self.sql.q("SELECT ref FROM hoso_personal WHERE subject = %s ORDER BY ref"), [subject]
        )
        return [str(r["ref"]) for r in rows]

    def rewrap(self) -> int:
        """Re-wrap every data key still under an older master key with the current one
        (after a rotation); return how many were re-wrapped."""
        current = self.keys.current.kid
        rows = self.sql.rows(
            self.sql.q(
                "SELECT subject, master_kid, wrapped_key FROM hoso_subjects"
                " WHERE erased_us IS NULL AND master_kid <> %s"
            ),
            [current],
        )
        for row in rows:
            subject = _b(row, "subject")
            data_key = self._data_key(subject, dict(row))
            with self.sql.transaction() as curs:
                curs.execute(
                    "UPDATE hoso_subjects SET master_kid = %s, wrapped_key = %s WHERE subject = %s",
                    [current, self.keys.current.wrap(data_key), subject],
                )
        return len(rows)

    # --- erasure ----------------------------------------------------------------

    def erase(self, subject: bytes) -> int:
        """Destroy the subject's key, index tag and sealed rows; keep a tombstone.

        Returns how many rows held the subject's data. Idempotent. The dead bytes
        are then purged (SQLite: secure_delete + WAL checkpoint; PostgreSQL:
        VACUUM FULL of the vault tables): see :meth:`purge`.
        """
        if self.status(subject) is None:
            raise SubjectUnknown("the vault never held this subject", where=_at(subject))
        with self.sql.transaction() as curs:
            if self.sql.dialect == "sqlite":
                curs.execute("PRAGMA secure_delete = ON")
            curs.execute("DELETE FROM hoso_subject_index WHERE subject = %s", [subject])
            index_rows = _rowcount(curs)
            curs.execute("DELETE FROM hoso_personal WHERE subject = %s", [subject])
            snapshot_rows = _rowcount(curs)
            curs.execute(
                "UPDATE hoso_subjects SET master_kid = NULL, wrapped_key = NULL, identity = NULL,"
                " erased_us = COALESCE(erased_us, %s) WHERE subject = %s",
                [self.clock_us(), subject],
            )
        self.purge()
        return index_rows + snapshot_rows

    def purge(self) -> None:
        """Make deleted vault bytes unreachable in the database files."""
        if self.sql.dialect == "sqlite":
            with self.sql.transaction() as curs:
                curs.execute("PRAGMA secure_delete = ON")
            self.sql.outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        self.sql.outside_transaction("VACUUM FULL " + ", ".join(VAULT_TABLES))

    # --- internals --------------------------------------------------------------

    def _subject_row(self, subject: bytes) -> dict[str, object]:
        rows = self.sql.rows(
            self.sql.q(
                "SELECT master_kid, wrapped_key, identity, erased_us FROM hoso_subjects"
                " WHERE subject = %s"
            ),
            [subject],
        )
        if not rows:
            raise SubjectUnknown("the vault holds no such subject", where=_at(subject))
        if rows[0]["erased_us"] is not None:
            raise SubjectErased("this subject's personal data was erased", where=_at(subject))
        return dict(rows[0])

    def _data_key(self, subject: bytes, row: dict[str, object]) -> bytes:
        return self.keys.unwrap(_b(row, "master_kid"), _b(row, "wrapped_key"), where=_at(subject))

    def _snapshot_row(self, subject: bytes, ref: str) -> dict[str, object] | None:
        rows = self.sql.rows(
            self.sql.q(
                "SELECT commitment, sealed FROM hoso_personal WHERE subject = %s AND ref = %s"
            ),
            [subject, ref],
        )
        return dict(rows[0]) if rows else None

    def _open(self, subject: bytes, ref: str, data_key: bytes, row: dict[str, object]) -> Opened:
        where = f"{_at(subject)} ref={ref}"
        commitment = _b(row, "commitment")
        opened = unseal(data_key, _b(row, "sealed"), where=where)
        if (
            not isinstance(opened, dict)
            or opened.get("subject") != subject
            or opened.get("ref") != ref
        ):
            raise SubjectUnknown(
                "the sealed record belongs to another subject or dossier", where=where
            )
        salt = _b(opened, "salt")
        record = PersonalRecord.from_value(opened["record"])
        if not hmac.compare_digest(personal_commitment(salt, record), commitment):
            raise SubjectUnknown("the sealed record does not open its commitment", where=where)
        return Opened(subject, ref, record, salt, commitment)


def _at(subject: bytes) -> str:
    return f"subject {subject[:8].hex()}"


def _b(row: Mapping[str, object], name: str) -> bytes:
    value = row.get(name)
    if not isinstance(value, bytes | memoryview):
        raise VaultRecordDamaged(f"vault field {name!r} is not bytes", found=type(value).__name__)
    return bytes(value)


def _s(row: Mapping[str, object], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str):
        raise VaultRecordDamaged(f"vault field {name!r} is not text", found=type(value).__name__)
    return value


def _rowcount(curs: object) -> int:
    count = getattr(getattr(curs, "raw", None), "rowcount", 0)
    return max(int(count or 0), 0)
