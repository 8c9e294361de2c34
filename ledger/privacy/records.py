"""A data subject's personal record, and the commitments the ledger holds instead.

Pure. The record is validated and normalised before anything is committed or
stored, so the same citizen always yields the same applicant commitment (the
vault keeps one salt per subject) and a typo can't create a second subject.
Validation errors describe the *shape* of what was wrong, never the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from ledger.core.commitment import commit
from ledger.core.encoding import Value
from ledger.core.errors import MalformedError

ID_KINDS: Final = {"cccd": 12, "cmnd": 9}  # personal id number (căn cước) / old 9-digit id
APPLICANT_LABEL: Final = "applicant"
PERSONAL_LABEL: Final = "personal"
_SEPARATORS = re.compile(r"[\s.\-]")


class MalformedPersonalData(MalformedError):
    """A personal record or id number has the wrong shape (the message never quotes it)."""

    check = "privacy.malformed"


def normalize_id_number(raw: str, kind: str = "cccd") -> str:
    """Digits only, of the kind's length; a CCCD's province code must be 001-096.

    There is no public check digit (DOMAIN.md 2.8), so only the structure is checked.
    """
    if kind not in ID_KINDS:
        raise MalformedPersonalData(f"id kind must be one of {sorted(ID_KINDS)}")
    digits = _SEPARATORS.sub("", raw)
    if not digits.isdigit() or not digits.isascii():
        raise MalformedPersonalData(f"a {kind} number holds digits only")
    if len(digits) != ID_KINDS[kind]:
        raise MalformedPersonalData(
            f"a {kind} number has {ID_KINDS[kind]} digits, this one has {len(digits)}"
        )
    if kind == "cccd" and not 1 <= int(digits[:3]) <= 96:
        raise MalformedPersonalData("a cccd number starts with a province code 001-096")
    return digits


@dataclass(frozen=True, slots=True)
class PersonalRecord:
    """What a dossier knows about its applicant. Never written in the clear anywhere
    (and never shown by ``repr``, so it can't slip into a log or a traceback)."""

    id_number: str = field(repr=False)
    full_name: str = field(repr=False)
    birth_date: str = field(repr=False)  # ISO date
    address: str = field(repr=False)
    id_kind: str = "cccd"
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)

    @classmethod
    def of(cls, **fields: str) -> PersonalRecord:
        """A validated, normalised record."""
        kind = fields.get("id_kind", "cccd")
        number = normalize_id_number(fields.get("id_number", ""), kind)
        name = " ".join(fields.get("full_name", "").split())
        if not name:
            raise MalformedPersonalData("full_name is required")
        try:
            born = date.fromisoformat(fields.get("birth_date", "")).isoformat()
        except ValueError as err:
            raise MalformedPersonalData("birth_date must be an ISO date (YYYY-MM-DD)") from err
        address = " ".join(fields.get("address", "").split())
        if not address:
            raise MalformedPersonalData("address is required")
        unknown = sorted(set(fields) - {f for f in cls.__slots__})
        if unknown:
            raise MalformedPersonalData(f"unknown personal fields {unknown}")
        return cls(
            id_number=number,
            full_name=name,
            birth_date=born,
            address=address,
            id_kind=kind,
            phone=fields.get("phone", "").strip(),
            email=fields.get("email", "").strip().lower(),
        )

    def as_value(self) -> dict[str, Value]:
        """The canonical map the personal commitment covers."""
        return {
            "id_kind": self.id_kind,
            "id_number": self.id_number,
            "full_name": self.full_name,
            "birth_date": self.birth_date,
            "address": self.address,
            "phone": self.phone,
            "email": self.email,
        }

    @classmethod
    def from_value(cls, value: Value) -> PersonalRecord:
        if not isinstance(value, dict):
            raise MalformedPersonalData("a personal record is a map")
        return cls.of(**{k: v for k, v in value.items() if isinstance(v, str)})


def applicant_commitment(subject_salt: bytes, id_kind: str, id_number: str) -> bytes:
    """The subject's stable pseudonym in the ledger (``DossierSubmitted.applicant``)."""
    return commit(subject_salt, APPLICANT_LABEL, [id_kind, id_number])


def personal_commitment(snapshot_salt: bytes, record: PersonalRecord) -> bytes:
    """The commitment to one dossier's copy of the record (``DossierSubmitted.personal``)."""
    return commit(snapshot_salt, PERSONAL_LABEL, record.as_value())
