"""The working calendar of Vietnamese state agencies, and working-time arithmetic.

Follows docs/domain-time.md §1–§3 (DOMAIN.md 2.2, 2.10). Pure: times are
integer microseconds since the Unix epoch, UTC; Vietnam local time is fixed
UTC+07:00 (no daylight saving since 1975). A day is a *working day* when it is
an override working day (a Saturday worked in a swap), or when it is Monday to
Friday, not a public holiday of ``holidays.VN`` (observed days included) and
not an override day off. Working time runs inside the office-hour windows of
working days (default 07:00–11:30 and 13:30–17:00: 8 hours); a *working day*
as a duration is always 8 working hours, as in the production system.

The holidays come from the pinned ``holidays`` library; swap Saturdays and any
decision the library lacks come from the versioned override table in
``data/calendar.json``, which :func:`ledger.domain.calendar_data.load_calendar`
reads (or a user file that replaces or extends it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Final, Literal, NoReturn, get_args

import holidays

from ledger.core.errors import MalformedError, VerificationError

VN_TZ: Final = timezone(timedelta(hours=7))
"""Vietnam time, UTC+07:00 all year."""

US_PER_SECOND: Final = 1_000_000
US_PER_MINUTE: Final = 60 * US_PER_SECOND
US_PER_HOUR: Final = 60 * US_PER_MINUTE
US_PER_DAY: Final = 24 * US_PER_HOUR
VN_OFFSET_US: Final = 7 * US_PER_HOUR
WORKING_DAY_HOURS: Final = 8
"""One working day, as a duration, is 8 working hours (DOMAIN.md 2.4, production system)."""
WORKING_DAY_US: Final = WORKING_DAY_HOURS * US_PER_HOUR
MAX_AMOUNT: Final = 100_000
"""The largest amount :meth:`WorkingCalendar.add_working_time` accepts, in any unit."""

Unit = Literal["working_hours", "working_days", "calendar_days"]
UNITS: Final[tuple[str, ...]] = get_args(Unit)
Hours = tuple[tuple[str, str], ...]
DEFAULT_HOURS: Final[Hours] = (("07:00", "11:30"), ("13:30", "17:00"))

CALENDAR_FORMAT: Final = "hoso.calendar/1"
LIBRARY_FIRST_YEAR: Final = 1901  # holidays.VN's lunar tables
LIBRARY_LAST_YEAR: Final = 2100
LOOKAHEAD_DAYS: Final = 366

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIN_US = (date(1, 1, 2).toordinal() - _EPOCH_ORDINAL) * US_PER_DAY
_MAX_US = (date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL) * US_PER_DAY
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_VERSION = re.compile(r"[\x21-\x7e]{1,120}")


# --- errors ----------------------------------------------------------------


class MalformedTime(MalformedError):
    """A time is not an integer of microseconds (or an aware datetime, or a date)."""

    check = "time.value"


class TimeOutOfRange(MalformedError):
    """A time, or a computed due date, lies outside the calendar's supported years."""

    check = "time.range"


class MalformedDuration(MalformedError):
    """An amount is negative, too large or not an integer, or its unit is unknown."""

    check = "duration.value"


class MalformedCalendar(MalformedError):
    """Calendar data (JSON file, hours, override table) has a missing or invalid field."""

    check = "calendar.data"


class CalendarDependencyMismatch(VerificationError):
    """The calendar data was written for another version of the ``holidays`` library."""

    check = "calendar.dependency"


# --- instants and local dates ---------------------------------------------


def check_instant(value: object, *, where: str) -> int:
    """Return ``value`` if it is an integer of microseconds (not a bool, float or datetime)."""
    if type(value) is not int:
        raise MalformedTime(
            f"expected integer microseconds UTC, got {type(value).__name__}", where=where
        )
    if not _MIN_US <= value <= _MAX_US:
        raise TimeOutOfRange(f"{value} µs is outside years 1–9999", where=where)
    return value


def instant(moment: datetime) -> int:
    """Exact integer microseconds UTC of an aware datetime; naive datetimes are refused."""
    if not isinstance(moment, datetime):
        raise MalformedTime(f"expected a datetime, got {type(moment).__name__}", where="moment")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MalformedTime("naive datetime: give a time zone (e.g. VN_TZ)", where="moment")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def vn_datetime(t_us: int) -> datetime:
    """The instant as an aware datetime in Vietnam time (for display and tests)."""
    check_instant(t_us, where="t_us")
    return (_EPOCH + timedelta(microseconds=t_us)).astimezone(VN_TZ)


