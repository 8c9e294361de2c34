"""The working calendar (ledger/domain/calendar.py, docs/domain-time.md §1–§3).

``ref_*`` is a naive reference written from the doc: datetimes, ``holidays.VN``
and the override table read straight from the JSON, one minute at a time.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from holidays import country_holidays
from holidays.countries.vietnam import VietnamStaticHolidays
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.errors import HosoError, MalformedError
from ledger.domain.calendar import (
    DEFAULT_HOURS,
    MAX_AMOUNT,
    UNITS,
    US_PER_HOUR,
    US_PER_MINUTE,
    VN_TZ,
    WORKING_DAY_US,
    CalendarDependencyMismatch,
    MalformedCalendar,
    MalformedDuration,
    MalformedTime,
    TimeOutOfRange,
    WorkingCalendar,
    day_start_us,
    instant,
    local_date,
    parse_hhmm,
    time_of_day_us,
    vn_datetime,
)
from ledger.domain.calendar_data import load_calendar
from ledger.domain.jsondata import shipped_text

CAL = load_calendar()
SHIPPED: dict[str, Any] = json.loads(shipped_text("calendar.json"))


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> int:
    return instant(datetime(y, m, d, hh, mm, tzinfo=VN_TZ))


def at(t_us: int) -> datetime:
    return vn_datetime(t_us).replace(tzinfo=None)


def naive(parts: tuple[int, ...]) -> datetime:
    year, month, day, hour, minute = (*parts, 0, 0)[:5]
    return datetime(year, month, day, hour, minute)  # naive, like at()


def in_closed_window(cal: WorkingCalendar, t_us: int) -> bool:
    """On a working day, inside some office-hour window, its end included."""
    tod = time_of_day_us(t_us)
    windows = [(parse_hhmm(s, where="s"), parse_hhmm(e, where="e")) for s, e in cal.hours]
    return cal.is_working_day(local_date(t_us)) and any(s <= tod <= e for s, e in windows)


# --- reference --------------------------------------------------------------

REF_DAYS_OFF = {
    date.fromisoformat(e["date"])
    for entries in SHIPPED["overrides"].values()
    for e in entries
    if e["kind"] == "day_off"
}
REF_WORKING_DAYS = {
    date.fromisoformat(e["date"])
    for entries in SHIPPED["overrides"].values()
    for e in entries
    if e["kind"] == "working_day"
}


@cache
def ref_working_day(day: date) -> bool:
    if day in REF_WORKING_DAYS:
        return True
    if day in REF_DAYS_OFF or day.weekday() >= 5:
        return False
    return day not in country_holidays("VN", years=day.year)


def ref_working_minute(local: datetime) -> bool:
    hm = (local.hour, local.minute)
    in_hours = (7, 0) <= hm < (11, 30) or (13, 30) <= hm < (17, 0)
    return in_hours and ref_working_day(local.date())


def ref_minutes_between(a_us: int, b_us: int) -> int:
    """Working minutes in [a, b) for minute-aligned a <= b."""
    local, end = at(a_us), at(b_us)
    count = 0
    while local < end:
        count += ref_working_minute(local)
        local += timedelta(minutes=1)
    return count


# --- the shipped data and the library ----------------------------------------


def test_default_calendar() -> None:
    assert CAL.version == "vn-2026.1"
    assert CAL.hours == DEFAULT_HOURS == (("07:00", "11:30"), ("13:30", "17:00"))
    assert CAL.day_us == WORKING_DAY_US == 8 * US_PER_HOUR
    assert (CAL.first_year, CAL.last_year) == (2000, 2099)
    assert load_calendar() == CAL


def test_pinned_library_version() -> None:
    assert SHIPPED["holidays_library"]["version"] == metadata.version("holidays") == "0.109"


# (year, Vietnamese Tết, Chinese new year, days off, working days around them)
TET = [
    (2007, date(2007, 2, 17), date(2007, 2, 18), ["02-16", "02-19", "02-21"], ["02-15", "02-22"]),
    (2025, date(2025, 1, 29), date(2025, 1, 29), ["01-27", "01-28", "01-31"], ["01-24", "02-03"]),
    (2026, date(2026, 2, 17), date(2026, 2, 17), ["02-16", "02-17", "02-20"], ["02-13", "02-23"]),
    (2030, date(2030, 2, 2), date(2030, 2, 3), ["01-31", "02-01", "02-06"], ["01-30", "02-07"]),
    (2053, date(2053, 2, 18), date(2053, 2, 19), ["02-17", "02-18", "02-21"], ["02-14", "02-24"]),
]  # fmt: skip


@pytest.mark.parametrize(("year", "vn_tet", "cn_tet", "off", "working"), TET)
def test_tet_uses_the_vietnamese_lunar_calendar(
    year: int, vn_tet: date, cn_tet: date, off: list[str], working: list[str]
) -> None:
    assert vn_tet in country_holidays("VN", years=year)
    if cn_tet != vn_tet:  # Tết Eve by the Vietnamese calendar: a working day in the Chinese one
        assert not CAL.is_working_day(vn_tet - timedelta(days=1))
    for day in off:
        assert not CAL.is_working_day(date.fromisoformat(f"{year}-{day}")), day
    for day in working:
        assert CAL.is_working_day(date.fromisoformat(f"{year}-{day}")), day


def test_tet_1985_is_pinned_in_the_library_but_outside_the_calendar() -> None:
    # 1985: Vietnamese Tết 21 January, Chinese new year 20 February
    assert date(1985, 1, 21) in country_holidays("VN", years=1985)
    assert date(1985, 2, 20) not in country_holidays("VN", years=1985)
    with pytest.raises(TimeOutOfRange):
        CAL.is_working_day(date(1985, 1, 21))


def _library_swaps() -> list[tuple[date, date]]:
    """(day off, substituted working day) pairs of holidays.VN's special_public_holidays."""
    pairs = []
    table: dict[int, Any] = VietnamStaticHolidays.special_public_holidays
    for year, value in table.items():
        rows = value if isinstance(value[0], tuple) else (value,)
        for row in rows:
            month, day, from_month, from_day, *rest = row
            from_year = rest[0] if rest else year
            pairs.append((date(year, month, day), date(from_year, from_month, from_day)))
    return pairs


