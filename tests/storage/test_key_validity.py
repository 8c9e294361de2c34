"""'Was key K valid for role R at log position P?' — storage lookup and pure fold agree."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.errors import VerificationError
from ledger.core.event import SignedEvent, parse_record, sign_event
from ledger.core.registry import (
    REGISTRY_STREAM,
    KeyNotValid,
    RegistryState,
    key_registered,
    key_revoked,
    registry_change,
)
from ledger.core.signing import KeyId, Signer
from ledger.storage.database import Backend
from ledger.storage.keys import KeyRegistry
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/keys"


def signer(name: str) -> Signer:
    return Signer(hashlib.sha256(name.encode()).digest())


def test_validity_follows_log_positions(backend: Backend) -> None:
    authority, officer, leader = signer("authority"), signer("officer"), signer("leader")
    store = EventStore(backend, origin=ORIGIN, authorities={authority.key_id: authority.public_key})
    heads: dict[str, SignedEvent] = {}

    def append(
        stream: str, kind: str, actor: str, signers: list[Signer], payload: dict[str, Value]
    ) -> int:
        head = heads.get(stream)
        body = next_body(
            head,
            origin=ORIGIN,
            stream=stream,
            event_type=kind,
            actor=actor,
            time_us=1,
            payload=payload,
        )
        heads[stream] = sign_event(body, signers)
        store.append([heads[stream].record])
        return heads[stream].body.n

    append(
        REGISTRY_STREAM,
        "KeyRegistered",
        "authority:hn",
        [authority],
        key_registered(officer.public_key, actor="officer:1", roles={"reception"}, agency="H26"),
    )
    append(
        REGISTRY_STREAM,
        "KeyRegistered",
        "authority:hn",
        [authority],
        key_registered(leader.public_key, actor="leader:1", roles={"leader"}, agency="H26"),
    )
    append("D-1", "DossierReceived", "officer:1", [officer], {})  # leaf 2
    append(
        REGISTRY_STREAM,
        "KeyRevoked",
        "authority:hn",
        [authority],
        key_revoked(officer.key_id, reason="left the agency"),
    )  # leaf 3
    append("D-1", "ResultIssued", "leader:1", [leader], {})  # leaf 4
    log = MerkleLog(backend)
    log.integrate()
    keys = KeyRegistry(backend)

    # The pure fold over the same stored bytes, in log order.
    state = RegistryState()
    for index in range(log.size()):
        event = parse_record(log.leaf_record(index))
        if event.body.stream == REGISTRY_STREAM:
            state.apply(registry_change(event), position=index)

    cases: list[tuple[KeyId, int, str | None, str | None, bool]] = [
        (officer.key_id, 2, "reception", "officer:1", True),
        (officer.key_id, 0, None, None, False),  # before its registration
        (officer.key_id, 4, None, None, False),  # after its revocation
        (officer.key_id, 2, "leader", None, False),  # wrong role
        (officer.key_id, 2, None, "leader:1", False),  # wrong actor
        (leader.key_id, 4, "leader", "leader:1", True),
        (KeyId(bytes(16)), 4, None, None, False),  # never registered
    ]
    for key, position, role, actor, valid in cases:
        for check in (keys.check_at, state.check):
            if valid:
                assert check(key, position=position, role=role, actor=actor).key_id == key
            else:
                with pytest.raises(KeyNotValid) as info:
                    check(key, position=position, role=role, actor=actor)
                assert info.value.check == "key.invalid_at_position"
                assert isinstance(info.value, VerificationError)
    listed = {item.registration.actor: item.revoked_n for item in keys.list()}
    assert listed == {"officer:1": 3, "leader:1": None}