def local_date(t_us: int) -> date:
    """The Vietnam calendar date of an instant."""
    check_instant(t_us, where="t_us")
    return date.fromordinal(_EPOCH_ORDINAL + (t_us + VN_OFFSET_US) // US_PER_DAY)


def day_start_us(day: date) -> int:
    """The instant of local midnight (00:00 UTC+07:00) that starts ``day``."""
    _check_date(day, where="day")
    return (day.toordinal() - _EPOCH_ORDINAL) * US_PER_DAY - VN_OFFSET_US


def time_of_day_us(t_us: int) -> int:
    """Microseconds since local midnight."""
    check_instant(t_us, where="t_us")
    return (t_us + VN_OFFSET_US) % US_PER_DAY


def parse_hhmm(text: object, *, where: str, error: type[MalformedError] = MalformedCalendar) -> int:
    """``"HH:MM"`` (00:00–23:59) as microseconds since local midnight."""
    if not isinstance(text, str) or not (m := _HHMM.fullmatch(text)):
        raise error(f"expected a time 'HH:MM', got {text!r}", where=where)
    return int(m.group(1)) * US_PER_HOUR + int(m.group(2)) * US_PER_MINUTE


def _check_date(day: object, *, where: str) -> date:
    if type(day) is not date:  # a datetime is a date too: refuse it
        raise MalformedTime(f"expected a date, got {type(day).__name__}", where=where)
    return day


def check_hours(hours: object, *, where: str) -> tuple[tuple[int, int], ...]:
    """Windows as (start, end) µs since midnight: non-empty, increasing, non-touching."""
    if not isinstance(hours, Sequence) or isinstance(hours, str) or not hours:
        raise MalformedCalendar("expected a non-empty list of [start, end] windows", where=where)
    windows: list[tuple[int, int]] = []
    for i, window in enumerate(hours):
        here = f"{where}[{i}]"
        if not isinstance(window, Sequence) or isinstance(window, str) or len(window) != 2:
            raise MalformedCalendar("expected [start 'HH:MM', end 'HH:MM']", where=here)
        start = parse_hhmm(window[0], where=f"{here}[0]")
        end = parse_hhmm(window[1], where=f"{here}[1]")
        if end <= start:
            raise MalformedCalendar("a window must end after it starts", where=here)
        if windows and start <= windows[-1][1]:
            raise MalformedCalendar(
                "windows must be in order and neither overlap nor touch", where=here
            )
        windows.append((start, end))
    return tuple(windows)


@cache
def _library_days_off(year: int) -> frozenset[date]:
    """Days off of ``holidays.VN`` (observed days included) falling in ``year``."""
    years = range(max(year - 1, LIBRARY_FIRST_YEAR), min(year + 1, LIBRARY_LAST_YEAR) + 1)
    days = holidays.country_holidays("VN", years=years)
    return frozenset(d for d in days if d.year == year)


# --- the calendar ----------------------------------------------------------


@dataclass(frozen=True)
class WorkingCalendar:
    """A versioned working calendar: holidays.VN + override days + office hours.

    ``extra_days_off`` are days off the library lacks (decisions of the Prime
    Minister / Ministry of Home Affairs); ``extra_working_days`` are days
    worked although they are weekend days or library holidays (swap
    Saturdays). Supported dates run from 1 January ``first_year`` to 31
    December ``last_year`` (local); anything else raises :class:`TimeOutOfRange`.
    """

    version: str
    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    hours: Hours = DEFAULT_HOURS
    first_year: int = 2000
    last_year: int = 2099
    _windows: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not _VERSION.fullmatch(self.version):
            raise MalformedCalendar(
                "version must be 1–120 printable ASCII characters", where="version"
            )
        for name in ("first_year", "last_year"):
            year = getattr(self, name)
            if type(year) is not int or not LIBRARY_FIRST_YEAR <= year < LIBRARY_LAST_YEAR:
                raise MalformedCalendar(
                    f"expected a year in {LIBRARY_FIRST_YEAR}–{LIBRARY_LAST_YEAR - 1}", where=name
                )
        if self.first_year > self.last_year:
            raise MalformedCalendar("first_year is after last_year", where="first_year")
        for name in ("extra_days_off", "extra_working_days"):
            days = getattr(self, name)
            if not isinstance(days, frozenset):
                raise MalformedCalendar("expected a frozenset of dates", where=name)
            for day in days:
                _check_date(day, where=name)
        both = self.extra_days_off & self.extra_working_days
        if both:
            raise MalformedCalendar(
                f"{min(both).isoformat()} is both a day off and a working day",
                where="extra_working_days",
            )
        object.__setattr__(self, "_windows", check_hours(self.hours, where="hours"))
        object.__setattr__(self, "hours", tuple((s, e) for s, e in self.hours))

    # -- days

    @property
    def day_us(self) -> int:
        """The office hours of one working day, in microseconds (8 h by default)."""
        return sum(end - start for start, end in self._windows)

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day of this calendar."""
        self._check_day(day, where="day")
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off or day.weekday() >= 5:
            return False
        return day not in _library_days_off(day.year)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        self._check_day(day, where="day")
        for offset in range(1, LOOKAHEAD_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if candidate.year > self.last_year:
                self._out_of_range(f"no working day after {day} before {self.last_year + 1}")
            if self.is_working_day(candidate):
                return candidate
        raise MalformedCalendar(f"no working day within {LOOKAHEAD_DAYS} days after {day}")

    def end_of_working_day(self, day: date) -> int:
        """The instant office hours end on a working day (the last window's end)."""
        if not self.is_working_day(day):
            raise MalformedTime(f"{day} is not a working day", where="day")
        return day_start_us(day) + self._windows[-1][1]

    # -- instants

    def is_working_time(self, t_us: int) -> bool:
        """True if the clock runs at ``t_us``: inside a window [start, end) of a working day."""
        self._check(t_us, where="t_us")
        day = local_date(t_us)
        tod = t_us - day_start_us(day)
        return self.is_working_day(day) and any(s <= tod < e for s, e in self._windows)

    def working_instant(self, t_us: int) -> int:
        """``t_us`` if the clock runs then, else the start of the next window of a working day."""
        self._check(t_us, where="t_us")
        day = local_date(t_us)
        base = day_start_us(day)
        if self.is_working_day(day):
            for start, end in self._windows:
                if t_us < base + start:
                    return base + start
                if t_us < base + end:
                    return t_us
        return day_start_us(self.next_working_day(day)) + self._windows[0][0]

    def add_working_duration(self, start_us: int, duration_us: int) -> int:
        """The earliest instant ``t >= start_us`` with ``duration_us`` of working time in
        ``[start_us, t]``. A zero duration returns ``start_us`` unchanged."""
        self._check(start_us, where="start_us")
        if type(duration_us) is not int or duration_us < 0:
            raise MalformedDuration(
                f"expected a non-negative integer of µs, got {duration_us!r}", where="duration_us"
            )
        if duration_us == 0:
            return start_us
        remaining = duration_us
        t = self.working_instant(start_us)
        day = local_date(t)
        while True:
            base = day_start_us(day)
            for start, end in self._windows:
                low, high = max(t, base + start), base + end
                if low >= high:
                    continue
                if remaining <= high - low:
                    return low + remaining
                remaining -= high - low
            day = self.next_working_day(day)
            t = day_start_us(day)

    def add_working_time(self, start_us: int, amount: int, unit: str) -> int:
        """Add ``amount`` of ``unit`` to ``start_us`` (docs/domain-time.md §3).

        The start is first rolled forward with :meth:`working_instant`. Then
        ``working_hours``: ``amount`` × 60 working minutes; ``working_days``:
        ``amount`` × 8 working hours; ``calendar_days``: the end of office hours
        on the local date ``amount`` days after the start's, or on the next
        working day if that date is not one (Civil Code 2015 Art. 147–148).
        """
        self._check(start_us, where="start_us")
        if type(amount) is not int or not 0 <= amount <= MAX_AMOUNT:
            raise MalformedDuration(
                f"expected an integer amount in 0–{MAX_AMOUNT}, got {amount!r}", where="amount"
            )
        if unit not in UNITS:
            raise MalformedDuration(f"unknown unit {unit!r}; expected one of {UNITS}", where="unit")
        start = self.working_instant(start_us)
        if unit == "calendar_days":
            day = local_date(start) + timedelta(days=amount)
            if day.year > self.last_year:
                self._out_of_range(f"{day} is after {self.last_year}")
            if not self.is_working_day(day):
                day = self.next_working_day(day)
            return self.end_of_working_day(day)
        per = US_PER_HOUR if unit == "working_hours" else WORKING_DAY_US
        return self.add_working_duration(start, amount * per) if amount else start

    def working_time_between(self, a_us: int, b_us: int) -> int:
        """Working time in ``[a_us, b_us]``, in µs; negative when ``b_us < a_us``."""
        self._check(a_us, where="a_us")
        self._check(b_us, where="b_us")
        if b_us < a_us:
            return -self.working_time_between(b_us, a_us)
        total = 0
        day, last = local_date(a_us), local_date(b_us)
        while day <= last:
            if self.is_working_day(day):
                base = day_start_us(day)
                for start, end in self._windows:
                    total += max(0, min(b_us, base + end) - max(a_us, base + start))
            day += timedelta(days=1)
        return total

    def working_minutes_between(self, a_us: int, b_us: int) -> int:
        """:meth:`working_time_between` in whole minutes, truncated toward zero."""
        between = self.working_time_between(a_us, b_us)
        minutes = abs(between) // US_PER_MINUTE
        return minutes if between >= 0 else -minutes

    # -- checks

    def _check(self, t_us: object, *, where: str) -> int:
        value = check_instant(t_us, where=where)
        low = day_start_us(date(self.first_year, 1, 1))
        high = day_start_us(date(self.last_year, 12, 31)) + US_PER_DAY
        if not low <= value < high:
            self._out_of_range(f"{value} µs is outside {self.first_year}–{self.last_year}", where)
        return value

    def _check_day(self, day: object, *, where: str) -> date:
        checked = _check_date(day, where=where)
        if not self.first_year <= checked.year <= self.last_year:
            self._out_of_range(f"{checked} is outside {self.first_year}–{self.last_year}", where)
        return checked

    def _out_of_range(self, detail: str, where: str = "result") -> NoReturn:
        raise TimeOutOfRange(f"{detail} (calendar {self.version})", where=where)