def test_every_library_swap_has_its_saturday_in_the_override_table() -> None:
    swaps = _library_swaps()
    assert (date(2025, 5, 2), date(2025, 4, 26)) in swaps
    assert (date(2026, 8, 31), date(2026, 8, 22)) in swaps
    for day_off, worked in swaps:
        assert day_off in REF_DAYS_OFF
        assert worked in REF_WORKING_DAYS
        assert day_off in country_holidays(
            "VN", years=day_off.year
        )  # the library has the day off...
        assert worked.weekday() == 5  # ...we add the Saturday worked
        assert CAL.is_working_day(worked)
        assert not CAL.is_working_day(day_off)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 4, 26), True),  # Saturday worked for Fri 2 May 2025
        (date(2025, 5, 2), False),
        (date(2026, 8, 22), True),  # Saturday worked for Mon 31 August 2026
        (date(2026, 8, 31), False),
        (date(2026, 9, 1), False),  # National Day + the adjacent day (2021+)
        (date(2026, 9, 2), False),
        (date(2026, 11, 24), False),  # Vietnam Cultural Day, 2026+
        (date(2025, 11, 24), True),
        (date(2026, 4, 27), False),  # Hùng Kings (Sun 26/4) observed on Monday
        (date(2026, 4, 25), False),  # an ordinary Saturday
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), True),
    ],
)
def test_holidays_and_swap_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


