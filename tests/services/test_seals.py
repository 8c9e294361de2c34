"""Seals issued from a real ledger: QR round trips, the online check, the page, the CLI."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from api.routes.seals import router, seal_backend
from ledger.cli import app as cli_app
from ledger.core.chain import next_body
from ledger.core.errors import HosoError
from ledger.core.event import sign_event
from ledger.core.seal import (
    decode_text,
    parse_seal,
    seal_hs1,
    seal_url,
    sign_seal,
    to_numeric,
)
from ledger.core.seal_trust import open_trust_list, verify_seal
from ledger.core.signing import Signer
from ledger.domain.streams import STATUS_PUBLISHED, status_published, status_stream
from ledger.services.seals.check import check_seal
from ledger.services.seals.issue import issue_seal, seal_claims
from ledger.services.seals.qr import MAX_URL_VERSION, make_qr, png_bytes, read_qr, svg_text
from ledger.services.status_lists import assign_entry, publish, seal_key
from ledger.storage.status_entries import StatusEntries
from tests.services.seal_world import NOW_US, World

pytestmark = pytest.mark.integration

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

HOST = "https://xacthuc.hoso.example"
NOW_ISO = datetime.fromtimestamp(NOW_US / 1e6, UTC).isoformat()
LATER_ISO = datetime.fromtimestamp(NOW_US / 1e6 + 60, UTC).isoformat()


def sealed(world: World, story: str, number: str) -> bytes:
    """The seal the agency issued for a result, signed when it was still valid."""
    return sign_seal(
        seal_claims(world.parts, world.codes[story], number, world.ward_seal), world.ward_seal
    )


def test_issue_refuses_revoked_superseded_and_foreign_keys(world: World) -> None:
    for story, number in (("revoked", "KS-0002"), ("corrected", "TL-0003")):
        with pytest.raises(Exception, match=r"seal\.revoked"):
            issue_seal(world.parts, world.codes[story], number, world.ward_seal)
    police_seal = world.keys.people["police.seal"]
    with pytest.raises(Exception, match=r"seal\.issuer_key"):
        issue_seal(world.parts, world.codes["valid"], "KS-0001", police_seal)
    with pytest.raises(Exception, match=r"seal\.issuer_key"):
        issue_seal(world.parts, world.codes["valid"], "KS-0001", world.keys.people["ward.leader"])


def test_png_and_svg_round_trip_through_zxing(world: World, tmp_path: Path) -> None:
    seal = issue_seal(world.parts, world.codes["valid"], "KS-0001", world.ward_seal)
    trust = open_trust_list(world.seal_backend.trust_list_note(), [world.anchor])
    for text in (seal_url(HOST, seal), seal_hs1(seal)):
        qr = make_qr(text)
        assert qr.error == "Q"
        decoded = read_qr(png_bytes(qr))
        assert decoded == text
        verify_seal(parse_seal(decode_text(decoded)), trust)
        svg = svg_text(qr)
        assert svg.startswith("<svg")
        assert "<path" in svg
    version = make_qr(seal_url(HOST, seal)).version
    assert isinstance(version, int)
    assert version <= MAX_URL_VERSION
    # The SVG is read back too: from the result sheet's screenshot (test_result_sheet.py).


def test_url_form_fits_version_13_at_level_q_for_every_result(world: World) -> None:
    for story in ("valid", "corrected"):
        for number in world.results(story):
            seal = sealed(world, story, number)
            qr = make_qr(seal_url(HOST, seal))
            assert isinstance(qr.version, int)
            assert qr.designator.endswith("-Q")
            assert qr.version <= 13, (number, qr.version, len(seal))


def test_online_outcomes(world: World) -> None:
    backend = world.seal_backend
    valid = check_seal(seal_url(HOST, sealed(world, "valid", "KS-0001")), backend)
    assert valid.outcome == "valid"
    assert valid.log is not None
    assert valid.claims is not None
    assert valid.log.tree_size > valid.log.leaf_index
    revoked = check_seal(seal_hs1(sealed(world, "revoked", "KS-0002")), backend)
    assert (revoked.outcome, revoked.check) == ("revoked", "seal.revoked")
    superseded = check_seal(seal_hs1(sealed(world, "corrected", "TL-0003")), backend)
    assert superseded.outcome == "superseded"
    assert superseded.status is not None
    assert superseded.status.superseded_by == "TL-0003a"
    assert check_seal(seal_hs1(sealed(world, "corrected", "TL-0003a")), backend).outcome == "valid"


def test_online_catches_tampering_unknown_keys_and_wrong_hashes(world: World) -> None:
    backend = world.seal_backend
    seal = sealed(world, "valid", "KS-0001")
    tampered = bytearray(seal)
    tampered[40] ^= 0x01
    assert check_seal(seal_hs1(bytes(tampered)), backend).outcome == "invalid"
    stranger = Signer(b"\x07" * 32)
    claims = seal_claims(world.parts, world.codes["valid"], "KS-0001", world.ward_seal)
    foreign = sign_seal(replace(claims, key_id=stranger.key_id[:8]), stranger)
    assert check_seal(seal_hs1(foreign), backend).check == "seal.unknown_key"
    for forged, check in (
        (replace(claims, document_hash=bytes(16)), "seal.document"),
        (replace(claims, event_hash=bytes(16)), "seal.event"),
    ):
        verdict = check_seal(seal_hs1(sign_seal(forged, world.ward_seal)), backend)
        assert (verdict.outcome, verdict.check) == ("invalid", check)
    missing = replace(claims, result_number="KS-9999")
    assert check_seal(seal_hs1(sign_seal(missing, world.ward_seal)), backend).check == (
        "seal.not_found"
    )


def client(world: World) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[seal_backend] = lambda: world.seal_backend
    return TestClient(app)


def personal_values(world: World) -> list[str]:
    """Every applicant commitment (hex) in the world's dossiers: none may reach a page."""
    out = []
    for code in world.codes.values():
        state = world.parts.dossiers.state(code)
        assert state is not None
        out.append(state.applicant.hex())
        if state.personal is not None:
            out.append(state.personal.hex())
    return out


