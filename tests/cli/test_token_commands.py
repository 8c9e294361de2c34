"""``hoso tokens``: issue (printed once, stored hashed), list, revoke; citizens by id number
from stdin, never stored or printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.tokens import TokenStore
from ledger.cli import app
from tests.api.api_world import World, make_app

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_issue_list_revoke(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = world.ledger.settings
    monkeypatch.setenv("HOSO_ORIGIN", settings.origin)
    monkeypatch.setenv("HOSO_ACCESS_KEY_NAME", settings.access_key_name)
    monkeypatch.chdir(tmp_path)
    db = ["--db", settings.database_url]
    issued = runner.invoke(
        app, ["tokens", "issue", "--kind", "officer", "--actor", "ward:tiepnhan-01", *db]
    )
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("hoso_")
    unknown = runner.invoke(app, ["tokens", "issue", "--kind", "officer", "--actor", "nobody", *db])
    assert unknown.exit_code == 1
    code = world.codes["ward_done"]
    id_number = world.person(code)
    citizen = runner.invoke(
        app, ["tokens", "issue", "--kind", "citizen", *db], input=id_number + "\n"
    )
    assert citizen.exit_code == 0, citizen.output
    assert id_number not in citizen.output
    rows = world.ledger.backend.sql.rows("SELECT * FROM hoso_api_tokens")
    assert all(id_number not in str(dict(r)) for r in rows)
    listed = runner.invoke(app, ["tokens", "list", *db])
    assert listed.exit_code == 0
    # hoso_<id>_<secret>: the secret's base64url alphabet holds "_" too, so split twice only
    _, token_id, secret = token.split("_", 2)
    assert secret not in listed.output  # the secret is never listed
    assert f"{token_id}\tofficer\tward:tiepnhan-01" in listed.output

    from fastapi.testclient import TestClient  # noqa: PLC0415

    citizen_token = citizen.output.strip().splitlines()[-1]
    with TestClient(make_app(world)) as client:
        mine = client.get("/v1/me/dossiers", headers={"Authorization": f"Bearer {citizen_token}"})
        assert [d["code"] for d in mine.json()["items"]] == [code]
        assert (
            client.get("/v1/dossiers", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
    revoked = runner.invoke(app, ["tokens", "revoke", token_id, *db])
    assert revoked.exit_code == 0
    store = TokenStore(world.ledger.backend.sql, clock_us=world.clock)
    assert store.authenticate(token) is None
