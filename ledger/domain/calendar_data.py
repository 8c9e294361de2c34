"""The working calendar's data file (docs/domain-time.md §2): ``data/calendar.json`` or a
user file that replaces or extends it, read into a :class:`WorkingCalendar`.

The override table lists, per year, the days off the ``holidays`` library lacks and
the swap working days of the government's yearly decisions, each with its source and
certainty; the file also pins the ``holidays`` release it was written for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import date
from importlib import metadata
from typing import Any, Literal, get_args

from ledger.domain.calendar import (
    CALENDAR_FORMAT,
    US_PER_MINUTE,
    CalendarDependencyMismatch,
    Hours,
    MalformedCalendar,
    WorkingCalendar,
    check_hours,
)
from ledger.domain.jsondata import file_text, json_object, non_empty_text, shipped_text, strict_json


def _object(
    value: object, keys: frozenset[str], required: frozenset[str], where: str
) -> Mapping[str, Any]:
    return json_object(value, keys, required, where, error=MalformedCalendar)


def _non_empty(value: object, *, where: str) -> str:
    return non_empty_text(value, where=where, error=MalformedCalendar)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
OverrideKind = Literal["day_off", "working_day"]
_FULL_KEYS = frozenset(
    {"format", "version", "description", "timezone", "holidays_library", "years", "hours"}
    | {"hours_source", "overrides"}
)
_EXTENSION_KEYS = frozenset(
    {"format", "version", "extends", "description", "hours", "hours_source", "overrides"}
)
_ENTRY_KEYS = frozenset({"date", "kind", "swap_for", "source", "certainty"})
_ENTRY_REQUIRED = frozenset({"date", "kind", "source", "certainty"})
_CERTAINTIES = frozenset({"V", "S", "M", "P"})


def _iso_date(value: object, *, where: str) -> date:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise MalformedCalendar(f"expected a date 'YYYY-MM-DD', got {value!r}", where=where)


def _overrides(value: object, *, where: str) -> dict[date, OverrideKind]:
    """The override table: ``{"YYYY": [entry, ...]}`` → date → kind."""
    if not isinstance(value, dict):
        raise MalformedCalendar("expected an object keyed by year", where=where)
    kinds: dict[date, OverrideKind] = {}
    pairs: dict[date, tuple[date, str]] = {}
    for year_key, entries in value.items():
        here = f"{where}.{year_key}"
        if not re.fullmatch(r"\d{4}", year_key):
            raise MalformedCalendar("expected a four-digit year key", where=here)
        if not isinstance(entries, list):
            raise MalformedCalendar("expected a list of entries", where=here)
        for i, raw in enumerate(entries):
            at = f"{here}[{i}]"
            entry = _object(raw, _ENTRY_KEYS, _ENTRY_REQUIRED, at)
            day = _iso_date(entry["date"], where=f"{at}.date")
            if abs(day.year - int(year_key)) > 1:
                raise MalformedCalendar(
                    f"{day} is not in or next to {year_key}", where=f"{at}.date"
                )
            if day in kinds:
                raise MalformedCalendar(f"{day} is listed twice", where=f"{at}.date")
            kind = entry["kind"]
            if kind not in get_args(OverrideKind):
                raise MalformedCalendar(
                    f"expected 'day_off' or 'working_day', got {kind!r}", where=f"{at}.kind"
                )
            _non_empty(entry["source"], where=f"{at}.source")
            if entry["certainty"] not in _CERTAINTIES:
                raise MalformedCalendar("expected V, S, M or P", where=f"{at}.certainty")
            kinds[day] = kind
            if entry.get("swap_for") is not None:
                pairs[day] = (_iso_date(entry["swap_for"], where=f"{at}.swap_for"), at)
    for day, (other, at) in pairs.items():
        back = pairs.get(other)
        if kinds.get(other) in (None, kinds[day]) or back is None or back[0] != day:
            raise MalformedCalendar(
                f"{day} swaps with {other}, which must be listed with the opposite kind "
                f"and swap back",
                where=f"{at}.swap_for",
            )
    return kinds


def _hours_spec(hours: Hours) -> str:
    return ",".join(f"{start}-{end}" for start, end in hours)


def _hours_value(value: object, *, where: str) -> Hours:
    windows = check_hours(value, where=where)
    return tuple((_format_hhmm(start), _format_hhmm(end)) for start, end in windows)


def _format_hhmm(tod_us: int) -> str:
    minutes = tod_us // US_PER_MINUTE
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def calendar_from_data(
    data: object,
    *,
    shipped: object | None = None,
    hours: Sequence[tuple[str, str]] | None = None,
) -> WorkingCalendar:
    """Build a calendar from parsed calendar JSON (docs/domain-time.md §2).

    A document with ``"extends"`` is an extension of ``shipped`` (the parsed
    shipped file): its override entries replace the shipped ones date by date
    and its ``hours``, if given, replace the shipped hours. ``hours`` given
    here replace both; the calendar version then gets ``+hours=HH:MM-HH:MM,...``.
    """
    if isinstance(data, dict) and "extends" in data:
        doc = _object(data, _EXTENSION_KEYS, frozenset({"format", "version", "extends"}), "$")
        if shipped is None:
            raise MalformedCalendar("an extension needs the shipped calendar", where="$.extends")
        base = _object(shipped, _FULL_KEYS, _FULL_KEYS - {"description", "hours_source"}, "shipped")
        if doc["extends"] != base["version"]:
            raise MalformedCalendar(
                f"extends {doc['extends']!r} but the shipped calendar is {base['version']!r}",
                where="$.extends",
            )
        merged = dict(base)
        merged.update({k: v for k, v in doc.items() if k not in ("overrides", "extends")})
        kinds = _overrides(base["overrides"], where="shipped.overrides")
        kinds.update(_overrides(doc.get("overrides", {}), where="$.overrides"))
    else:
        merged = dict(_object(data, _FULL_KEYS, _FULL_KEYS - {"description", "hours_source"}, "$"))
        kinds = _overrides(merged["overrides"], where="$.overrides")
    if merged["format"] != CALENDAR_FORMAT:
        raise MalformedCalendar(f"expected {CALENDAR_FORMAT!r}", where="$.format")
    if merged["timezone"] != "+07:00":
        raise MalformedCalendar("Vietnam time is '+07:00'", where="$.timezone")
    library = merged["holidays_library"]
    _object(
        library,
        frozenset({"name", "country", "version"}),
        frozenset({"name", "country", "version"}),
        "$.holidays_library",
    )
    if library["name"] != "holidays" or library["country"] != "VN":
        raise MalformedCalendar("expected holidays / VN", where="$.holidays_library")
    installed = metadata.version("holidays")
    if library["version"] != installed:
        raise CalendarDependencyMismatch(
            "the calendar data was written for another holidays release",
            where="$.holidays_library.version",
            expected=library["version"],
            found=installed,
        )
    years = _object(
        merged["years"], frozenset({"first", "last"}), frozenset({"first", "last"}), "$.years"
    )
    file_hours = _hours_value(merged["hours"], where="$.hours")
    version = _non_empty(merged["version"], where="$.version")
    chosen = file_hours
    if hours is not None:
        chosen = _hours_value(hours, where="hours")
        if chosen != file_hours:
            version = f"{version}+hours={_hours_spec(chosen)}"
    try:
        return WorkingCalendar(
            version=version,
            extra_days_off=frozenset(d for d, k in kinds.items() if k == "day_off"),
            extra_working_days=frozenset(d for d, k in kinds.items() if k == "working_day"),
            hours=chosen,
            first_year=years["first"],
            last_year=years["last"],
        )
    except MalformedCalendar as err:
        paths = {"version": "$.version", "first_year": "$.years.first", "last_year": "$.years.last"}
        raise MalformedCalendar(err.detail, where=paths.get(err.where or "", err.where)) from None


def load_calendar(
    path: str | os.PathLike[str] | None = None,
    *,
    hours: Sequence[tuple[str, str]] | None = None,
) -> WorkingCalendar:
    """The shipped calendar, or the one in ``path`` (a full replacement, or an
    extension with ``"extends": <shipped version>``); ``hours`` overrides office hours."""
    shipped = strict_json(
        shipped_text("calendar.json"), error=MalformedCalendar, where="calendar.json"
    )
    if path is None:
        return calendar_from_data(shipped, hours=hours)
    text = file_text(path, error=MalformedCalendar)
    data = strict_json(text, error=MalformedCalendar, where=str(path))
    return calendar_from_data(data, shipped=shipped, hours=hours)
