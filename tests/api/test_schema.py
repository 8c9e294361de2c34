"""Schemathesis against the OpenAPI schema, in process (ASGI): every operation, as every
kind of principal, with generated (mostly wrong) input, and never a server error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api import custody
from api.routes.commands import Command
from tests.api.api_world import World, build_world, make_app

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("HOSO_API_SCHEMA_EXAMPLES", "60"))
WHO = (None, "officer_a", "officer_b", "inspector", "citizen_x", "witness")


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp: Path = tmp_path_factory.mktemp("schema")
    return build_world(f"sqlite:///{tmp / 'ledger.sqlite'}", tmp)


def test_openapi_operation_ids_are_stable_and_unique(sqlite_world: World) -> None:
    spec = make_app(sqlite_world).openapi()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(i[0].islower() and "_" not in i for i in ids), ids  # camelCase, set by hand
    schemas = spec["components"]["schemas"]
    assert {"DossierPublic", "EventAppendedPublic", "ProblemPublic", "CommandCreate"} <= set(
        schemas
    )


def test_no_generated_request_gets_a_server_error(sqlite_world: World) -> None:
    app = make_app(sqlite_world)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy(), who=st.sampled_from(WHO))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case[Any], who: str | None) -> None:
            headers = {} if who is None else {"Authorization": f"Bearer {sqlite_world.tokens[who]}"}
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        run()


def test_the_command_path_names_are_exactly_the_custodial_commands() -> None:
    """The OpenAPI enum of ``{command}`` and what api/custody.py can run stay in step."""
    assert set(get_args(Command)) == set(custody.COMMANDS)
    assert len(get_args(Command)) == len(custody.COMMANDS)
