"""The procedure catalogue (thủ tục hành chính) and due-date rules.

Follows docs/domain-time.md §4–§7 (DOMAIN.md 2.2, 2.4). Pure: a procedure's
legal processing time is data (``data/procedures.json``, versioned); the due
date of a dossier is computed once, at reception, from the electronic
reception instant, the procedure and a :class:`~ledger.domain.calendar.WorkingCalendar`,
and recorded with ``rule_version`` and ``calendar_version`` so that anyone can
recompute it (DOMAIN.md Part 3 (b) rule 4).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar, get_args

from ledger.core.errors import MalformedError, VerificationError
from ledger.domain.calendar import (
    MAX_AMOUNT,
    UNITS,
    MalformedDuration,
    MalformedTime,
    WorkingCalendar,
    check_instant,
    local_date,
    parse_hhmm,
    read_data,
    strict_json,
    time_of_day_us,
)

StartRule = Literal["electronic_reception"]
Certainty = Literal["V", "S", "M"]
Classification = Literal["early", "on_time", "late"]
AGENCY_LEVELS: Final = (
    "commune",
    "district",
    "province",
    "ministry",
    "police_commune",
    "police_province",
    "social_security",
)
"""Levels of the agency that decides (commune = xã/phường/đặc khu since 01/07/2025)."""
ROLES: Final = ("portal", "reception", "handler", "leader", "agency_seal", "inspector", "system")
CATALOGUE_FORMAT: Final = "hoso.procedures/1"
VERIFICATION_SUFFIX: Final = "+verification"

_T = TypeVar("_T")
_CODE = re.compile(r"\d\.\d{6}")
_PLACEHOLDER = re.compile(r"X\.[A-Z]{2,5}\d{3}")
_COMPONENT = re.compile(r"[A-Z][A-Z0-9_]{1,47}")
_EVENT = re.compile(r"[A-Z][A-Za-z]{2,63}")
_CATALOGUE_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


# --- errors ----------------------------------------------------------------


class MalformedCatalogue(MalformedError):
    """Catalogue data (JSON file or a record built in code) has a missing or invalid field."""

    check = "catalogue.data"


class VerificationTimeMissing(MalformedError):
    """A due date with verification was asked of a procedure that has no verification time."""

    check = "procedure.verification_time"


class UnknownProcedure(VerificationError):
    """A procedure code is not in the catalogue."""

    check = "procedure.unknown"


class RuleVersionMismatch(VerificationError):
    """A recorded rule version names another catalogue version than the one at hand."""

    check = "procedure.rule_version"


# --- records ---------------------------------------------------------------


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedCatalogue("expected a non-empty string", where=where)
    return value


@dataclass(frozen=True, kw_only=True)
class ProcessingTime:
    """A legal processing time: ``amount`` of ``unit`` counted from ``start_rule``.

    ``amount == 0`` is a same-day (or "immediate") procedure; ``cutoff``
    ("HH:MM", same-day times only) moves a clock start after that time to the
    next working day (the 15:00 rule).
    """

    amount: int
    unit: str
    start_rule: str = "electronic_reception"
    cutoff: str | None = None

    def __post_init__(self) -> None:
        if type(self.amount) is not int or not 0 <= self.amount <= MAX_AMOUNT:
            raise MalformedDuration(
                f"expected an integer in 0–{MAX_AMOUNT}, got {self.amount!r}", where="amount"
            )
        if self.unit not in UNITS:
            raise MalformedDuration(f"unknown unit {self.unit!r}; expected {UNITS}", where="unit")
        if self.start_rule not in get_args(StartRule):
            raise MalformedCatalogue(
                f"unknown start rule {self.start_rule!r}; expected {get_args(StartRule)}",
                where="start_rule",
            )
        if self.cutoff is not None:
            parse_hhmm(self.cutoff, where="cutoff", error=MalformedCatalogue)
            if self.amount != 0:
                raise MalformedCatalogue(
                    "a cutoff applies to same-day times (amount 0) only", where="cutoff"
                )


@dataclass(frozen=True, kw_only=True)
class Component:
    """A required dossier component (thành phần hồ sơ)."""

    code: str
    name_vi: str
    name_en: str
    reusable_from: tuple[str, ...] = ()
    """Result types of earlier dossiers that can stand in for this component
    (Directive 08: no paper asked for twice)."""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _COMPONENT.fullmatch(self.code):
            raise MalformedCatalogue(
                f"expected an upper-case code like 'TO_KHAI', got {self.code!r}", where="code"
            )
        _text(self.name_vi, "name_vi")
        _text(self.name_en, "name_en")
        kinds = self.reusable_from
        if not isinstance(kinds, list | tuple) or not all(isinstance(k, str) and k for k in kinds):
            raise MalformedCatalogue("expected a list of result types", where="reusable_from")
        object.__setattr__(self, "reusable_from", tuple(kinds))


@dataclass(frozen=True, kw_only=True)
class Procedure:
    """One administrative procedure of the catalogue.

    ``signatures`` maps an event type to the roles that must *all* sign it.
    ``certainty`` is DOMAIN.md's tag for the processing time (placeholder
    codes ``X.…`` are always ``M``); ``evidence`` names the sources.
    """

    code: str
    name_vi: str
    name_en: str
    agency_level: str
    time: ProcessingTime
    verification_time: ProcessingTime | None = None
    required_components: tuple[Component, ...]
    signatures: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    paper_result_allowed_by_law: bool
    fee_vnd: int | None = None
    certainty: str
    evidence: str
    catalogue_version: str

    def __post_init__(self) -> None:
        placeholder = isinstance(self.code, str) and _PLACEHOLDER.fullmatch(self.code)
        if not placeholder and not (isinstance(self.code, str) and _CODE.fullmatch(self.code)):
            raise MalformedCatalogue(
                f"expected a code 'N.NNNNNN' or a placeholder 'X.ABC123', got {self.code!r}",
                where="code",
            )
        _text(self.name_vi, "name_vi")
        _text(self.name_en, "name_en")
        if self.agency_level not in AGENCY_LEVELS:
            raise MalformedCatalogue(
                f"unknown agency level {self.agency_level!r}; expected {AGENCY_LEVELS}",
                where="agency_level",
            )
        for name in ("time", "verification_time"):
            value = getattr(self, name)
            if not isinstance(value, ProcessingTime) and (name == "time" or value is not None):
                raise MalformedCatalogue("expected a ProcessingTime", where=name)
        if not isinstance(self.required_components, tuple) or not self.required_components:
            raise MalformedCatalogue(
                "expected a non-empty tuple of components", where="required_components"
            )
        seen: set[str] = set()
        for i, component in enumerate(self.required_components):
            if not isinstance(component, Component) or component.code in seen:
                raise MalformedCatalogue(
                    "expected distinct Components", where=f"required_components[{i}]"
                )
            seen.add(component.code)
        object.__setattr__(self, "signatures", _check_signatures(self.signatures, "signatures"))
        if type(self.paper_result_allowed_by_law) is not bool:
            raise MalformedCatalogue("expected true or false", where="paper_result_allowed_by_law")
        if self.fee_vnd is not None and (type(self.fee_vnd) is not int or self.fee_vnd < 0):
            raise MalformedCatalogue("expected a non-negative integer or null", where="fee_vnd")
        if self.certainty not in get_args(Certainty):
            raise MalformedCatalogue(
                f"expected one of {get_args(Certainty)}, got {self.certainty!r}", where="certainty"
            )
        if placeholder and self.certainty != "M":
            raise MalformedCatalogue("a placeholder code is certainty 'M'", where="certainty")
        _text(self.evidence, "evidence")
        if not isinstance(self.catalogue_version, str) or not _CATALOGUE_VERSION.fullmatch(
            self.catalogue_version
        ):
            raise MalformedCatalogue(
                "expected a version of letters, digits, '.', '_' or '-'", where="catalogue_version"
            )

    @property
    def component_codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.required_components)

    def rule_version(self, *, verification: bool = False) -> str:
        """``{catalogue_version}#{code}``, plus ``+verification`` for the verification time."""
        suffix = VERIFICATION_SUFFIX if verification else ""
        return f"{self.catalogue_version}#{self.code}{suffix}"


