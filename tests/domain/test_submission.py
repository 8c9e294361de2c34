"""Validation at the door (issue 16 §3): a new dossier's code, date and procedure."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ledger.core.errors import MalformedError, VerificationError
from ledger.domain.submission import (
    MalformedDossierCode,
    ProcedureNotInCatalogue,
    check_dossier_code,
    check_submission,
)
from tests.domain.builder import FakeBook, History


@pytest.mark.parametrize(
    ("code", "day"),
    [
        ("000.39.05.H26-260303-0001", date(2026, 3, 3)),
        ("000.00.10.H26-250701-12345", date(2025, 7, 1)),  # five random digits (other province)
        ("000.00.10.H26-240229-0001", date(2024, 2, 29)),  # a leap day
    ],
)
def test_well_formed_codes_carry_their_date(code: str, day: date) -> None:
    assert check_dossier_code(code) == day


@pytest.mark.parametrize(
    ("code", "where"),
    [
        ("D-1", "stream"),
        ("000.39.05.H26-2603030-0001", "stream"),
        ("000.39.05.h26-260303-0001", "stream"),
        ("000.39.05.H26-260303-001", "stream"),
        ("000.39.05.H26-260230-0001", "stream.date"),  # 30 February
        ("000.39.05.H26-251301-0001", "stream.date"),  # month 13
        ("000.39.05.H26-250229-0001", "stream.date"),  # 2025 is no leap year
    ],
)
def test_malformed_codes_and_impossible_dates_name_the_field(code: str, where: str) -> None:
    with pytest.raises(MalformedDossierCode) as info:
        check_dossier_code(code)
    assert info.value.where == where
    assert isinstance(info.value, MalformedError)


def test_an_unknown_procedure_is_refused_naming_the_field() -> None:
    h = History().submitted(procedure="1.001193")
    check_submission(h.items[0].body, FakeBook())
    unknown = replace(h.items[0].body, payload={**h.items[0].body.payload, "procedure": "9.999999"})
    with pytest.raises(ProcedureNotInCatalogue) as info:
        check_submission(unknown, FakeBook())
    assert info.value.where == "DossierSubmitted.procedure"
    assert info.value.found == "9.999999"
    assert isinstance(info.value, VerificationError)


def test_only_a_dossiers_first_event_is_checked() -> None:
    h = History(stream="legacy-stream").submitted().inputs("TK")
    check_submission(h.items[1].body, FakeBook())  # not a submission: nothing to check
    with pytest.raises(MalformedDossierCode):
        check_submission(h.items[0].body, FakeBook())
