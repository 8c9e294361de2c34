"""docs/api.md's Python walkthroughs run here against the API, so they can't go stale."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.domain import commands as cmd
from tests.api.api_world import ORIGIN, World, bearer, make_app

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def snippets() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL):
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace


def test_signing_and_proof_walkthroughs_run(world: World) -> None:
    docs = snippets()
    code = world.codes["ward_open"]
    state = world.ledger.dossiers.state(code)
    assert state is not None
    draft = cmd.issue_guidance(state, missing=["TO_KHAI"], reasons=["thiếu tờ khai"])
    with TestClient(make_app(world), headers=bearer(world, "officer_a")) as client:
        appended = docs["submit"](
            client,
            world.keystore.signer("ward.reception"),
            origin=ORIGIN,
            stream=code,
            actor="ward:tiepnhan-01",
            event_type=draft.type,
            payload=draft.payload,
            time_us=world.clock(),
        )
        assert appended["n"] == state.n + 1
        world.checkpoint()
        event = world.ledger.store.event_at(code, appended["n"])
        assert event is not None
        log_vkey = world.ledger.checkpoints.signer.verifier.vkey  # type: ignore[union-attr]
        index = docs["verify_included"](
            client, event.record, appended["event_hash"], origin=ORIGIN, log_vkey=log_vkey
        )
        assert index == world.ledger.log.leaf_index(event.event_hash)
