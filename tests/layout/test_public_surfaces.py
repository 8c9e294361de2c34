"""Each package names what others may import (``__all__`` in its ``__init__``), and what it
leaves out is protected by an import-linter contract (pyproject.toml): the two lists are
complementary, so a new module is either declared public or guarded as private."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "ledger",
    "ledger.cli",
    "ledger.core",
    "ledger.domain",
    "ledger.storage",
    "ledger.privacy",
    "ledger.services",
    "ledger.services.seals",
    "ledger.demo",
    "ledger.demo.generator",
    "ledger.witness",
    "projections",
    "projections.views",
    "api",
    "api.routes",
    "verify",
)


def protected() -> dict[str, set[str]]:
    """Allowed importer package → the modules its protected contracts guard."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    out: dict[str, set[str]] = {}
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "protected":
            for owner in contract["allowed_importers"]:
                out.setdefault(owner, set()).update(contract["protected_modules"])
    return out


def children(package: str) -> set[str]:
    module = importlib.import_module(package)
    return {info.name for info in pkgutil.iter_modules(module.__path__) if info.name != "__main__"}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_public_or_protected(package: str) -> None:
    module = importlib.import_module(package)
    declared = set(module.__all__) & children(package)  # the rest of __all__ are names
    owners = protected()
    guarded = {m.removeprefix(package + ".") for m in owners.get(package, set())}
    if any(package in modules for modules in owners.values()):
        return  # the whole package is private to its parent: its __all__ is for the parent
    assert not declared & guarded, f"{package}: both public and protected: {declared & guarded}"
    missing = children(package) - declared - guarded
    assert not missing, f"{package}: declare {sorted(missing)} in __all__ or protect them"


def test_every_package_with_modules_is_listed() -> None:
    """A new package must say what it makes public (and be added above)."""
    found = {"ledger", "projections", "api", "verify"}
    for root in ("ledger", "projections", "api", "verify"):
        module = importlib.import_module(root)
        for info in pkgutil.walk_packages(module.__path__, root + "."):
            if info.ispkg:
                found.add(info.name)
    assert found - {"ledger.domain.rules"} == set(PACKAGES)
    assert set(importlib.import_module("ledger.domain.rules").__all__) >= {"audit_dossier"}
