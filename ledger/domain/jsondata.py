"""Reading the domain's versioned data files (docs/domain-time.md §2, §4): strict JSON,
the files shipped in ``ledger/domain/data/``, and object shape checks.

Shared by the calendar (:mod:`ledger.domain.calendar_data`) and the procedure
catalogue (:mod:`ledger.domain.procedures_data`). Every error is the caller's
:class:`~ledger.core.errors.MalformedError` class, naming the JSON path (``$.a.b``)
or the file.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from ledger.core.errors import MalformedError


def strict_json(text: str, *, error: type[MalformedError], where: str) -> Any:
    """Parse JSON refusing duplicate keys, floats and NaN/Infinity (amounts are integers)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise error(f"duplicate key {key!r}", where=where)
            out[key] = value
        return out

    def refuse(token: str) -> NoReturn:
        raise error(f"non-integer number {token!r}", where=where)

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_float=refuse, parse_constant=refuse)
    except json.JSONDecodeError as err:
        raise error(f"not JSON: {err.msg} (line {err.lineno})", where=where) from err


def shipped_text(name: str) -> str:
    """The text of a data file shipped in ``ledger/domain/data/``."""
    return resources.files("ledger.domain").joinpath("data", name).read_text(encoding="utf-8")


def file_text(path: str | os.PathLike[str], *, error: type[MalformedError]) -> str:
    """A user-supplied data file's text; ``error`` names the file if it can't be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"cannot read: {err}", where=str(path)) from err


def json_object(
    value: object,
    keys: frozenset[str],
    required: frozenset[str],
    where: str,
    *,
    error: type[MalformedError],
) -> dict[str, Any]:
    """``value`` if it is a JSON object with only ``keys`` and every ``required`` one."""
    if not isinstance(value, dict):
        raise error("expected a JSON object", where=where)
    for key in value:
        if key not in keys:
            raise error(f"unknown field {key!r}", where=f"{where}.{key}")
    for key in sorted(required - value.keys()):
        raise error("missing field", where=f"{where}.{key}")
    return value


def non_empty_text(value: object, *, where: str, error: type[MalformedError]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise error("expected a non-empty string", where=where)
    return value