def test_page_shows_each_verdict_and_nothing_personal(world: World) -> None:
    http = client(world)
    cases = {
        "valid": (sealed(world, "valid", "KS-0001"), "Xác thực: kết quả hợp lệ"),
        "revoked": (sealed(world, "revoked", "KS-0002"), "Kết quả đã bị thu hồi"),
        "superseded": (sealed(world, "corrected", "TL-0003"), "TL-0003a"),
    }
    secrets = personal_values(world)
    for outcome, (seal, text) in cases.items():
        page = http.get("/s/" + to_numeric(seal))
        assert page.status_code == 200
        assert f'data-outcome="{outcome}"' in page.text
        assert text in page.text
        assert 'name="viewport"' in page.text
        assert not re.search(r'(src|href)="https?://', page.text)  # no external assets
        for secret in secrets:
            assert secret not in page.text
    tampered = bytearray(cases["valid"][0])
    tampered[-1] ^= 0x01
    page = http.get("/s/" + to_numeric(bytes(tampered)))
    assert 'data-outcome="invalid"' in page.text
    assert "seal.signature" in page.text
    english = http.get("/s/" + to_numeric(cases["valid"][0]), params={"lang": "en"})
    assert "Authentic and valid" in english.text
    assert 'lang="en"' in english.text


def test_api_verify_and_trust_list(world: World) -> None:
    http = client(world)
    verdict = http.post(
        "/v1/seals/verify", json={"seal": seal_hs1(sealed(world, "valid", "KS-0001"))}
    )
    body = verdict.json()
    assert body["outcome"] == "valid"
    assert body["in_log"]["proof"]
    assert http.post("/v1/seals/verify", json={"seal": "HS1:"}).json()["check"] == "seal.malformed"
    note = http.get("/v1/seals/trust-list").content
    keys = open_trust_list(note, [world.anchor]).keys
    assert {k.agency for k in keys} == {"000.39.05.H26", "000.60.02.H26", "000.30.01.H26"}