# --- instants --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ((2026, 3, 3, 9, 15), (2026, 3, 3, 9, 15)),  # working: unchanged
        ((2026, 3, 3, 6, 59), (2026, 3, 3, 7, 0)),
        ((2026, 3, 3, 11, 30), (2026, 3, 3, 13, 30)),  # lunch
        ((2026, 3, 3, 17, 0), (2026, 3, 4, 7, 0)),  # window ends are not working time
        ((2026, 3, 6, 18, 0), (2026, 3, 9, 7, 0)),  # Friday after hours → Monday
        ((2026, 3, 7, 10, 0), (2026, 3, 9, 7, 0)),  # Saturday
        ((2026, 2, 13, 17, 30), (2026, 2, 23, 7, 0)),  # the evening before Tết 2026
        ((2025, 4, 25, 17, 30), (2025, 4, 26, 7, 0)),  # Friday → swap Saturday
    ],
)
def test_working_instant(given_: tuple[int, ...], expected: tuple[int, ...]) -> None:
    assert at(CAL.working_instant(vn(*given_))) == naive(expected)


def test_instant_is_exact_and_refuses_naive_datetimes() -> None:
    moment = datetime(2026, 3, 3, 9, 15, 7, 123456, tzinfo=VN_TZ)
    assert vn_datetime(instant(moment)) == moment
    assert instant(datetime(1970, 1, 1, 7, tzinfo=VN_TZ)) == 0
    assert day_start_us(date(1970, 1, 2)) == 17 * US_PER_HOUR
    with pytest.raises(MalformedTime, match="naive"):
        instant(datetime(2026, 3, 3, 9, 15))


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        ((2026, 3, 2, 7, 0), 1, "working_days", (2026, 3, 2, 17, 0)),
        ((2026, 3, 2, 9, 0), 1, "working_days", (2026, 3, 3, 9, 0)),
        ((2026, 3, 2, 9, 0), 3, "working_days", (2026, 3, 5, 9, 0)),
        ((2026, 3, 2, 11, 0), 1, "working_hours", (2026, 3, 2, 14, 0)),  # lunch skipped
        ((2026, 3, 6, 16, 0), 2, "working_hours", (2026, 3, 9, 8, 0)),  # over the weekend
        ((2026, 3, 2, 9, 0), 0, "working_hours", (2026, 3, 2, 9, 0)),
        ((2026, 3, 2, 12, 0), 0, "working_days", (2026, 3, 2, 13, 30)),  # start rolled
        ((2026, 3, 2, 9, 0), 10, "calendar_days", (2026, 3, 12, 17, 0)),
        ((2026, 3, 5, 9, 0), 10, "calendar_days", (2026, 3, 16, 17, 0)),  # Sun → Mon
        ((2026, 3, 2, 9, 0), 0, "calendar_days", (2026, 3, 2, 17, 0)),
        ((2026, 2, 2, 9, 0), 15, "calendar_days", (2026, 2, 23, 17, 0)),  # lands in Tết
        ((2026, 2, 13, 10, 0), 3, "working_days", (2026, 2, 25, 10, 0)),  # across Tết
        ((2025, 4, 25, 16, 0), 3, "working_days", (2025, 4, 29, 16, 0)),  # swap Saturday
    ],
)
def test_add_working_time_examples(
    start: tuple[int, ...], amount: int, unit: str, expected: tuple[int, ...]
) -> None:
    assert at(CAL.add_working_time(vn(*start), amount, unit)) == naive(expected)


def test_working_minutes_between_examples() -> None:
    assert CAL.working_minutes_between(vn(2026, 3, 6, 16), vn(2026, 3, 9, 8)) == 120
    assert CAL.working_minutes_between(vn(2026, 3, 9, 8), vn(2026, 3, 6, 16)) == -120
    assert CAL.working_minutes_between(vn(2026, 3, 2, 11), vn(2026, 3, 2, 14)) == 60
    assert CAL.working_minutes_between(vn(2026, 3, 2), vn(2026, 3, 3)) == 480
    assert CAL.working_minutes_between(vn(2026, 2, 14), vn(2026, 2, 23)) == 0  # Tết
    assert CAL.working_minutes_between(vn(2026, 3, 2, 9), vn(2026, 3, 2, 9) + 59_999_999) == 0
    assert CAL.working_time_between(vn(2026, 3, 2, 9), vn(2026, 3, 2, 9) + 1) == 1


