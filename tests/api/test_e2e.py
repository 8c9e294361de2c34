"""End to end over HTTP against create_app, on SQLite and PostgreSQL: reads through the
projections, client-signed events with conflict and retry, custodial commands, a logged
applicant read, proofs checked against the checkpoint, the witness flow, and problems."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import bootstrap
from ledger.core import merkle
from ledger.core.checkpoint import open_checkpoint, parse_checkpoint_text
from ledger.core.event import EventBody, sign_event
from ledger.core.hashing import EventHash, leaf_hash
from ledger.core.note import Ed25519NoteSigner, parse_note
from ledger.domain import commands as cmd
from ledger.domain.due import compute_due
from tests.api.api_world import ORIGIN, World, bearer, make_app, witness_cosigner

pytestmark = pytest.mark.integration


def test_official_reads_come_from_the_views(world: World, client: TestClient) -> None:
    code = world.codes["ward_done"]
    listed = client.get("/v1/dossiers", headers=bearer(world, "officer_a"), params={"limit": 1})
    assert listed.status_code == 200
    first = listed.json()
    assert len(first["items"]) == 1
    assert first["next"] is not None
    second = client.get(
        "/v1/dossiers",
        headers=bearer(world, "officer_a"),
        params={"limit": 1, "after": first["next"]},
    ).json()
    codes = {first["items"][0]["code"], *(i["code"] for i in second["items"])}
    assert codes == {world.codes["ward_done"], world.codes["ward_open"]}

    detail = client.get(f"/v1/dossiers/{code}", headers=bearer(world, "officer_a")).json()
    stored = world.ledger.store.read_stream(code)
    assert [h["event_hash"] for h in detail["history"]] == [e.event_hash.hex() for e in stored]
    assert detail["state"] == "delivered"
    assert detail["portal_code"] == 10
    assert [r["number"] for r in detail["results"]] == ["KS-0001"]
    result_signers = {s["actor"] for s in detail["history"][-2]["signers"]}
    assert result_signers == {"ward:lanhdao-01", "agency:000.39.05.H26"}

    stats = client.get(
        "/v1/statistics", headers=bearer(world, "officer_a"), params={"period": "2026-03"}
    ).json()
    assert [(s["agency"], s["resolved"], s["on_time"]) for s in stats] == [("000.39.05.H26", 1, 1)]
    portal = client.get(f"/v1/dossiers/{code}/portal-sync", headers=bearer(world, "officer_a"))
    assert portal.json()["MaHoSo"] == code
    assert portal.json()["ChuHoSo"] is None


def test_client_signs_submits_conflicts_and_retries(world: World, client: TestClient) -> None:
    code, officer = world.codes["ward_open"], bearer(world, "officer_a")
    signer = world.keystore.signer("ward.reception")  # the officer's own key, in their client
    head = client.get(f"/v1/streams/{code}/head", headers=officer).json()
    state = world.ledger.dossiers.state(code)
    assert state is not None
    assert head["n"] == state.n
    received = world.clock()
    procedure = world.ledger.catalogue.get(state.procedure)
    due = compute_due(received_us=received, procedure=procedure, calendar=world.ledger.calendar)
    receive = cmd.receive_dossier(
        state,
        received_us=due.received_us,
        clock_start_us=due.clock_start_us,
        due_us=due.due_us,
        rule_version=due.rule_version,
        calendar_version=due.calendar_version,
        receipt_hash=hashlib.sha256(b"form 01").digest(),
        required=procedure.component_codes,
    )

    def body(draft: cmd.Draft, at: dict[str, object]) -> EventBody:
        return EventBody(
            origin=ORIGIN,
            stream=code,
            n=int(str(at["next_n"])),
            prev=EventHash(bytes.fromhex(str(at["next_prev"]))),
            type=draft.type,
            actor="ward:tiepnhan-01",
            time_us=received,
            payload=draft.payload,
        )

    first = sign_event(body(receive, head), [signer])
    posted = client.post(
        "/v1/events",
        content=first.record,
        headers={**officer, "Content-Type": "application/msgpack"},
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["event_hash"] == first.event_hash.hex()
    assert posted.json()["duplicate"] is False
    again = client.post(
        "/v1/events",
        json={"record": base64.b64encode(first.record).decode()},
        headers=officer,
    )
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert len(world.ledger.store.read_stream(code)) == head["n"] + 1  # not appended twice

    assign = cmd.assign_handler(
        world.ledger.dossiers.state(code),  # type: ignore[arg-type]
        handler="ward:chuyenvien-01",
        department="TP",
    )
    stale = sign_event(body(assign, head), [signer])  # signed on the old head
    conflict = client.post(
        "/v1/events",
        content=stale.record,
        headers={**officer, "Content-Type": "application/msgpack"},
    )
    assert conflict.status_code == 409
    problem = conflict.json()
    assert conflict.headers["content-type"] == "application/problem+json"
    assert problem["check"] == "append.conflict"
    assert problem["head"]["n"] == head["n"] + 1
    assert problem["head"]["event_hash"] == first.event_hash.hex()
    new_head = client.get(f"/v1/streams/{code}/head", headers=officer).json()
    resigned = sign_event(body(assign, new_head), [signer])
    retried = client.post(
        "/v1/events",
        content=resigned.record,
        headers={**officer, "Content-Type": "application/msgpack"},
    )
    assert retried.status_code == 201
    assert retried.json()["n"] == head["n"] + 2

    someone_else = client.post(
        "/v1/events",
        content=resigned.record,
        headers={**bearer(world, "officer_b"), "Content-Type": "application/msgpack"},
    )
    assert someone_else.status_code == 403
    assert someone_else.json()["check"] == "scope.actor"


def test_custodial_commands(world: World, client: TestClient) -> None:
    code = world.codes["ward_open"]
    officer, leader = bearer(world, "officer_a"), bearer(world, "leader_a")
    url = f"/v1/dossiers/{code}/commands"
    receipt = hashlib.sha256(b"receipt").hexdigest()
    early = client.post(
        f"{url}/deliver", json={"result_number": "X", "channel": "vneid"}, headers=officer
    )
    assert early.status_code == 409
    assert early.json()["check"].startswith("domain.")
    other = client.post(
        f"{url}/receive", json={"receipt_hash": receipt}, headers=bearer(world, "officer_b")
    )
    assert other.status_code == 404
    received = client.post(f"{url}/receive", json={"receipt_hash": receipt}, headers=officer)
    assert received.status_code == 201, received.text
    assigned = client.post(
        f"{url}/assign", json={"handler": "ward:chuyenvien-01", "department": "TP"}, headers=officer
    )
    assert assigned.status_code == 201, assigned.text
    missing = client.post(f"{url}/issue-result", json={}, headers=leader)
    assert missing.status_code == 422
    assert missing.json()["check"] == "command.argument"
    issued = client.post(
        f"{url}/issue-result",
        json={
            "result_number": "KS-9999",
            "result_type": "birth_certificate",
            "document_hash": hashlib.sha256(b"doc").hexdigest(),
        },
        headers=leader,
    )
    assert issued.status_code == 201, issued.text
    event = world.ledger.store.event_at(code, issued.json()["n"])
    assert event is not None
    assert len(event.signatures) == 2
    world.project()
    results = client.get(f"/v1/dossiers/{code}/results", headers=officer).json()
    assert [r["number"] for r in results] == ["KS-9999"]

    closed = bootstrap(world.ledger.settings, clock_us=world.clock)  # no keystore
    try:
        with TestClient(make_app(world, closed)) as read_only:
            refused = read_only.post(
                f"{url}/deliver",
                json={"result_number": "KS-9999", "channel": "vneid"},
                headers=officer,
            )
        assert refused.status_code == 503
        assert refused.json()["check"] == "keystore.closed"
    finally:
        closed.close()


def test_applicant_read_is_logged_and_shown_to_the_citizen(
    world: World, client: TestClient
) -> None:
    code = world.codes["ward_done"]
    before = client.get("/v1/me/access-log", headers=bearer(world, "citizen_x")).json()["items"]
    read = client.get(
        f"/v1/dossiers/{code}/applicant",
        params={"purpose": "processing"},
        headers=bearer(world, "officer_a"),
    )
    assert read.status_code == 200
    assert read.json()["full_name"] == world.office.applicants[code].full_name
    refused = client.get(
        f"/v1/dossiers/{code}/applicant",
        params={"purpose": "audit"},
        headers=bearer(world, "officer_a"),
    )
    assert refused.status_code == 403
    assert refused.json()["check"] == "privacy.access_refused"
    assert world.ledger.privacy.access.flush() >= 1
    world.project()
    after = client.get("/v1/me/access-log", headers=bearer(world, "citizen_x")).json()["items"]
    assert len(after) == len(before) + 1
    assert after[0]["reader"] == "ward:tiepnhan-01"
    assert after[0]["purpose"] == "processing"
    other = client.get("/v1/me/access-log", headers=bearer(world, "citizen_y")).json()["items"]
    assert all(item["dossier"] != code for item in other)


def test_proofs_verify_against_the_signed_checkpoint(world: World, client: TestClient) -> None:
    text = client.get("/v1/checkpoints/latest")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    log_key = world.keystore.signer("ledger-log")
    verifier = Ed25519NoteSigner(ORIGIN, log_key).verifier
    checkpoint, _ = open_checkpoint(text.content, origin=ORIGIN, log_keys=[verifier])
    as_json = client.get("/v1/checkpoints/latest", headers={"Accept": "application/json"}).json()
    assert as_json["size"] == checkpoint.size
    assert base64.b64decode(as_json["root"]) == checkpoint.root

    event = world.ledger.store.read_stream(world.codes["police_done"])[2]
    proof = client.get("/v1/proofs/inclusion", params={"hash": event.event_hash.hex()}).json()
    merkle.verify_inclusion(
        index=proof["index"],
        size=proof["size"],
        leaf_hash=leaf_hash(event.record),
        proof=[base64.b64decode(p) for p in proof["proof"]],
        root=checkpoint.root,
    )
    first = world.checkpoint()  # nothing new: the same size
    world.office.receive(world.codes["ward_open"], at=world.clock())
    second = world.checkpoint()
    assert second > first
    old = parse_checkpoint_text(client.get(f"/v1/checkpoints/{first}").text.split("\n\n")[0] + "\n")
    new = parse_checkpoint_text(
        client.get(f"/v1/checkpoints/{second}").text.split("\n\n")[0] + "\n"
    )
    consistency = client.get("/v1/proofs/consistency", params={"from": first, "to": second}).json()
    merkle.verify_consistency(
        size1=first,
        size2=second,
        root1=old.root,
        root2=new.root,
        proof=[base64.b64decode(p) for p in consistency["proof"]],
    )
    past = client.get("/v1/proofs/inclusion", params={"index": 0, "size": second + 5})
    assert past.status_code == 400
    assert past.json()["check"] == "merkle.proof_shape"
    unknown = client.get("/v1/proofs/inclusion", params={"hash": "00" * 32})
    assert unknown.status_code == 404


def test_witness_cosigns_after_consistency(world: World, client: TestClient) -> None:
    witness, headers = witness_cosigner(), bearer(world, "witness")

    def cosigned(size: int, old: int) -> bytes:
        note = parse_note(client.get(f"/v1/checkpoints/{size}").content)
        checkpoint = parse_checkpoint_text(note.text)
        line = witness.cosign(checkpoint, timestamp=1_800_000_000 + size).line()
        proof = ""
        if 0 < old < size:
            got = client.get("/v1/proofs/consistency", params={"from": old, "to": size}).json()
            proof = "".join(f"{p}\n" for p in got["proof"])
        return f"old {old}\n{proof}\n".encode() + note.serialise() + line.encode()

    first = world.checkpoint()
    ok = client.post("/v1/witness/add-checkpoint", content=cosigned(first, 0), headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.text.startswith(f"— {witness.name} ")
    world.office.receive(world.codes["ward_open"], at=world.clock())
    second = world.checkpoint()
    stale = client.post("/v1/witness/add-checkpoint", content=cosigned(second, 0), headers=headers)
    assert stale.status_code == 409
    assert stale.json()["known_size"] == first
    fine = client.post(
        "/v1/witness/add-checkpoint", content=cosigned(second, first), headers=headers
    )
    assert fine.status_code == 200, fine.text
    stored = world.ledger.checkpoints.note_at(second)
    assert stored is not None
    assert any(s.name == witness.name for s in stored.signatures)
    officer = client.post(
        "/v1/witness/add-checkpoint",
        content=cosigned(second, first),
        headers=bearer(world, "officer_a"),
    )
    assert officer.status_code == 403