def test_cli_verify_exit_codes(world: World, tmp_path: Path) -> None:
    trust = tmp_path / "trust.note"
    trust.write_bytes(world.seal_backend.trust_list_note())
    vkey = world.anchor.vkey
    seal = issue_seal(world.parts, world.codes["valid"], "KS-0001", world.ward_seal)
    image = tmp_path / "qr.png"
    image.write_bytes(png_bytes(make_qr(seal_url(HOST, seal))))
    tampered = bytearray(seal)
    tampered[-5] ^= 0x10

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli_app, ["seal", "verify", *args])
        return result.exit_code, result.output

    base = ["--trust", str(trust), "--trust-key", vkey]
    code, out = run(str(image), *base)
    assert code == 4, out  # authentic, but no status list: status unknown, never "valid"
    assert "KS-0001" in out
    assert "status unknown: [status_list.missing]" in out
    assert run(seal_hs1(seal), *base)[0] == 4
    assert run(seal_hs1(bytes(tampered)), *base)[0] == 1
    assert run("HS1:" + "A" * 10, *base)[0] == 2
    assert run(str(tmp_path / "missing.png"), *base)[0] == 3
    other = Signer(b"\x09" * 32)
    from ledger.core.note import Ed25519Verifier  # noqa: PLC0415

    wrong_anchor = Ed25519Verifier(world.anchor.name, other.public_key).vkey
    assert run(seal_hs1(seal), "--trust", str(trust), "--trust-key", wrong_anchor)[0] == 1


def test_offline_status_from_a_published_status_list(world: World, tmp_path: Path) -> None:
    """The ward publishes its list (read from the index at the checkpoint); offline, a
    valid result's seal is valid as of the list, a revoked one's is not; a stale list,
    another agency's list, a forged bit or no list at all is status unknown."""
    trust = tmp_path / "trust.note"
    trust.write_bytes(world.seal_backend.trust_list_note())
    valid = issue_seal(world.parts, world.codes["valid"], "KS-0001", world.ward_seal)
    revoked = sealed(world, "revoked", "KS-0002")
    published = publish(
        world.parts.dossiers.store,
        world.parts.log,
        world.parts.keys,
        "000.39.05.H26",
        world.ward_seal,
        now_us=NOW_US,
    )
    members = StatusEntries(world.backend).members("000.39.05.H26", 0)
    withdrawn = [
        (dossier, number)
        for _, dossier, number in members
        if world.parts.dossiers.state(dossier).results[number].status != "valid"  # type: ignore[union-attr]
    ]
    assert (world.codes["revoked"], "KS-0002") in withdrawn
    assert [p.invalid for p in published] == [len(withdrawn)]
    listed = published[0].status_list
    path = tmp_path / "ward-0.hsl"
    path.write_bytes(listed.document)
    store = world.parts.dossiers.store
    event = store.head(status_stream("000.39.05.H26"))
    assert event is not None
    assert status_published(event.body).digest == listed.digest  # committed in the log

    def run(seal: bytes, *args: str) -> tuple[int, dict[str, object]]:
        result = CliRunner().invoke(
            cli_app,
            [
                "seal",
                "verify",
                seal_hs1(seal),
                "--trust",
                str(trust),
                "--trust-key",
                world.anchor.vkey,
                "--json",
                "--now",
                NOW_ISO,
                *args,
            ],
        )
        return result.exit_code, json.loads(result.stdout)

    code, verdict = run(valid, "--status-list", str(path))
    assert (code, verdict["outcome"]) == (0, "valid"), verdict
    code, verdict = run(revoked, "--status-list", str(path))
    assert (code, verdict["outcome"], verdict["check"]) == (
        1,
        "invalid_status",
        "seal.invalid_status",
    )
    code, verdict = run(valid, "--status-list", str(path), "--max-age", "0", "--now", LATER_ISO)
    assert (code, verdict["check"]) == (4, "status_list.stale")
    forged = bytearray(listed.document)
    forged[forged.index(listed.signature) + 3] ^= 1
    path.write_bytes(bytes(forged))
    assert run(valid, "--status-list", str(path))[1]["check"] == "status_list.signature"
    path.write_bytes(b"not a list")
    assert run(valid, "--status-list", str(path))[1]["check"] == "status_list.shape"
    police = publish_other(world, tmp_path)
    assert run(valid, "--status-list", str(police))[1]["check"] == "status_list.mismatch"


