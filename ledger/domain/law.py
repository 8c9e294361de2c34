"""The law in force, as versioned data (docs/domain.md §Legal basis): which legal version
governs a dossier, how it counts periods, which clock pauses it allows, and the text and
article each post-audit rule rests on in each version.

A dossier is judged by the version in force on its electronic reception date (Decree
118/2025/NĐ-CP from 1 July 2025; Decree 61/2018/NĐ-CP + 107/2021/NĐ-CP before). The
data is ``data/law.json`` (format ``hoso.law/1``); an article that could not be read in
a primary text is ``null`` with ``verified: false`` and is cited as unverified. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Final

from ledger.core.errors import MalformedError, VerificationError
from ledger.domain.calendar import local_date
from ledger.domain.jsondata import json_object, non_empty_text, shipped_text, strict_json

LAW_FORMAT: Final = "hoso.law/1"
DAY_COUNTS: Final = ("civil_code_art147", "eight_working_hours")
HOUR_COUNTS: Final = ("from_clock_start",)
PAUSES: Final = ("supplement", "payment")


class MalformedLaw(MalformedError):
    """The law data file has a missing or invalid field."""

    check = "law.data"


class LawVersionUnknown(VerificationError):
    """A recorded legal version is not in the law data, or no version covers a date."""

    check = "law.version"


@dataclass(frozen=True, slots=True)
class Provision:
    """The text and article a rule rests on in one legal version."""

    text: str
    article: str | None
    verified: bool

    def cite(self) -> str:
        article = self.article or "article unverified"
        if self.article and not self.verified:
            article += " (unverified)"
        return f"{self.text} [{article}]"


@dataclass(frozen=True, slots=True)
class Counting:
    """How a legal version counts processing periods (one convention, used everywhere)."""

    working_days: str  # civil_code_art147 | eight_working_hours
    working_hours: str
    same_day_cutoff: str | None
    source: str


@dataclass(frozen=True, slots=True)
class LegalVersion:
    id: str
    title: str
    in_force_from: date
    in_force_to: date | None
    dates_verified: bool
    counting: Counting
    pauses: frozenset[str]
    forms: Mapping[str, str]

    def covers(self, day: date) -> bool:
        return self.in_force_from <= day and (self.in_force_to is None or day <= self.in_force_to)


@dataclass(frozen=True)
class LawBook:
    """Every legal version, the legacy counting, and the provisions by rule and version."""

    version: str
    versions: tuple[LegalVersion, ...]
    legacy: Counting
    legacy_id: str
    provisions: Mapping[str, Mapping[str, Provision]]

    def get(self, version_id: str) -> LegalVersion:
        for v in self.versions:
            if v.id == version_id:
                return v
        raise LawVersionUnknown(
            "no such legal version",
            where="law_version",
            expected=[v.id for v in self.versions],
            found=version_id,
        )

    def in_force(self, t_us: int) -> LegalVersion:
        """The version in force on the Vietnam-local date of ``t_us``."""
        day = local_date(t_us)
        for v in self.versions:
            if v.covers(day):
                return v
        raise LawVersionUnknown(
            f"no legal version in force on {day.isoformat()}",
            where="received_us",
            found=day.isoformat(),
        )

    def counting_for(self, version_id: str | None) -> Counting:
        """A recorded version's counting; ``None`` (older ledgers) is the legacy counting."""
        return self.legacy if version_id is None else self.get(version_id).counting

    def provision(self, rule: str, version_id: str) -> Provision | None:
        return self.provisions.get(rule, {}).get(version_id)

    def cite(self, rule: str, version_id: str) -> str:
        """``"<version>: <text> [<article>]"`` — or that the data has none for this rule."""
        found = self.provision(rule, version_id)
        if found is None:
            return f"{version_id}: no legal basis recorded for {rule}"
        return f"{version_id}: {found.cite()}"


# --- reading the data -----------------------------------------------------------


def _obj(value: object, keys: set[str], required: set[str], where: str) -> dict[str, Any]:
    return json_object(value, frozenset(keys), frozenset(required), where, error=MalformedLaw)


def _text(value: object, where: str) -> str:
    return non_empty_text(value, where=where, error=MalformedLaw)


def _date(value: object, where: str) -> date:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise MalformedLaw(f"expected a date 'YYYY-MM-DD', got {value!r}", where=where)


