"""Personal data, pure parts: commitments (with an independent re-derivation of the
vectors), id-number validation, envelope encryption, access/erasure payloads and rules."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgpack
import pytest

from ledger.core.commitment import (
    CommitmentMismatch,
    MalformedCommitmentInput,
    commit,
    index_tag,
    verify_commitment,
)
from ledger.core.event import EventBody
from ledger.core.hashing import GENESIS_PREV
from ledger.domain.payloads import MalformedPayload
from ledger.domain.privacy import (
    ACCESS_STREAM,
    DATA_ACCESSED,
    PRIVACY_STREAM,
    SUBJECT_ERASED,
    AccessEntry,
    Handled,
    access_entries,
    audit_access,
    audit_erasures,
    check_privacy_event,
    retention_blockers,
)
from ledger.domain.state import SignerInfo, WrongRole
from ledger.privacy.crypto import (
    MasterKey,
    MasterKeys,
    VaultDecryptFailed,
    VaultKeyMissing,
    seal,
    unseal,
)
from ledger.privacy.records import MalformedPersonalData, PersonalRecord, normalize_id_number
from tests.domain.builder import AGENCY, DAY, HANDLER, OTHER, RECEPTION, History, fold

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "privacy.json").read_text())
CCCD = "001099000001"


# --- vectors: hoso's code, and an independent derivation from the docs ----------------


@pytest.mark.parametrize("vector", VECTORS["commitments"], ids=lambda v: v["label"])
def test_commitment_vectors(vector: dict[str, Any]) -> None:
    salt = bytes.fromhex(vector["salt_hex"])
    assert commit(salt, vector["label"], vector["value"]).hex() == vector["commitment_hex"]
    # independent: SHA-256("hoso/commit/v1\0" || salt || canonical msgpack [label, value])
    value = vector["value"]
    if isinstance(value, dict):
        value = dict(sorted(value.items(), key=lambda kv: kv[0].encode()))
    preimage = b"hoso/commit/v1\x00" + salt + msgpack.packb([vector["label"], value])
    assert preimage.hex() == vector["preimage_hex"]
    assert hashlib.sha256(preimage).hexdigest() == vector["commitment_hex"]


def test_index_tag_vector() -> None:
    (vector,) = VECTORS["index_tags"]
    key = bytes.fromhex(vector["key_hex"])
    assert index_tag(key, vector["kind"], vector["value"]).hex() == vector["tag_hex"]
    message = b"hoso/index/v1\x00" + msgpack.packb([vector["kind"], vector["value"]])
    assert hmac.new(key, message, hashlib.sha256).hexdigest() == vector["tag_hex"]


def test_commitment_hides_and_binds() -> None:
    salt_a, salt_b = bytes(16), bytes([1] * 16)
    a = commit(salt_a, "applicant", ["cccd", CCCD])
    assert a != commit(salt_b, "applicant", ["cccd", CCCD])  # salted
    assert a != commit(salt_a, "personal", ["cccd", CCCD])  # labelled
    assert a != hashlib.sha256(CCCD.encode()).digest()  # never the bare hash
    verify_commitment(a, salt_a, "applicant", ["cccd", CCCD], where="t")
    with pytest.raises(CommitmentMismatch) as info:
        verify_commitment(a, salt_a, "applicant", ["cccd", "001099000002"], where="t")
    assert "001099000002" not in str(info.value)
    assert info.value.expected == a
    with pytest.raises(MalformedCommitmentInput):
        commit(bytes(15), "applicant", "x")
    with pytest.raises(MalformedCommitmentInput):
        index_tag(bytes(31), "cccd", CCCD)


# --- records -----------------------------------------------------------------------


def test_id_numbers_are_normalised_and_checked_without_echoing() -> None:
    assert normalize_id_number("001 099.000-001") == CCCD
    assert normalize_id_number("123456789", "cmnd") == "123456789"
    for bad, kind in (
        ("00109900000", "cccd"),
        ("097099000001", "cccd"),
        ("00109900000x", "cccd"),
        ("０01099000001", "cccd"),
        ("12345678", "cmnd"),
        (CCCD, "passport"),
    ):
        with pytest.raises(MalformedPersonalData) as info:
            normalize_id_number(bad, kind)
        assert bad not in str(info.value)


def test_personal_record_normalises() -> None:
    record = PersonalRecord.of(
        id_number="001099000001",
        full_name="  Nguyễn   Văn Thử ",
        birth_date="1999-01-01",
        address="Số 1  phố Thử Nghiệm",
        email="Thu@Example.VN ",
    )
    assert record.full_name == "Nguyễn Văn Thử"
    assert record.email == "thu@example.vn"
    assert PersonalRecord.from_value(record.as_value()) == record
    with pytest.raises(MalformedPersonalData, match="birth_date"):
        PersonalRecord.of(id_number=CCCD, full_name="A", birth_date="01/01/1999", address="x")
    with pytest.raises(MalformedPersonalData, match="unknown personal fields"):
        PersonalRecord.of(
            id_number=CCCD, full_name="A", birth_date="1999-01-01", address="x", religion="y"
        )


# --- envelope encryption ------------------------------------------------------------


def test_master_keys_wrap_unwrap_and_rotate() -> None:
    old, new = MasterKey(bytes([1] * 32)), MasterKey(bytes([2] * 32))
    data_key = bytes([9] * 32)
    wrapped_old = old.wrap(data_key)
    keys = MasterKeys(new, old)
    assert keys.unwrap(old.kid, wrapped_old, where="t") == data_key
    assert keys.unwrap(new.kid, keys.current.wrap(data_key), where="t") == data_key
    with pytest.raises(VaultKeyMissing):
        MasterKeys(new).unwrap(old.kid, wrapped_old, where="t")
    with pytest.raises(VaultDecryptFailed):
        keys.unwrap(new.kid, wrapped_old, where="t")  # wrapped by another key
    assert bytes([1] * 32).hex() not in repr(old)
    assert "01010101" not in repr(old)


def test_sealed_records_authenticate() -> None:
    key = bytes([7] * 32)
    blob = seal(key, {"name": "Nguyễn Văn Thử"})
    assert "Nguyễn".encode() not in blob
    assert unseal(key, blob, where="t") == {"name": "Nguyễn Văn Thử"}
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(VaultDecryptFailed):
        unseal(key, flipped, where="t")
    with pytest.raises(VaultDecryptFailed):
        unseal(bytes([8] * 32), blob, where="t")


# --- access and erasure events -------------------------------------------------------

SUBJECT = hashlib.sha256(b"subject").digest()
SYSTEM = SignerInfo("system:access", frozenset({"system"}), AGENCY)


def _entry(**changes: Any) -> AccessEntry:
    fields: dict[str, Any] = {
        "reader": HANDLER.actor,
        "agency": AGENCY,
        "role": "handler",
        "subject": SUBJECT,
        "dossier": History.stream,
        "purpose": "processing",
        "time_us": 0,
    }
    fields.update(changes)
    return AccessEntry(**fields)


def _body(stream: str, kind: str, payload: dict[str, Any], actor: str = SYSTEM.actor) -> EventBody:
    return EventBody(
        origin="o",
        stream=stream,
        n=1,
        prev=GENESIS_PREV,
        type=kind,
        actor=actor,
        time_us=1,
        payload=payload,
    )


def test_access_events_parse_and_are_checked() -> None:
    entry = _entry()
    body = _body(ACCESS_STREAM, DATA_ACCESSED, {"queue": [3], "entries": [entry.as_value()]})
    assert access_entries(body) == [entry]
    check_privacy_event(body, [SYSTEM])
    with pytest.raises(WrongRole):
        check_privacy_event(replace(body, actor=HANDLER.actor), [HANDLER])
    bad_payloads: list[dict[str, Any]] = [
        {"queue": [3], "entries": []},
        {"queue": [3, 2], "entries": [entry.as_value(), entry.as_value()]},
        {"queue": [3], "entries": [{**entry.as_value(), "purpose": "curiosity"}]},
        {"queue": [3], "entries": [{**entry.as_value(), "name": "Nguyễn"}]},
        {"queue": [3], "entries": [entry.as_value()], "extra": 1},
    ]
    for payload in bad_payloads:
        with pytest.raises(MalformedPayload):
            check_privacy_event(_body(ACCESS_STREAM, DATA_ACCESSED, payload), [SYSTEM])
    with pytest.raises(MalformedPayload, match="holds only"):
        check_privacy_event(_body(ACCESS_STREAM, SUBJECT_ERASED, {}), [SYSTEM])


def test_erasure_events_are_checked() -> None:
    payload = {"subject": SUBJECT, "basis": "no_retention_duty", "request": SUBJECT, "dossiers": []}
    check_privacy_event(_body(PRIVACY_STREAM, SUBJECT_ERASED, payload), [SYSTEM])
    with pytest.raises(MalformedPayload):
        check_privacy_event(
            _body(PRIVACY_STREAM, SUBJECT_ERASED, {**payload, "basis": "because"}), [SYSTEM]
        )


def _handled(history: History) -> Handled:
    state = fold(history.items)
    assignments = tuple(
        (r.body.time_us, str(r.body.payload["handler"]))
        for r in history.items
        if r.body.type == "HandlerAssigned"
    )
    return Handled(state, assignments)


def test_access_scope_rules() -> None:
    history = History().submitted().inputs("TK", "GCS").received().assigned()
    handled = _handled(history)
    subject = handled.state.applicant
    after = history.clock + 1
    dossiers = {history.stream: handled}

    def rules(entry: AccessEntry) -> list[str]:
        return [f.rule for f in audit_access([(ACCESS_STREAM, 1, entry)], dossiers)]

    assert rules(_entry(subject=subject, time_us=after)) == []
    assert rules(_entry(subject=subject, time_us=0)) == ["privacy.access_assignment"]
    assert rules(_entry(subject=subject, reader="officer:x", time_us=after)) == [
        "privacy.access_assignment"
    ]
    assert rules(_entry(subject=subject, agency=OTHER, role="reception")) == [
        "privacy.access_scope"
    ]
    assert rules(_entry(subject=SUBJECT, role="reception")) == ["privacy.access_scope"]
    assert rules(_entry(subject=subject, role="reception", dossier="", purpose="search")) == []
    assert rules(
        _entry(subject=subject, role="reception", agency=OTHER, dossier="", purpose="search")
    ) == ["privacy.access_scope"]
    assert rules(_entry(subject=subject, role="leader", purpose="audit")) == [
        "privacy.access_purpose"
    ]
    assert rules(_entry(subject=subject, role="inspector", agency="X", purpose="audit")) == []


def test_retention_blocks_erasure_until_it_ends() -> None:
    open_case = fold(History().submitted().inputs("TK", "GCS").received().items)
    done = fold(History().happy().items)
    assert [c for c, _ in retention_blockers([open_case, done], now_us=0, retention_us=0)] == [
        open_case.code,
        done.code,
    ]
    refused_history = History().submitted().add("ReceptionRefused", (RECEPTION,), reasons=["x"])
    refused = fold(refused_history.items)
    end = refused_history.clock
    assert retention_blockers([refused], now_us=end + DAY - 1, retention_us=DAY) != []
    assert retention_blockers([refused], now_us=end + DAY, retention_us=DAY) == []
    erasure = (PRIVACY_STREAM, 1, end + 1, refused.applicant)
    findings = audit_erasures([erasure], {refused.applicant: [refused, done]}, retention_us=DAY)
    assert [(f.rule, f.found) for f in findings] == [
        ("privacy.erasure_retention", refused.code),
        ("privacy.erasure_retention", done.code),
    ]
    assert audit_erasures([erasure], {}, retention_us=DAY) == []


def test_formats_doc_quotes_the_privacy_vectors() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "formats.md").read_text()
    section = doc[doc.index("## 9. Personal data") :]
    applicant = VECTORS["commitments"][0]
    for value in (
        applicant["salt_hex"],
        applicant["preimage_hex"],
        applicant["commitment_hex"],
        VECTORS["index_tags"][0]["key_hex"],
        VECTORS["index_tags"][0]["tag_hex"],
    ):
        assert f"`{value}`" in section, value