def publish_other(world: World, tmp_path: Path) -> Path:
    """The police's list (another agency's): a ward seal pointing at it is a mismatch."""
    police_seal = world.keys.people["police.seal"]
    code = world.codes["valid"]
    # the police has no sealed result here: give it one entry so it has a list to sign
    assign_entry(world.parts.dossiers.store, "000.60.02.H26", code, "KS-0001")
    [item] = publish(
        world.parts.dossiers.store,
        world.parts.log,
        world.parts.keys,
        "000.60.02.H26",
        police_seal,
        now_us=NOW_US,
    )
    path = tmp_path / "police-0.hsl"
    path.write_bytes(item.status_list.document)
    return path


class LyingBackend:
    """The world's backend, but its index proof is another dossier's, or garbage."""

    def __init__(self, world: World, proof: Callable[[str], bytes | None]) -> None:
        self.inner = world.seal_backend
        self.proof = proof

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def index_proof(self, dossier: str) -> bytes | None:
        return self.proof(dossier)


def test_a_forged_or_misplaced_index_proof_is_never_valid(world: World) -> None:
    """The server answers a revoked result's seal with the proof of a valid dossier, or
    with bytes that are not a proof: invalid with the check that failed. With no proof
    at all (no checkpoint ends with an index commit): status unknown."""
    revoked = seal_hs1(sealed(world, "revoked", "KS-0002"))
    valid_code = world.codes["valid"]
    cases: dict[str, Callable[[str], bytes | None]] = {
        "another dossier's proof": lambda _: world.seal_backend.index_proof(valid_code),
        "garbage": lambda _: b"\x81\xa1v\x01",
    }
    for name, proof in cases.items():
        verdict = check_seal(revoked, LyingBackend(world, proof))  # type: ignore[arg-type]
        assert verdict.outcome == "invalid", name
        assert verdict.check is not None
        assert verdict.check.startswith(("index.", "encoding.")), (name, verdict.check)
    unproven = check_seal(revoked, LyingBackend(world, lambda _: None))  # type: ignore[arg-type]
    assert (unproven.outcome, unproven.check) == ("status_unknown", "seal.status_unknown")


def test_the_store_refuses_a_status_list_published_for_another_agency(world: World) -> None:
    """Only an agency's own seal key publishes on its status stream: the police's seal key
    on the ward's stream is ``signature.role`` and nothing is stored."""

    store = world.parts.dossiers.store
    police = world.keys.people["police.seal"]
    actor = seal_key(world.parts.keys, police, "000.60.02.H26").actor
    stream = status_stream("000.39.05.H26")
    before = store.head(stream)
    body = next_body(
        before,
        origin=store.origin,
        stream=stream,
        event_type=STATUS_PUBLISHED,
        actor=actor,
        time_us=NOW_US,
        payload={"digest": bytes(32), "issued": NOW_US // 1_000_000, "list": 0, "size": 131072},
    )
    with pytest.raises(HosoError) as refused:
        store.append([sign_event(body, [police]).record])
    assert refused.value.check == "signature.role"
    assert "000.39.05.H26" in str(refused.value)
    assert store.head(stream) == before