def test_add_working_duration_keeps_a_window_end_for_zero() -> None:
    end = vn(2026, 3, 2, 17)
    assert CAL.add_working_duration(end, 0) == end
    assert at(CAL.add_working_duration(end, US_PER_HOUR)) == datetime(2026, 3, 3, 8)


def test_agency_hours() -> None:
    cal = load_calendar(hours=(("07:30", "11:30"), ("13:00", "17:00")))
    assert cal.version == "vn-2026.1+hours=07:30-11:30,13:00-17:00"
    assert load_calendar(hours=DEFAULT_HOURS).version == "vn-2026.1"
    assert at(cal.working_instant(vn(2026, 3, 2, 7, 15))) == datetime(2026, 3, 2, 7, 30)
    assert at(cal.working_instant(vn(2026, 3, 2, 12, 30))) == datetime(2026, 3, 2, 13)
    # a working day stays 8 working hours whatever the windows (docs/domain-time.md §3)
    half = WorkingCalendar("half-days", hours=(("08:00", "12:00"),))
    assert at(half.add_working_time(vn(2026, 3, 2, 8), 1, "working_days")) == datetime(
        2026, 3, 3, 12
    )


# --- typed errors ----------------------------------------------------------

BAD_INSTANTS: list[tuple[object, type[HosoError]]] = [
    (1.5e15, MalformedTime),
    (True, MalformedTime),
    ("1767225600000000", MalformedTime),
    (None, MalformedTime),
    (datetime(2026, 3, 3, tzinfo=VN_TZ), MalformedTime),
    (vn(1999, 12, 31, 23, 59), TimeOutOfRange),
    (vn(2100, 1, 1), TimeOutOfRange),
    (10**30, TimeOutOfRange),
]


@pytest.mark.parametrize(("value", "error"), BAD_INSTANTS)
def test_bad_instants(value: object, error: type[HosoError]) -> None:
    calls: list[Callable[[Any], object]] = [
        CAL.working_instant,
        CAL.is_working_time,
        lambda t: CAL.add_working_time(t, 1, "working_days"),
        lambda t: CAL.working_minutes_between(t, vn(2026, 1, 5)),
    ]
    for call in calls:
        with pytest.raises(error) as info:
            call(value)
        assert isinstance(info.value, MalformedError)


def test_bad_days() -> None:
    with pytest.raises(MalformedTime):
        CAL.is_working_day(datetime(2026, 3, 3, tzinfo=VN_TZ))
    with pytest.raises(TimeOutOfRange):
        CAL.is_working_day(date(2100, 1, 4))
    with pytest.raises(MalformedTime, match="not a working day"):
        CAL.end_of_working_day(date(2026, 3, 7))


@pytest.mark.parametrize("amount", [-1, 1.0, True, "3", MAX_AMOUNT + 1])
def test_bad_amounts(amount: object) -> None:
    with pytest.raises(MalformedDuration) as info:
        CAL.add_working_time(vn(2026, 3, 2), amount, "working_days")  # type: ignore[arg-type]
    assert info.value.where == "amount"
    assert info.value.check == "duration.value"


def test_bad_units_and_durations() -> None:
    with pytest.raises(MalformedDuration) as info:
        CAL.add_working_time(vn(2026, 3, 2), 1, "days")
    assert info.value.where == "unit"
    with pytest.raises(MalformedDuration):
        CAL.add_working_duration(vn(2026, 3, 2), -1)


def test_result_out_of_range() -> None:
    with pytest.raises(TimeOutOfRange, match=re.escape("calendar vn-2026.1")):
        CAL.add_working_time(vn(2099, 12, 31, 16), 2, "working_days")
    with pytest.raises(TimeOutOfRange):
        CAL.add_working_time(vn(2099, 12, 1), 40, "calendar_days")


