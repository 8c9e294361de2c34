"""Shared test configuration: hypothesis profiles, and the two backends every suite runs on
(``backend_url`` / ``backend``: a fresh SQLite file, and a clean PostgreSQL marked
``postgres``; tests/support/databases.py).

Profiles: ``dev`` (default, quick), ``ci`` (more examples, used by .ci/run via
HYPOTHESIS_PROFILE=ci), ``thorough`` (for a long local run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ledger.storage.database import Backend, open_backend
from tests.support.databases import PG_URL, reset_postgres

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def backend(backend_url: str) -> Iterator[Backend]:
    opened = open_backend(backend_url)
    yield opened
    opened.close()


REAL_COMPONENTS = frozenset(
    {"backend_url", "backend", "world", "client", "seal_world", "tamperable", "kit"}
)
"""Fixtures that open a real database or server: a test using one is an integration test."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse the run if a test on a real database or server is not marked ``integration``
    (the mark is per module: ``pytestmark = pytest.mark.integration``)."""
    unmarked = [
        item.nodeid
        for item in items
        if item.get_closest_marker("integration") is None
        and (
            item.get_closest_marker("postgres") is not None
            or REAL_COMPONENTS & set(getattr(item, "fixturenames", ()))
        )
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests on a real database or server must be marked integration: "
            + ", ".join(unmarked[:10])
        )