def _check_signatures(value: object, where: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise MalformedCatalogue("expected a mapping of event type to roles", where=where)
    out: dict[str, tuple[str, ...]] = {}
    for event, roles in value.items():
        here = f"{where}.{event}"
        if not isinstance(event, str) or not _EVENT.fullmatch(event):
            raise MalformedCatalogue("expected an event type like 'ResultIssued'", where=here)
        if isinstance(roles, str) or not isinstance(roles, list | tuple) or not roles:
            raise MalformedCatalogue("expected a non-empty list of roles", where=here)
        for role in roles:
            if role not in ROLES:
                raise MalformedCatalogue(f"unknown role {role!r}; expected {ROLES}", where=here)
        if len(set(roles)) != len(roles):
            raise MalformedCatalogue("a role is listed twice", where=here)
        out[event] = tuple(roles)
    return MappingProxyType(out)


@dataclass(frozen=True)
class Catalogue:
    """A versioned set of procedures, by code."""

    version: str
    procedures: Mapping[str, Procedure] = field(hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not _CATALOGUE_VERSION.fullmatch(self.version):
            raise MalformedCatalogue(
                "expected a version of letters, digits, '.', '_' or '-'", where="version"
            )
        for code, procedure in self.procedures.items():
            if not isinstance(procedure, Procedure) or procedure.code != code:
                raise MalformedCatalogue(
                    "key and procedure code differ", where=f"procedures.{code}"
                )
            if procedure.catalogue_version != self.version:
                raise MalformedCatalogue(
                    f"procedure belongs to catalogue {procedure.catalogue_version!r}",
                    where=f"procedures.{code}.catalogue_version",
                )
        object.__setattr__(self, "procedures", MappingProxyType(dict(self.procedures)))

    def __contains__(self, code: object) -> bool:
        return code in self.procedures

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self.procedures.values())

    def __len__(self) -> int:
        return len(self.procedures)

    def get(self, code: str) -> Procedure:
        """The procedure with ``code``, or :class:`UnknownProcedure`."""
        try:
            return self.procedures[code]
        except KeyError:
            raise UnknownProcedure(
                f"not in catalogue {self.version}", where="procedure", found=code
            ) from None

    def required_components(self, procedure: str) -> frozenset[str] | None:
        """Component codes a procedure requires, or None if unknown (``ProcedureBook``)."""
        found = self.procedures.get(procedure)
        return None if found is None else found.component_codes

    def signatures_for(self, procedure: str, event_type: str) -> tuple[str, ...] | None:
        """Roles that must each sign ``event_type`` for this procedure, or None if not set."""
        found = self.procedures.get(procedure)
        if found is None:
            return None
        roles = found.signatures.get(event_type)
        return None if roles is None else tuple(roles)

    def reusable_from(self, component: str) -> frozenset[str]:
        """Result types that can stand in for ``component`` in any procedure."""
        return frozenset(
            kind
            for procedure in self.procedures.values()
            for c in procedure.required_components
            if c.code == component
            for kind in c.reusable_from
        )

    def paper_allowed(self, procedure: str) -> bool:
        """True if the law lets the procedure issue a paper result (False if unknown)."""
        found = self.procedures.get(procedure)
        return found is not None and found.paper_result_allowed_by_law

    def exempt_from_fees(self, procedure: str) -> bool:
        """True if the catalogue records a fee of 0 VND (False if unknown or not recorded)."""
        found = self.procedures.get(procedure)
        return found is not None and found.fee_vnd == 0


# --- data files ------------------------------------------------------------

_TOP_KEYS = frozenset({"format", "version", "description", "default_signatures", "procedures"})
_PROCEDURE_KEYS = frozenset(
    {"code", "name_vi", "name_en", "agency_level", "time", "verification_time"}
    | {"required_components", "signatures", "paper_result_allowed_by_law", "fee_vnd"}
    | {"certainty", "evidence"}
)
_PROCEDURE_REQUIRED = _PROCEDURE_KEYS - {"verification_time", "signatures", "fee_vnd"}
_TIME_KEYS = frozenset({"amount", "unit", "start_rule", "cutoff"})
_COMPONENT_KEYS = frozenset({"code", "name_vi", "name_en"})
_COMPONENT_OPTIONAL = frozenset({"reusable_from"})


def _obj(
    value: object, keys: frozenset[str], required: frozenset[str], where: str
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedCatalogue("expected a JSON object", where=where)
    for key in value:
        if key not in keys:
            raise MalformedCatalogue(f"unknown field {key!r}", where=f"{where}.{key}")
    for key in sorted(required - value.keys()):
        raise MalformedCatalogue("missing field", where=f"{where}.{key}")
    return value


def _build(factory: type[_T], fields: dict[str, Any], where: str) -> _T:
    """Construct a record; its field errors are re-raised with the JSON path."""
    try:
        return factory(**fields)
    except MalformedError as err:
        raise type(err)(err.detail, where=f"{where}.{err.where}") from None


def _time(value: object, where: str) -> ProcessingTime:
    fields = _obj(value, _TIME_KEYS, frozenset({"amount", "unit"}), where)
    return _build(ProcessingTime, fields, where)


def catalogue_from_data(data: object) -> Catalogue:
    """Build a catalogue from parsed procedures JSON (docs/domain-time.md §4)."""
    top = _obj(data, _TOP_KEYS, _TOP_KEYS - {"description", "default_signatures"}, "$")
    if top["format"] != CATALOGUE_FORMAT:
        raise MalformedCatalogue(f"expected {CATALOGUE_FORMAT!r}", where="$.format")
    version = top["version"]
    if not isinstance(version, str) or not _CATALOGUE_VERSION.fullmatch(version):
        raise MalformedCatalogue("expected letters, digits, '.', '_' or '-'", where="$.version")
    defaults = _check_signatures(top.get("default_signatures", {}), "$.default_signatures")
    if not isinstance(top["procedures"], list) or not top["procedures"]:
        raise MalformedCatalogue("expected a non-empty list", where="$.procedures")
    procedures: dict[str, Procedure] = {}
    for i, raw in enumerate(top["procedures"]):
        where = f"$.procedures[{i}]"
        entry = _obj(raw, _PROCEDURE_KEYS, _PROCEDURE_REQUIRED, where)
        components = entry["required_components"]
        if not isinstance(components, list):
            raise MalformedCatalogue("expected a list", where=f"{where}.required_components")
        own = _check_signatures(entry.get("signatures", {}), f"{where}.signatures")
        verification = entry.get("verification_time")
        fields = {
            **entry,
            "time": _time(entry["time"], f"{where}.time"),
            "verification_time": None
            if verification is None
            else _time(verification, f"{where}.verification_time"),
            "required_components": tuple(
                _build(
                    Component,
                    _obj(
                        c,
                        _COMPONENT_KEYS | _COMPONENT_OPTIONAL,
                        _COMPONENT_KEYS,
                        f"{where}.required_components[{j}]",
                    ),
                    f"{where}.required_components[{j}]",
                )
                for j, c in enumerate(components)
            ),
            "signatures": {**defaults, **own},
            "catalogue_version": version,
        }
        procedure = _build(Procedure, fields, where)
        if procedure.code in procedures:
            raise MalformedCatalogue(f"code {procedure.code} listed twice", where=f"{where}.code")
        procedures[procedure.code] = procedure
    return Catalogue(version, procedures)


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """The shipped catalogue, or the one in ``path`` (which replaces it entirely)."""
    if path is None:
        text, where = read_data("procedures.json"), "procedures.json"
    else:
        where = str(path)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            raise MalformedCatalogue(f"cannot read: {err}", where=where) from err
    return catalogue_from_data(strict_json(text, error=MalformedCatalogue, where=where))


# --- due dates -------------------------------------------------------------


@dataclass(frozen=True)
class DueDate:
    """A due date as recorded at reception, with what is needed to recompute it."""

    received_us: int
    clock_start_us: int
    due_us: int
    rule_version: str
    calendar_version: str


def compute_due(
    *,
    received_us: int,
    procedure: Procedure,
    calendar: WorkingCalendar,
    verification: bool = False,
) -> DueDate:
    """The due date of a dossier electronically received at ``received_us``.

    1. The time is the procedure's ``time``, or its ``verification_time`` when
       ``verification`` (conditions must be verified / the case is complex).
    2. The clock starts at ``calendar.working_instant(received_us)``.
    3. Same-day (amount 0): due at the end of office hours of the clock start's
       day, or of the next working day when the clock start's local time is
       after the cutoff (strictly later than HH:MM:00).
    4. Otherwise ``calendar.add_working_time(clock_start, amount, unit)``.
    """
    check_instant(received_us, where="received_us")
    if type(verification) is not bool:
        raise MalformedCatalogue("expected true or false", where="verification")
    time = procedure.time
    if verification:
        if procedure.verification_time is None:
            raise VerificationTimeMissing(
                f"{procedure.code} has no verification time", where="verification"
            )
        time = procedure.verification_time
    start = calendar.working_instant(received_us)
    if time.amount == 0:
        day = local_date(start)
        if time.cutoff is not None and time_of_day_us(start) > parse_hhmm(
            time.cutoff, where="cutoff"
        ):
            day = calendar.next_working_day(day)
        due = calendar.end_of_working_day(day)
    else:
        due = calendar.add_working_time(start, time.amount, time.unit)
    return DueDate(
        received_us=received_us,
        clock_start_us=start,
        due_us=due,
        rule_version=procedure.rule_version(verification=verification),
        calendar_version=calendar.version,
    )


def parse_rule_version(rule_version: str) -> tuple[str, str, bool]:
    """``(catalogue_version, procedure_code, verification)`` of a recorded rule version."""
    if not isinstance(rule_version, str) or rule_version.count("#") != 1:
        raise MalformedCatalogue(
            f"expected 'catalogue#code[+verification]', got {rule_version!r}",
            where="rule_version",
        )
    version, code = rule_version.split("#")
    verification = code.endswith(VERIFICATION_SUFFIX)
    if verification:
        code = code.removesuffix(VERIFICATION_SUFFIX)
    if not _CATALOGUE_VERSION.fullmatch(version) or not (
        _CODE.fullmatch(code) or _PLACEHOLDER.fullmatch(code)
    ):
        raise MalformedCatalogue(
            f"expected 'catalogue#code[+verification]', got {rule_version!r}",
            where="rule_version",
        )
    return version, code, verification


def due_for_rule(
    *, received_us: int, rule_version: str, catalogue: Catalogue, calendar: WorkingCalendar
) -> DueDate:
    """Recompute a recorded due date from its ``rule_version`` (DOMAIN.md (b) rule 4)."""
    version, code, verification = parse_rule_version(rule_version)
    if version != catalogue.version:
        raise RuleVersionMismatch(
            "the due date was computed with another catalogue",
            where="rule_version",
            expected=version,
            found=catalogue.version,
        )
    return compute_due(
        received_us=received_us,
        procedure=catalogue.get(code),
        calendar=calendar,
        verification=verification,
    )


def extend_for_pause(
    *, due_us: int, paused_us: int, resumed_us: int, calendar: WorkingCalendar
) -> int:
    """The due date after a supplement pause: the working time in
    ``[paused_us, resumed_us]`` is added back after ``due_us``
    (``calendar.add_working_duration``; a pause with no working time leaves
    the due date unchanged). Apply once per pause; pauses must not overlap."""
    check_instant(due_us, where="due_us")
    check_instant(paused_us, where="paused_us")
    check_instant(resumed_us, where="resumed_us")
    if resumed_us < paused_us:
        raise MalformedTime("the clock resumes before it was paused", where="resumed_us")
    return calendar.add_working_duration(
        due_us, calendar.working_time_between(paused_us, resumed_us)
    )


def classify(*, due_us: int, resolved_us: int) -> Classification:
    """``late`` if resolved after the due instant; else ``early`` if resolved on a local
    date before the due date's; else ``on_time`` (resolved on the due day, by the due instant)."""
    check_instant(due_us, where="due_us")
    check_instant(resolved_us, where="resolved_us")
    if resolved_us > due_us:
        return "late"
    if local_date(resolved_us) < local_date(due_us):
        return "early"
    return "on_time"
