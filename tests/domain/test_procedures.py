"""The procedure catalogue and due dates (ledger/domain/procedures.py, docs/domain-time.md §4–7)."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.errors import HosoError
from ledger.domain.calendar import (
    US_PER_HOUR,
    VN_TZ,
    MalformedDuration,
    MalformedTime,
    TimeOutOfRange,
    WorkingCalendar,
    instant,
    local_date,
    vn_datetime,
)
from ledger.domain.calendar_data import load_calendar
from ledger.domain.due import (
    classify,
    compute_due,
    due_for_rule,
    extend_for_pause,
    parse_rule_version,
)
from ledger.domain.jsondata import shipped_text
from ledger.domain.procedures import (
    Catalogue,
    Component,
    MalformedCatalogue,
    Procedure,
    ProcessingTime,
    RuleVersionMismatch,
    UnknownProcedure,
    VerificationTimeMissing,
)
from ledger.domain.procedures_data import load_catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "domain-time.md"
CAL = load_calendar()
CAT = load_catalogue()
SHIPPED: dict[str, Any] = json.loads(shipped_text("procedures.json"))


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> int:
    return instant(datetime(y, m, d, hh, mm, tzinfo=VN_TZ))


def at(t_us: int) -> datetime:
    return vn_datetime(t_us).replace(tzinfo=None)


def naive(parts: tuple[int, ...]) -> datetime:
    year, month, day, hour, minute = (*parts, 0, 0)[:5]
    return datetime(year, month, day, hour, minute)  # naive, like at()


def due(code: str, received: int, *, verification: bool = False) -> datetime:
    found = compute_due(
        received_us=received, procedure=CAT.get(code), calendar=CAL, verification=verification
    )
    return at(found.due_us)


# --- the shipped catalogue ---------------------------------------------------

# DOMAIN.md 2.4: code → (amount, unit, verification amount, certainty)
TABLE = {
    "1.001193": (0, "working_days", None, "V"),
    "1.000894": (0, "working_days", 5, "V"),
    "2.000635": (0, "working_days", None, "S"),
    "2.000815": (0, "working_days", 2, "S"),
    "3.000333": (10, "calendar_days", 15, "S"),
    "1.004194": (3, "working_days", None, "S"),
    "1.004222": (7, "working_days", None, "M"),
    "2.000200": (7, "working_days", None, "S"),
    "1.001456": (8, "working_days", None, "S"),
    "X.ENT001": (3, "working_days", None, "M"),
    "X.CON001": (20, "calendar_days", None, "M"),
    "X.CON002": (15, "calendar_days", None, "M"),
    "X.LAND001": (20, "working_days", None, "M"),
    "X.LT001": (3, "working_days", 5, "M"),
    "1.014137": (5, "working_days", None, "S"),
    "1.014027": (10, "working_days", None, "S"),
}


def test_catalogue_has_the_domain_table() -> None:
    assert CAT.version == "vn-proc-2026.1"
    assert set(TABLE) <= set(CAT.procedures)
    for code, (amount, unit, verification, certainty) in TABLE.items():
        procedure = CAT.get(code)
        assert (procedure.time.amount, procedure.time.unit) == (amount, unit), code
        assert procedure.time.start_rule == "electronic_reception"
        assert procedure.time.cutoff == ("15:00" if amount == 0 else None), code
        found = procedure.verification_time
        assert (None if found is None else found.amount) == verification, code
        assert procedure.certainty == certainty, code
        assert procedure.name_vi
        assert procedure.name_en
        assert procedure.evidence
        if code.startswith("X."):
            assert "PLACEHOLDER" in procedure.evidence


def test_birth_registration() -> None:
    birth = CAT.get("1.001193")
    assert birth.name_vi == "Đăng ký khai sinh"
    assert birth.agency_level == "commune"
    assert birth.component_codes == {"TO_KHAI_KHAI_SINH", "GIAY_CHUNG_SINH"}
    assert birth.required_components[0].name_vi == "Tờ khai đăng ký khai sinh"
    assert CAT.required_components("1.001193") == birth.component_codes
    assert CAT.required_components("9.999999") is None
    assert CAT.get("2.000635").fee_vnd == 8000
    assert CAT.exempt_from_fees("1.001193")
    assert not CAT.exempt_from_fees("2.000635")
    assert CAT.paper_allowed("1.001193")
    assert not CAT.paper_allowed("1.004194")
    assert not CAT.paper_allowed("9.999999")


def test_signatures() -> None:
    for procedure in CAT:
        sig = procedure.signatures
        assert sig["ResultIssued"] == ("leader", "agency_seal")
        assert sig["DossierReceived"] == ("reception",)
        assert sig["InputDigitized"] == ("reception",)
        assert sig["DelayApologyIssued"] == ("leader", "agency_seal")
        assert sig["ProcessingStopped"] == ("leader", "agency_seal")
        assert sig["ResultRevoked"] == ("leader", "agency_seal")
        assert sig["PostAuditFindingRecorded"] == ("inspector",)


def test_unknown_procedure() -> None:
    with pytest.raises(UnknownProcedure) as info:
        CAT.get("1.999999")
    assert info.value.found == "1.999999"
    assert "1.999999" not in CAT
    assert "1.001193" in CAT
    assert len(CAT) == len(TABLE)


# --- due dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "received", "expected"),
    [
        # same day; the 15:00 rule (Law on Civil Status)
        ("1.001193", vn(2026, 3, 3, 14, 59), (2026, 3, 3, 17)),
        ("1.001193", vn(2026, 3, 3, 15), (2026, 3, 3, 17)),  # at 15:00:00 exactly: same day
        ("1.001193", vn(2026, 3, 3, 15) + 1, (2026, 3, 4, 17)),
        ("2.000635", vn(2026, 3, 3, 15, 1), (2026, 3, 4, 17)),
        ("1.001193", vn(2026, 3, 3, 12), (2026, 3, 3, 17)),  # lunch: clock starts 13:30
        ("1.001193", vn(2026, 3, 6, 15, 30), (2026, 3, 9, 17)),  # Friday after 15:00
        ("1.001193", vn(2026, 3, 6, 18), (2026, 3, 9, 17)),  # Friday after hours → Monday
        ("1.004194", vn(2026, 3, 6, 18), (2026, 3, 12, 17)),  # Mon 9 not counted: Tue–Thu
        # the day before Tết 2026 (off Mon 16 – Fri 20 February)
        ("1.004194", vn(2026, 2, 13, 10), (2026, 2, 25, 17)),  # Fri 13 not counted
        ("1.001193", vn(2026, 2, 13, 16), (2026, 2, 23, 17)),
        ("3.000333", vn(2026, 2, 13, 10), (2026, 2, 23, 17)),
        ("X.CON002", vn(2026, 2, 2, 9), (2026, 2, 23, 17)),  # 17 Feb is Tết → next working day
        ("1.001456", vn(2025, 1, 24, 9), (2025, 2, 12, 17)),  # Tết 2025, 8 working days
        # swap Saturday 26 April 2025 worked, Fri 2 May 2025 off
        ("1.004194", vn(2025, 4, 25, 16), (2025, 4, 29, 17)),  # Sat 26, Mon 28, Tue 29
        ("1.001193", vn(2025, 4, 26, 10), (2025, 4, 26, 17)),
        ("1.001193", vn(2025, 4, 26, 15, 30), (2025, 4, 28, 17)),
        ("1.001193", vn(2025, 4, 29, 15, 30), (2025, 5, 5, 17)),
        # calendar days (Civil Code: first day not counted; weekend end → next working day)
        ("3.000333", vn(2026, 3, 2, 9), (2026, 3, 12, 17)),
        ("3.000333", vn(2026, 3, 5, 9), (2026, 3, 16, 17)),
        ("X.LAND001", vn(2026, 3, 2, 9), (2026, 3, 30, 17)),
    ],
)
def test_due_examples(code: str, received: int, expected: tuple[int, ...]) -> None:
    assert due(code, received) == naive(expected)


def test_due_with_verification() -> None:
    assert due("1.000894", vn(2026, 3, 2, 9), verification=True) == datetime(2026, 3, 9, 17)
    assert due("3.000333", vn(2026, 3, 2, 9), verification=True) == datetime(2026, 3, 17, 17)
    assert due("2.000815", vn(2026, 3, 3, 15, 30), verification=True) == datetime(2026, 3, 5, 17)
    with pytest.raises(VerificationTimeMissing):
        due("1.001193", vn(2026, 3, 2, 9), verification=True)


def test_due_date_record() -> None:
    received = vn(2026, 3, 6, 18)
    found = compute_due(received_us=received, procedure=CAT.get("1.000894"), calendar=CAL)
    assert found.received_us == received
    assert at(found.clock_start_us) == datetime(2026, 3, 9, 7)
    assert found.rule_version == "vn-proc-2026.1#1.000894"
    assert found.calendar_version == "vn-2026.1"
    checked = compute_due(
        received_us=received, procedure=CAT.get("1.000894"), calendar=CAL, verification=True
    )
    assert checked.rule_version == "vn-proc-2026.1#1.000894+verification"
    assert parse_rule_version(checked.rule_version) == ("vn-proc-2026.1", "1.000894", True)
    assert checked.law_version == "nd118-2025"
    again = due_for_rule(
        received_us=received,
        rule_version=checked.rule_version,
        catalogue=CAT,
        calendar=CAL,
        law_version=checked.law_version,
    )
    assert again == checked


def test_recompute_refuses_other_catalogues() -> None:
    with pytest.raises(RuleVersionMismatch) as info:
        due_for_rule(
            received_us=vn(2026, 3, 2), rule_version="vn-proc-2025.1#1.001193", catalogue=CAT,
            calendar=CAL,
        )  # fmt: skip
    assert (info.value.expected, info.value.found) == ("vn-proc-2025.1", "vn-proc-2026.1")
    with pytest.raises(UnknownProcedure):
        due_for_rule(
            received_us=vn(2026, 3, 2), rule_version="vn-proc-2026.1#1.999999", catalogue=CAT,
            calendar=CAL,
        )  # fmt: skip
    for bad in ["vn-proc-2026.1", "a#b#c", "vn-proc-2026.1#1.001193+x", "#1.001193", 5]:
        with pytest.raises(MalformedCatalogue):
            parse_rule_version(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("received", "error"),
    [(1.0, MalformedTime), (None, MalformedTime), (vn(1999, 6, 1), TimeOutOfRange)],
)
def test_due_bad_reception_times(received: object, error: type[HosoError]) -> None:
    with pytest.raises(error):
        compute_due(received_us=received, procedure=CAT.get("1.001193"), calendar=CAL)  # type: ignore[arg-type]


# --- pauses and classification -------------------------------------------------


def test_extend_for_pause() -> None:
    old = vn(2026, 3, 11, 17)

    def extended(paused: int, resumed: int) -> datetime:
        return at(extend_for_pause(due_us=old, paused_us=paused, resumed_us=resumed, calendar=CAL))

    assert extended(vn(2026, 3, 9, 10), vn(2026, 3, 10, 10)) == datetime(2026, 3, 12, 17)
    assert extended(vn(2026, 3, 6, 16), vn(2026, 3, 9, 8)) == datetime(2026, 3, 12, 9)
    assert extended(vn(2026, 3, 7, 9), vn(2026, 3, 8, 9)) == datetime(2026, 3, 11, 17)
    # a pause of 24 working hours (Thu 12, Fri 13, Mon 23) moves the due date across Tết 2026
    across = extend_for_pause(
        due_us=vn(2026, 2, 13, 17), paused_us=vn(2026, 2, 12, 7), resumed_us=vn(2026, 2, 23, 17),
        calendar=CAL,
    )  # fmt: skip
    assert at(across) == datetime(2026, 2, 25, 17)
    with pytest.raises(MalformedTime):
        extended(vn(2026, 3, 10), vn(2026, 3, 9))


@pytest.mark.parametrize(
    ("due_at", "resolved", "expected"),
    [
        ((2026, 3, 11, 17), (2026, 3, 10, 10), "early"),
        ((2026, 3, 11, 17), (2026, 3, 11, 0), "on_time"),
        ((2026, 3, 11, 17), (2026, 3, 11, 17), "on_time"),
        ((2026, 3, 11, 10), (2026, 3, 11, 9), "on_time"),
        ((2026, 3, 11, 10), (2026, 3, 11, 10, 1), "late"),
        ((2026, 3, 11, 17), (2026, 3, 12, 7), "late"),
    ],
)
def test_classify(due_at: tuple[int, ...], resolved: tuple[int, ...], expected: str) -> None:
    assert classify(due_us=vn(*due_at), resolved_us=vn(*resolved)) == expected


def test_classify_boundary_and_errors() -> None:
    end = vn(2026, 3, 11, 17)
    assert classify(due_us=end, resolved_us=end + 1) == "late"
    with pytest.raises(MalformedTime):
        classify(due_us=end, resolved_us=float(end))  # type: ignore[arg-type]


# --- records built in code -----------------------------------------------------


def test_records_check_their_fields() -> None:
    with pytest.raises(MalformedDuration) as duration:
        ProcessingTime(amount=-1, unit="working_days")
    assert duration.value.where == "amount"
    with pytest.raises(MalformedDuration):
        ProcessingTime(amount=1, unit="days")
    with pytest.raises(MalformedCatalogue) as cutoff:
        ProcessingTime(amount=3, unit="working_days", cutoff="15:00")
    assert cutoff.value.where == "cutoff"
    with pytest.raises(MalformedCatalogue):
        Component(code="lower", name_vi="x", name_en="x")
    procedure = CAT.get("1.001193")
    with pytest.raises(MalformedCatalogue) as version:
        Catalogue("other", {procedure.code: procedure})
    assert version.value.where == "procedures.1.001193.catalogue_version"
    built = Procedure(
        code="1.001193", name_vi="Đăng ký khai sinh", name_en="Birth registration",
        agency_level="commune", time=ProcessingTime(amount=0, unit="working_days", cutoff="15:00"),
        required_components=procedure.required_components, paper_result_allowed_by_law=True,
        certainty="V", evidence="test", catalogue_version="test-1",
    )  # fmt: skip
    assert built.rule_version() == "test-1#1.001193"
    assert built.signatures == {}


# --- data files ------------------------------------------------------------


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "procedures.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


DELETE = object()
P0 = "procedures/0"
MC = MalformedCatalogue
MUTATIONS: list[tuple[str, object, type[HosoError], str]] = [
    (f"{P0}/time/amount", -1, MalformedDuration, "[0].time.amount"),
    (f"{P0}/time/unit", "days", MalformedDuration, "[0].time.unit"),
    (f"{P0}/time/cutoff", "25:00", MalformedCatalogue, "[0].time.cutoff"),
    (f"{P0}/time/amount", 3, MalformedCatalogue, "[0].time.cutoff"),
    (f"{P0}/time/start_rule", "paper", MalformedCatalogue, "[0].time.start_rule"),
    (f"{P0}/time/hours", 1, MalformedCatalogue, "[0].time.hours"),
    (f"{P0}/code", "1.1193", MalformedCatalogue, "[0].code"),
    ("procedures/9/certainty", "S", MalformedCatalogue, "[9].certainty"),  # X.ENT001
    ("procedures/1/code", "1.001193", MalformedCatalogue, "[1].code"),
    (f"{P0}/name_en", DELETE, MalformedCatalogue, "[0].name_en"),
    (f"{P0}/colour", "red", MalformedCatalogue, "[0].colour"),
    (f"{P0}/agency_level", "village", MalformedCatalogue, "[0].agency_level"),
    (f"{P0}/required_components", [], MalformedCatalogue, "[0].required_components"),
    (f"{P0}/required_components/0/code", "tk", MC, "[0].required_components[0].code"),
    (f"{P0}/signatures", {"ResultIssued": ["mayor"]}, MC, "[0].signatures.ResultIssued"),
    (f"{P0}/fee_vnd", -5, MalformedCatalogue, "[0].fee_vnd"),
    (f"{P0}/paper_result_allowed_by_law", "yes", MC, "[0].paper_result_allowed_by_law"),
    (f"{P0}/certainty", "P", MalformedCatalogue, "[0].certainty"),
    ("default_signatures/resultissued", ["leader"], MC, "$.default_signatures.resultissued"),
    ("format", "x", MalformedCatalogue, "$.format"),
    ("version", "a#b", MalformedCatalogue, "$.version"),
    ("procedures", [], MalformedCatalogue, "$.procedures"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "error", "where"), MUTATIONS)
def test_malformed_catalogue_files_name_the_field(
    tmp_path: Path, path: str, value: object, error: type[HosoError], where: str
) -> None:
    doc = copy.deepcopy(SHIPPED)
    *parents, last = path.split("/")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    with pytest.raises(error) as info:
        load_catalogue(_write(tmp_path, doc))
    assert type(info.value) is error
    assert info.value.where == (where if where.startswith("$") else f"$.procedures{where}")


def test_floats_and_unreadable_files(tmp_path: Path) -> None:
    text = shipped_text("procedures.json").replace('"amount": 3,', '"amount": 3.0,', 1)
    path = tmp_path / "procedures.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MalformedCatalogue, match="non-integer"):
        load_catalogue(path)
    with pytest.raises(MalformedCatalogue, match="cannot read"):
        load_catalogue(tmp_path / "missing.json")


def test_a_user_file_replaces_the_catalogue(tmp_path: Path) -> None:
    doc = copy.deepcopy(SHIPPED)
    doc["version"] = "hanoi-2026.1"
    doc["procedures"] = doc["procedures"][:1]
    doc["procedures"][0]["signatures"] = {"ResultIssued": ["handler", "agency_seal"]}
    catalogue = load_catalogue(_write(tmp_path, doc))
    assert catalogue.version == "hanoi-2026.1"
    assert len(catalogue) == 1
    birth = catalogue.get("1.001193")
    assert birth.signatures["ResultIssued"] == ("handler", "agency_seal")  # own entry wins
    assert birth.signatures["DossierReceived"] == ("reception",)  # defaults still apply
    assert birth.rule_version() == "hanoi-2026.1#1.001193"


# --- properties ------------------------------------------------------------

LOW, HIGH = vn(2024, 1, 1), vn(2027, 6, 1)


@given(
    st.integers(LOW, HIGH),
    st.sampled_from(sorted(TABLE)),
    st.booleans(),
    st.sampled_from([CAL, load_calendar(hours=(("07:30", "11:30"), ("13:00", "17:00")))]),
)
def test_due_follows_reception(
    received: int, code: str, verification: bool, calendar: WorkingCalendar
) -> None:
    procedure = CAT.get(code)
    verification = verification and procedure.verification_time is not None
    found = compute_due(
        received_us=received, procedure=procedure, calendar=calendar, verification=verification
    )
    assert received <= found.clock_start_us <= found.due_us
    assert calendar.is_working_time(found.clock_start_us)
    assert calendar.working_time_between(found.due_us - 1, found.due_us) == 1
    if ((verification and procedure.verification_time) or procedure.time).amount == 0:
        assert found.due_us == calendar.end_of_working_day(local_date(found.due_us))
        assert calendar.working_time_between(found.clock_start_us, found.due_us) <= (
            16 * US_PER_HOUR
        )


@given(st.integers(LOW, HIGH), st.integers(0, 72), st.integers(0, 72))
def test_pause_adds_back_the_paused_working_time(due_us: int, start: int, length: int) -> None:
    paused = due_us - start * US_PER_HOUR
    resumed = paused + length * US_PER_HOUR
    new = extend_for_pause(due_us=due_us, paused_us=paused, resumed_us=resumed, calendar=CAL)
    assert new >= due_us
    assert CAL.working_time_between(due_us, new) == CAL.working_time_between(paused, resumed)


@given(st.integers(LOW, HIGH), st.integers(LOW, HIGH))
def test_classify_is_late_exactly_after_the_due_instant(due_us: int, resolved: int) -> None:
    verdict = classify(due_us=due_us, resolved_us=resolved)
    assert (verdict == "late") is (resolved > due_us)
    if verdict == "early":
        assert local_date(resolved) < local_date(due_us)


# --- the worked examples of docs/domain-time.md --------------------------------


def _doc_rows(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", text, re.S)
    assert block is not None
    lines = block.group(1).strip().splitlines()[2:]  # header and rule
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _local(text: str) -> int:
    return instant(datetime.fromisoformat(text).replace(tzinfo=VN_TZ))


def test_doc_due_examples() -> None:
    rows = _doc_rows("due-examples")
    assert len(rows) >= 10
    for code, received, verification, start, expected in rows:
        found = compute_due(
            received_us=_local(received),
            procedure=CAT.get(code),
            calendar=CAL,
            verification=verification == "yes",
        )
        assert found.clock_start_us == _local(start), (code, received)
        assert found.due_us == _local(expected), (code, received)


def _production_extension(due_us: int, paused_us: int, resumed_us: int) -> int:
    """DOMAIN.md 2.2's production formula, as docs/domain-time.md §6 reads it."""
    day = 24 * US_PER_HOUR
    return CAL.add_working_time(due_us + (resumed_us - paused_us) - day, 8, "working_hours")


def test_doc_pause_examples() -> None:
    rows = _doc_rows("pause-examples")
    assert len(rows) == 3
    for old, paused, resumed, ours, production in rows:
        times = {"due_us": _local(old), "paused_us": _local(paused), "resumed_us": _local(resumed)}
        assert extend_for_pause(**times, calendar=CAL) == _local(ours)
        assert _production_extension(*times.values()) == _local(production)
