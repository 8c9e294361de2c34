"""Validation at the door: a new dossier's code, its date and its procedure, checked before
anything is stored (docs/domain.md §Submission).

The dossier code is ``{agency code}-{yyMMdd}-{NNNN}`` (DOMAIN.md 2.3: a per-agency counter
that resets daily; a dossier synced from another province may carry five random digits; a
busy agency's counter may run to six digits).
The agency code is dot-separated groups of digits and capitals (``000.39.05.H26``); the
date must be a real calendar date; the procedure must be in the catalogue. Each refusal
names the field (``where``): ``stream`` (the dossier code), ``stream.date``, or
``DossierSubmitted.procedure``. Pure.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from ledger.core.errors import MalformedError, VerificationError
from ledger.core.event import EventBody
from ledger.domain import lifecycle as ev
from ledger.domain.state import ProcedureBook

DOSSIER_CODE: Final = re.compile(
    r"(?P<agency>[0-9A-Z]{1,6}(?:\.[0-9A-Z]{1,6}){1,5})-(?P<date>\d{6})-(?P<serial>\d{4,6})"
)


class MalformedDossierCode(MalformedError):
    """A new dossier's code does not follow ``{agency}-{yyMMdd}-{NNNN}`` or names no real date."""

    check = "dossier.code"


class ProcedureNotInCatalogue(VerificationError):
    """A new dossier names a procedure code the catalogue does not hold."""

    check = "dossier.procedure"


def check_dossier_code(code: str) -> date:
    """The date a well-formed dossier code carries; :class:`MalformedDossierCode` otherwise."""
    match = DOSSIER_CODE.fullmatch(code) if isinstance(code, str) else None
    if match is None:
        raise MalformedDossierCode(
            "a dossier code is {agency}-{yyMMdd}-{NNNN}",
            where="stream",
            expected="e.g. 000.39.05.H26-260303-0001",
            found=code,
        )
    digits = match.group("date")
    try:
        return date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        raise MalformedDossierCode(
            "the dossier code's date is not a calendar date",
            where="stream.date",
            expected="yyMMdd",
            found=digits,
        ) from None


def check_submission(event: EventBody, book: ProcedureBook) -> None:
    """Refuse a dossier's first event unless its code, date and procedure are valid."""
    if event.type != ev.SUBMITTED or event.n != 1:
        return
    check_dossier_code(event.stream)
    procedure = event.payload.get("procedure")
    if not isinstance(procedure, str) or book.required_components(procedure) is None:
        raise ProcedureNotInCatalogue(
            "unknown procedure code",
            where=f"{ev.SUBMITTED}.procedure",
            expected="a procedure of the catalogue",
            found=procedure,
        )
