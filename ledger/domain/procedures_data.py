"""The procedure catalogue's data file (docs/domain-time.md §4): ``data/procedures.json``,
or a user file that replaces it, read into a :class:`~ledger.domain.procedures.Catalogue`."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from ledger.core.errors import MalformedError
from ledger.domain.jsondata import file_text, json_object, shipped_text, strict_json
from ledger.domain.procedures import (
    CATALOGUE_FORMAT,
    CATALOGUE_VERSION_PATTERN,
    Catalogue,
    Component,
    MalformedCatalogue,
    Procedure,
    ProcessingTime,
    check_signatures,
)

_T = TypeVar("_T")


_TOP_KEYS = frozenset(
    {"format", "version", "description", "default_signatures", "procedures", "national_data"}
)
_PROCEDURE_KEYS = frozenset(
    {"code", "name_vi", "name_en", "agency_level", "time", "verification_time"}
    | {"required_components", "signatures", "paper_result_allowed_by_law", "fee_vnd"}
    | {"certainty", "evidence", "sector_code", "sector_vi"}
)
_PROCEDURE_REQUIRED = _PROCEDURE_KEYS - {
    "verification_time",
    "signatures",
    "fee_vnd",
    "sector_code",
    "sector_vi",
}
_TIME_KEYS = frozenset({"amount", "unit", "start_rule", "cutoff"})
_COMPONENT_KEYS = frozenset({"code", "name_vi", "name_en"})
_COMPONENT_OPTIONAL = frozenset({"reusable_from"})


def _obj(
    value: object, keys: frozenset[str], required: frozenset[str], where: str
) -> dict[str, Any]:
    return json_object(value, keys, required, where, error=MalformedCatalogue)


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
    top = _obj(
        data, _TOP_KEYS, _TOP_KEYS - {"description", "default_signatures", "national_data"}, "$"
    )
    national = top.get("national_data", {})
    if not isinstance(national, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in national.items()
    ):
        raise MalformedCatalogue(
            "expected an object of component code → national database", where="$.national_data"
        )
    if top["format"] != CATALOGUE_FORMAT:
        raise MalformedCatalogue(f"expected {CATALOGUE_FORMAT!r}", where="$.format")
    version = top["version"]
    if not isinstance(version, str) or not CATALOGUE_VERSION_PATTERN.fullmatch(version):
        raise MalformedCatalogue("expected letters, digits, '.', '_' or '-'", where="$.version")
    defaults = check_signatures(top.get("default_signatures", {}), "$.default_signatures")
    if not isinstance(top["procedures"], list) or not top["procedures"]:
        raise MalformedCatalogue("expected a non-empty list", where="$.procedures")
    procedures: dict[str, Procedure] = {}
    for i, raw in enumerate(top["procedures"]):
        where = f"$.procedures[{i}]"
        entry = _obj(raw, _PROCEDURE_KEYS, _PROCEDURE_REQUIRED, where)
        components = entry["required_components"]
        if not isinstance(components, list):
            raise MalformedCatalogue("expected a list", where=f"{where}.required_components")
        own = check_signatures(entry.get("signatures", {}), f"{where}.signatures")
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
    return Catalogue(version, procedures, national_data=dict(national))


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """The shipped catalogue, or the one in ``path`` (which replaces it entirely)."""
    if path is None:
        text, where = shipped_text("procedures.json"), "procedures.json"
    else:
        text, where = file_text(path, error=MalformedCatalogue), str(path)
    return catalogue_from_data(strict_json(text, error=MalformedCatalogue, where=where))
