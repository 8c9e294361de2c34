"""hoso's error model holds everywhere: three families, one class per check id.

Every error class any package defines (found by importing every module) is in
exactly one of the families of :mod:`ledger.core.errors`, and no two classes
define the same check id; the API's status comes from the class alone.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Iterator

import pytest

import api
import ledger
import projections
import verify
from api.problems import ApiError, status_of
from ledger.core.errors import (
    FAMILIES,
    GoneError,
    HosoError,
    MalformedError,
    NotFoundError,
    OutOfServiceError,
    RefusedError,
    StateConflict,
    UnavailableError,
    VerificationError,
)
from ledger.storage.keystore_format import KeystoreError

ABSTRACT = {HosoError, KeystoreError, ApiError}
"""Bases that group others and carry no family of their own (the API error carries its
HTTP status instead)."""


def _import_everything() -> None:
    for package in (ledger, projections, api, verify):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)


def _subclasses(cls: type[HosoError]) -> Iterator[type[HosoError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def error_classes() -> list[type[HosoError]]:
    _import_everything()
    found = {c for c in _subclasses(HosoError) if not c.__module__.startswith("tests.")}
    return sorted(found | {HosoError}, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_every_check_id_belongs_to_one_class() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for cls in error_classes():
        if "check" in cls.__dict__:
            owners[cls.check].append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {check: names for check, names in owners.items() if len(names) > 1}
    assert not shared, shared
    assert len(owners) > 100  # the walk really found the project's errors


def test_every_error_class_is_in_exactly_one_family() -> None:
    for cls in error_classes():
        if cls in ABSTRACT or issubclass(cls, ApiError):
            continue
        families = [f for f in FAMILIES if issubclass(cls, f)]
        assert len(families) == 1, (cls, families)


@pytest.mark.parametrize(
    ("family", "status"),
    [
        (MalformedError, 400),
        (VerificationError, 422),
        (StateConflict, 409),
        (NotFoundError, 404),
        (GoneError, 410),
        (RefusedError, 403),
        (OutOfServiceError, 503),
        (UnavailableError, 503),
    ],
)
def test_http_status_follows_the_class(family: type[HosoError], status: int) -> None:
    assert status_of(family("x")) == status
    for cls in error_classes():
        if cls in ABSTRACT or issubclass(cls, ApiError) or not issubclass(cls, family):
            continue
        # the most specific family decides: a subclass of a more specific family maps there
        specific = [
            f for f in (GoneError, NotFoundError, RefusedError, StateConflict) if issubclass(cls, f)
        ]
        if specific and specific[0] is not family:
            continue
        err = cls.__new__(cls)
        assert status_of(err) == status, cls


def test_not_found_unknown_ids_are_never_a_422() -> None:
    """A ``*.unknown`` check is a thing not found, whatever module defines it."""
    for cls in error_classes():
        if "check" in cls.__dict__ and cls.check.endswith(("unknown", "not_found")):
            if cls.check in {"signature.unknown_key", "seal.unknown_key", "procedure.unknown"}:
                continue  # a signature or seal by an untrusted key is a failed check
            assert issubclass(cls, NotFoundError), cls
