"""The procedure catalogue (thủ tục hành chính): each procedure's legal processing time,
required components, signatures, fees and the law behind them.

Follows docs/domain-time.md §4 (DOMAIN.md 2.2, 2.4). Pure: the catalogue is data
(``data/procedures.json``, versioned), read by :mod:`ledger.domain.procedures_data`;
due dates computed from it are :mod:`ledger.domain.due`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, get_args

from ledger.core.errors import MalformedError, VerificationError
from ledger.domain.calendar import (
    MAX_AMOUNT,
    UNITS,
    MalformedDuration,
    parse_hhmm,
)

StartRule = Literal["electronic_reception"]
Certainty = Literal["V", "S", "M"]
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

PROCEDURE_CODE_PATTERN = re.compile(r"\d\.\d{6}")
PLACEHOLDER_CODE_PATTERN = re.compile(r"X\.[A-Z]{2,5}\d{3}")
_COMPONENT = re.compile(r"[A-Z][A-Z0-9_]{1,47}")
_EVENT = re.compile(r"[A-Z][A-Za-z]{2,63}")
CATALOGUE_VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


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
    sector_code: str | None = None  # MaLinhVuc of the national TTHC database
    sector_vi: str | None = None  # the sector's name (lĩnh vực)
    certainty: str
    evidence: str
    catalogue_version: str

    def __post_init__(self) -> None:
        placeholder = isinstance(self.code, str) and PLACEHOLDER_CODE_PATTERN.fullmatch(self.code)
        if not placeholder and not (
            isinstance(self.code, str) and PROCEDURE_CODE_PATTERN.fullmatch(self.code)
        ):
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
        object.__setattr__(self, "signatures", check_signatures(self.signatures, "signatures"))
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
        if not isinstance(self.catalogue_version, str) or not CATALOGUE_VERSION_PATTERN.fullmatch(
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


def check_signatures(value: object, where: str) -> Mapping[str, tuple[str, ...]]:
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
    national_data: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Documents an agency fetches from a national database instead of asking for them
    (component code → the database): citizen identity, residence."""

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not CATALOGUE_VERSION_PATTERN.fullmatch(
            self.version
        ):
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
        object.__setattr__(self, "national_data", MappingProxyType(dict(self.national_data)))

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

    def national_database(self, component: str) -> str | None:
        """The national database that holds ``component``, or None."""
        return self.national_data.get(component)

    def paper_allowed(self, procedure: str) -> bool:
        """True if the law lets the procedure issue a paper result (False if unknown)."""
        found = self.procedures.get(procedure)
        return found is not None and found.paper_result_allowed_by_law

    def exempt_from_fees(self, procedure: str) -> bool:
        """True if the catalogue records a fee of 0 VND (False if unknown or not recorded)."""
        found = self.procedures.get(procedure)
        return found is not None and found.fee_vnd == 0