def test_calendar_constructor_checks() -> None:
    day = date(2026, 3, 2)
    with pytest.raises(MalformedCalendar, match="both"):
        WorkingCalendar("x", extra_days_off=frozenset({day}), extra_working_days=frozenset({day}))
    with pytest.raises(MalformedCalendar) as info:
        WorkingCalendar("x", hours=(("07:00", "12:00"), ("11:00", "17:00")))
    assert info.value.where == "hours[1]"
    with pytest.raises(MalformedCalendar):
        WorkingCalendar("has space")
    with pytest.raises(MalformedCalendar):
        WorkingCalendar("x", first_year=1900)


# --- data files ------------------------------------------------------------


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _mutate(path: str, value: object) -> dict[str, Any]:
    """A copy of the shipped document with the value at ``a/b/0`` set (or deleted)."""
    doc = copy.deepcopy(SHIPPED)
    *parents, last = path.split("/")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        if int(last) == len(node):
            node.append(value)
        else:
            node[int(last)] = value
    elif value is DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


DELETE = object()
O25 = "overrides/2025/0"
MUTATIONS: list[tuple[str, object, str]] = [
    ("version", "", "$.version"),
    ("version", "vn 2026", "$.version"),
    ("years/first", 1800, "$.years.first"),
    ("years/last", "2099", "$.years.last"),
    ("hours", DELETE, "$.hours"),
    ("colour", "red", "$.colour"),
    ("format", "hoso.calendar/2", "$.format"),
    ("timezone", "+08:00", "$.timezone"),
    ("hours/0/0", "7:00", "$.hours[0][0]"),
    ("hours/1/0", "11:00", "$.hours[1]"),
    ("overrides/25", [], "$.overrides.25"),
    ("overrides/2025/2", {**SHIPPED["overrides"]["2025"][0]}, "$.overrides.2025[2].date"),
    (f"{O25}/kind", "holiday", "$.overrides.2025[0].kind"),
    (f"{O25}/date", "2025-02-30", "$.overrides.2025[0].date"),
    (f"{O25}/date", "2030-05-02", "$.overrides.2025[0].date"),
    (f"{O25}/source", " ", "$.overrides.2025[0].source"),
    (f"{O25}/certainty", "X", "$.overrides.2025[0].certainty"),
    (f"{O25}/swap_for", "2025-04-19", "$.overrides.2025[0].swap_for"),
    ("years/last", DELETE, "$.years.last"),
]


@pytest.mark.parametrize(("path", "value", "where"), MUTATIONS)
def test_malformed_calendar_files_name_the_field(
    tmp_path: Path, path: str, value: object, where: str
) -> None:
    with pytest.raises(MalformedCalendar) as info:
        load_calendar(_write(tmp_path, _mutate(path, value)))
    assert info.value.where == where
    assert info.value.check == "calendar.data"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": 1.5}', "non-integer"),
        ('{"a": NaN}', "non-integer"),
        ("{", "not JSON"),
    ],
)
def test_malformed_json(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MalformedCalendar, match=match) as info:
        load_calendar(path)
    assert info.value.where == str(path)
    with pytest.raises(MalformedCalendar, match="cannot read"):
        load_calendar(tmp_path / "missing.json")


def test_calendar_data_for_another_library_release(tmp_path: Path) -> None:
    doc = _mutate("holidays_library/version", "0.1")
    with pytest.raises(CalendarDependencyMismatch) as info:
        load_calendar(_write(tmp_path, doc))
    assert (info.value.expected, info.value.found) == ("0.1", metadata.version("holidays"))


def test_a_user_file_replaces_the_shipped_calendar(tmp_path: Path) -> None:
    doc = _mutate("overrides", {})
    doc["version"] = "bare"
    cal = load_calendar(_write(tmp_path, doc))
    assert cal.version == "bare"
    assert not cal.is_working_day(date(2025, 4, 26))  # no swap Saturday any more
    assert not cal.is_working_day(date(2025, 5, 2))  # the library still has the day off


