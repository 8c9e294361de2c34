"""Schemathesis against the OpenAPI schema, in process (ASGI): every operation, as every
kind of principal (a bearer token), with generated input, under every check it has (no
server error, no undocumented status code, content type or header, responses matching
their schemas, schema-invalid input rejected and schema-valid input accepted), and a
stateful run along the document's links.

"Accepted" includes 400: input the schema describes but the ledger can't parse (a
cursor that is not one of ours, a record whose bytes are not a signed event, neither or
both of ``index`` and ``hash``) is Malformed, as docs/api.md says; never 422
``request.invalid``, which would mean the schema and the server disagree."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig

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


ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "410", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
)


def test_generated_requests_pass_every_check(sqlite_world: World) -> None:
    app = make_app(sqlite_world)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
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
            case.call_and_validate(headers=headers)

        run()


def test_the_command_path_names_are_exactly_the_custodial_commands() -> None:
    """The OpenAPI enum of ``{command}`` and what api/custody.py can run stay in step."""
    assert set(get_args(Command)) == set(custody.COMMANDS)
    assert len(get_args(Command)) == len(custody.COMMANDS)


@pytest.fixture(scope="module")
def stateful_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp: Path = tmp_path_factory.mktemp("stateful")
    return build_world(f"sqlite:///{tmp / 'ledger.sqlite'}", tmp)


def test_stateful_runs_follow_the_links(stateful_world: World) -> None:
    """Sequences of calls along the links (a list's first dossier, a command's event's
    proof and its checkpoint), as an officer, under every check."""
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", make_app(stateful_world), config=CONFIG
    )
    links = [
        name
        for path in make_app(stateful_world).openapi()["paths"].values()
        for op in path.values()
        for answer in op["responses"].values()
        for name in answer.get("links", {})
    ]
    assert len(links) >= 5
    token = stateful_world.tokens["officer_a"]

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {token}"}}

    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        Machine,
        settings=settings(
            max_examples=max(5, EXAMPLES // 4),
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
