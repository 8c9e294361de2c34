"""The seal page and its JSON twin, mounted in the API app over its own ledger."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ledger.core.note import Ed25519Verifier, format_vkey
from ledger.core.seal import seal_hs1, seal_url, to_numeric
from ledger.core.seal_trust import open_trust_list
from ledger.services.seals.issue import issue_seal
from tests.api.api_world import ORIGIN, World, bearer
from verify.bundle import verify_bundle
from verify.trust import parse_trust

pytestmark = pytest.mark.integration


def test_a_seal_issued_on_the_ledger_verifies_through_the_api(
    world: World, client: TestClient
) -> None:
    code = world.codes["ward_done"]
    state = world.ledger.dossiers.state(code)
    assert state is not None
    (number,) = state.results
    seal = issue_seal(world.ledger, code, number, world.keystore.signer("ward.seal"))
    log_key = world.ledger.checkpoints.signer
    assert log_key is not None
    anchor: Ed25519Verifier = log_key.verifier
    # the public trust list is signed with the log key and names the agency's seal key
    keys = open_trust_list(client.get("/v1/seals/trust-list").content, [anchor]).keys
    assert state.agency in {k.agency for k in keys}
    verdict = client.post("/v1/seals/verify", json={"seal": seal_hs1(seal)}).json()
    assert verdict["outcome"] == "valid", verdict
    assert verdict["claims"]["dossier"] == code
    assert verdict["in_log"]["proof"]
    page = client.get("/s/" + to_numeric(seal))
    assert page.status_code == 200
    assert 'data-outcome="valid"' in page.text
    assert state.applicant.hex() not in page.text  # nothing personal, not even a pseudonym
    assert seal_url(world.ledger.settings.seal_host, seal).endswith(to_numeric(seal))
    tampered = bytearray(seal)
    tampered[-1] ^= 1
    bad = client.post("/v1/seals/verify", json={"seal": seal_hs1(bytes(tampered))}).json()
    assert bad["outcome"] != "valid"
    assert bad["check"] == "seal.signature"


def test_an_officials_bundle_download_verifies_offline(world: World, client: TestClient) -> None:
    code = world.codes["ward_done"]
    response = client.get(f"/v1/dossiers/{code}/bundle", headers=bearer(world, "inspector"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.hoso.bundle+msgpack"
    log_key = world.ledger.checkpoints.signer
    assert log_key is not None
    authority = world.keystore.signer("authority").public_key
    trust = parse_trust(
        f"origin {ORIGIN}\nlog {log_key.verifier.vkey}\n"
        f"authority {format_vkey(ORIGIN + '/authority', 0x01, authority)}\n"
    )
    report = verify_bundle(
        response.content,
        trust,
        catalogue=world.ledger.catalogue,
        calendar=world.ledger.calendar,
        now_us=world.clock(),
    )
    assert [f.check for f in report.findings.kept if f.family != "rule"] == []
    assert report.records > 0
    flipped = bytearray(response.content)
    flipped[len(flipped) // 2] ^= 1
    broken = verify_bundle(
        bytes(flipped),
        trust,
        catalogue=world.ledger.catalogue,
        calendar=world.ledger.calendar,
        now_us=world.clock(),
    )
    assert [f for f in broken.findings.kept if f.family != "rule"] != []