def test_a_user_file_extends_the_shipped_calendar(tmp_path: Path) -> None:
    extension = {
        "format": "hoso.calendar/1",
        "version": "vn-2026.1+hn.1",
        "extends": "vn-2026.1",
        "overrides": {
            "2026": [
                {
                    "date": "2026-10-09",
                    "kind": "day_off",
                    "source": "a provincial decision (test)",
                    "certainty": "M",
                },
                {
                    "date": "2026-08-22",
                    "kind": "day_off",
                    "source": "swap cancelled (test)",
                    "certainty": "M",
                },
            ]
        },
    }
    cal = load_calendar(_write(tmp_path, extension))
    assert cal.version == "vn-2026.1+hn.1"
    assert not cal.is_working_day(date(2026, 10, 9))
    assert not cal.is_working_day(date(2026, 8, 22))  # the user's entry replaces the shipped one
    assert cal.is_working_day(date(2025, 4, 26))  # the rest is inherited
    assert cal.hours == DEFAULT_HOURS

    with pytest.raises(MalformedCalendar) as info:
        load_calendar(_write(tmp_path, {**extension, "extends": "vn-2025.9"}))
    assert info.value.where == "$.extends"
    with pytest.raises(MalformedCalendar) as info:
        load_calendar(_write(tmp_path, {**extension, "years": {"first": 2000, "last": 2050}}))
    assert info.value.where == "$.years"


# --- properties ------------------------------------------------------------

LOW, HIGH = vn(2024, 1, 1), vn(2027, 12, 1)
instants = st.integers(LOW, HIGH)
minute_instants = st.integers(0, (HIGH - LOW) // US_PER_MINUTE).map(
    lambda m: LOW + m * US_PER_MINUTE
)
units = st.sampled_from(UNITS)
amounts = st.integers(0, 60)


@given(instants, amounts, units)
def test_add_working_time_lands_on_working_time(start: int, amount: int, unit: str) -> None:
    result = CAL.add_working_time(start, amount, unit)
    assert result >= start
    assert in_closed_window(CAL, result)


@given(instants, amounts, amounts, units)
def test_add_working_time_is_monotone(start: int, a: int, b: int, unit: str) -> None:
    low, high = sorted((a, b))
    assert CAL.add_working_time(start, low, unit) <= CAL.add_working_time(start, high, unit)


@given(instants, st.integers(0, 400))
def test_working_hours_round_trip(start: int, hours: int) -> None:
    a = CAL.working_instant(start)
    assert CAL.working_minutes_between(a, CAL.add_working_time(a, hours, "working_hours")) == (
        hours * 60
    )
    days = hours // 8
    assert CAL.working_time_between(start, CAL.add_working_time(start, days, "working_days")) == (
        days * WORKING_DAY_US
    )


@given(instants)
def test_working_instant_properties(t: int) -> None:
    w = CAL.working_instant(t)
    assert w >= t
    assert CAL.is_working_time(w)
    assert CAL.working_instant(w) == w
    assert CAL.working_time_between(t, w) == 0
    assert CAL.is_working_time(t) is (w == t)


@given(instants, instants, instants)
def test_working_time_is_additive_and_antisymmetric(a: int, b: int, c: int) -> None:
    ab, bc = CAL.working_time_between(a, b), CAL.working_time_between(b, c)
    assert ab + bc == CAL.working_time_between(a, c)
    assert CAL.working_time_between(b, a) == -ab


@given(instants, st.integers(1, 200 * US_PER_HOUR))
def test_add_working_duration_is_the_earliest_instant(start: int, duration: int) -> None:
    result = CAL.add_working_duration(start, duration)
    assert CAL.working_time_between(start, result) == duration
    assert CAL.working_time_between(start, result - 1) == duration - 1


@settings(max_examples=40)
@given(minute_instants, st.integers(0, 3 * 24 * 60))
def test_working_minutes_match_the_reference(start: int, span: int) -> None:
    end = start + span * US_PER_MINUTE
    assert CAL.working_minutes_between(start, end) == ref_minutes_between(start, end)


@settings(max_examples=40)
@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_working_days_match_the_reference(day: date) -> None:
    assert CAL.is_working_day(day) is ref_working_day(day)