def _counting(value: object, where: str) -> Counting:
    keys = {"working_days", "working_hours", "same_day_cutoff", "source"}
    c = _obj(value, keys, keys, where)
    if c["working_days"] not in DAY_COUNTS:
        raise MalformedLaw(f"expected one of {DAY_COUNTS}", where=f"{where}.working_days")
    if c["working_hours"] not in HOUR_COUNTS:
        raise MalformedLaw(f"expected one of {HOUR_COUNTS}", where=f"{where}.working_hours")
    cutoff = c["same_day_cutoff"]
    if cutoff is not None:
        _text(cutoff, f"{where}.same_day_cutoff")
    return Counting(c["working_days"], c["working_hours"], cutoff, _text(c["source"], where))


def _provision(value: object, where: str) -> Provision:
    p = _obj(value, {"text", "article", "verified"}, {"text", "article", "verified"}, where)
    if p["article"] is not None:
        _text(p["article"], f"{where}.article")
    if type(p["verified"]) is not bool or (p["verified"] and p["article"] is None):
        raise MalformedLaw("verified is a bool, and true only with an article", where=where)
    return Provision(_text(p["text"], f"{where}.text"), p["article"], p["verified"])


def law_from_data(data: object) -> LawBook:
    """Build a :class:`LawBook` from parsed ``hoso.law/1`` JSON; versions must not overlap."""
    top = {"format", "version", "description", "versions", "legacy_counting", "provisions"}
    doc = _obj(data, top, top - {"description"}, "$")
    if doc["format"] != LAW_FORMAT:
        raise MalformedLaw(f"expected {LAW_FORMAT!r}", where="$.format")
    versions: list[LegalVersion] = []
    keys = {"id", "title", "in_force_from", "in_force_to", "dates_verified", "counting"}
    keys |= {"pauses", "forms"}
    if not isinstance(doc["versions"], list) or not doc["versions"]:
        raise MalformedLaw("expected a non-empty list", where="$.versions")
    for i, raw in enumerate(doc["versions"]):
        at = f"$.versions[{i}]"
        v = _obj(raw, keys, keys, at)
        end = None if v["in_force_to"] is None else _date(v["in_force_to"], f"{at}.in_force_to")
        pauses = v["pauses"]
        if not isinstance(pauses, list) or not set(pauses) <= set(PAUSES):
            raise MalformedLaw(f"expected a list of {PAUSES}", where=f"{at}.pauses")
        forms = v["forms"]
        if not isinstance(forms, dict) or not all(isinstance(x, str) for x in forms.values()):
            raise MalformedLaw("expected an object of form numbers", where=f"{at}.forms")
        versions.append(
            LegalVersion(
                _text(v["id"], f"{at}.id"),
                _text(v["title"], f"{at}.title"),
                _date(v["in_force_from"], f"{at}.in_force_from"),
                end,
                bool(v["dates_verified"]),
                _counting(v["counting"], f"{at}.counting"),
                frozenset(pauses),
                MappingProxyType(dict(forms)),
            )
        )
    ordered = sorted(versions, key=lambda v: v.in_force_from)
    for before, after in pairwise(ordered):
        if before.in_force_to is None or before.in_force_to >= after.in_force_from:
            raise MalformedLaw(
                f"{before.id} and {after.id} overlap or leave no end", where="$.versions"
            )
    legacy_keys = {"id", "working_days", "source"}
    legacy = _obj(doc["legacy_counting"], legacy_keys, legacy_keys, "$.legacy_counting")
    if legacy["working_days"] not in DAY_COUNTS:
        raise MalformedLaw(f"expected one of {DAY_COUNTS}", where="$.legacy_counting")
    ids = {v.id for v in versions}
    provisions: dict[str, Mapping[str, Provision]] = {}
    if not isinstance(doc["provisions"], dict):
        raise MalformedLaw("expected an object keyed by rule id", where="$.provisions")
    for rule, per in doc["provisions"].items():
        at = f"$.provisions.{rule}"
        entry = _obj(per, ids, ids, at)
        provisions[rule] = MappingProxyType(
            {vid: _provision(p, f"{at}.{vid}") for vid, p in entry.items()}
        )
    return LawBook(
        _text(doc["version"], "$.version"),
        tuple(ordered),
        Counting(legacy["working_days"], "from_clock_start", None, _text(legacy["source"], "$")),
        _text(legacy["id"], "$.legacy_counting.id"),
        MappingProxyType(provisions),
    )


@cache
def shipped_law() -> LawBook:
    """The law data shipped with hoso (``data/law.json``)."""
    text = shipped_text("law.json")
    return law_from_data(strict_json(text, error=MalformedLaw, where="law.json"))
