"""Every system stream by its own schema (ledger.domain.streams.check_stream_event), and
the stream index's fold (what each event does to its stream's index value)."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.encoding import Value
from ledger.core.errors import HosoError
from ledger.core.event import EventBody
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.registry import KEY_REGISTERED, KEY_REVOKED, REGISTRY_STREAM
from ledger.domain import lifecycle as ev
from ledger.domain.privacy import ACCESS_STREAM, DATA_ACCESSED, PRIVACY_STREAM, SUBJECT_ERASED
from ledger.domain.streams import (
    INDEX_COMMITTED,
    INDEX_STREAM,
    STATUS_LIST_MIN,
    STATUS_PUBLISHED,
    IndexCommit,
    StatusPublication,
    WrongStream,
    check_stream_event,
    fold_states,
    index_payload,
    result_changes,
    status_payload,
    status_stream,
)

H = hashlib.sha256(b"x").digest()
ENTRY: dict[str, Value] = {
    "reader": "ward:chuyenvien-01",
    "agency": "000.39.05.H26",
    "role": "handler",
    "subject": H,
    "dossier": "000.39.05.H26-260105-0001",
    "purpose": "processing",
    "time": 1,
}
GOOD: dict[str, tuple[str, dict[str, Value]]] = {
    ACCESS_STREAM: (DATA_ACCESSED, {"queue": [1], "entries": [ENTRY]}),
    PRIVACY_STREAM: (
        SUBJECT_ERASED,
        {"subject": H, "basis": "withdrawn_consent", "request": H, "dossiers": ["D"]},
    ),
    INDEX_STREAM: (INDEX_COMMITTED, index_payload(IndexCommit(5, H, 3))),
    status_stream("000.39.05.H26"): (
        STATUS_PUBLISHED,
        status_payload(StatusPublication("000.39.05.H26", 0, STATUS_LIST_MIN, 1, H)),
    ),
}


def body(stream: str, kind: str, payload: dict[str, Value], n: int = 1) -> EventBody:
    return EventBody(
        origin="test.hoso.example/streams",
        stream=stream,
        n=n,
        prev=GENESIS_PREV,
        type=kind,
        actor="system:x",
        time_us=1,
        payload=payload,
    )


@pytest.mark.parametrize("stream", list(GOOD))
def test_each_system_stream_takes_its_own_type(stream: str) -> None:
    kind, payload = GOOD[stream]
    check_stream_event(body(stream, kind, payload))


OWN = {**{s: {k} for s, (k, _) in GOOD.items()}, REGISTRY_STREAM: {KEY_REGISTERED, KEY_REVOKED}}
KINDS = (
    ev.SUBMITTED,
    ev.RESULT_ISSUED,
    DATA_ACCESSED,
    SUBJECT_ERASED,
    INDEX_COMMITTED,
    STATUS_PUBLISHED,
    KEY_REGISTERED,
)


@pytest.mark.parametrize(
    ("stream", "kind"), [(s, k) for s in OWN for k in KINDS if k not in OWN[s]]
)
def test_another_streams_type_is_stream_type(stream: str, kind: str) -> None:
    with pytest.raises(WrongStream) as caught:
        check_stream_event(body(stream, kind, {}))
    assert caught.value.found == kind


@pytest.mark.parametrize("stream", ["system/other", "system/status/", "system/"])
def test_an_unknown_system_stream_is_refused(stream: str) -> None:
    with pytest.raises(WrongStream):
        check_stream_event(body(stream, DATA_ACCESSED, GOOD[ACCESS_STREAM][1]))


def _malformed() -> list[tuple[str, str, dict[str, Value]]]:
    access = GOOD[ACCESS_STREAM][1]
    erase = GOOD[PRIVACY_STREAM][1]
    commit = GOOD[INDEX_STREAM][1]
    status = next(v for k, v in GOOD.items() if k.startswith("system/status/"))[1]
    bad_entry = {**ENTRY, "purpose": "curiosity"}
    return [
        ("access: no entries", ACCESS_STREAM, {"queue": [], "entries": []}),
        ("access: queue not increasing", ACCESS_STREAM, {"queue": [2, 1], "entries": [ENTRY] * 2}),
        ("access: bad purpose", ACCESS_STREAM, {"queue": [1], "entries": [bad_entry]}),
        ("access: extra field", ACCESS_STREAM, {**access, "note": "x"}),
        ("erasure: short subject", PRIVACY_STREAM, {**erase, "subject": b"x"}),
        ("erasure: unknown basis", PRIVACY_STREAM, {**erase, "basis": "because"}),
        ("commit: short root", INDEX_STREAM, {**commit, "root": b"x"}),
        ("commit: negative size", INDEX_STREAM, {**commit, "tree_size": -1}),
        ("commit: no streams", INDEX_STREAM, {"root": H, "tree_size": 1}),
        ("status: small list", "system/status/000.39.05.H26", {**status, "size": 8}),
        ("status: short digest", "system/status/000.39.05.H26", {**status, "digest": b"x"}),
    ]


@pytest.mark.parametrize(("name", "stream", "payload"), _malformed(), ids=lambda v: str(v)[:40])
def test_a_malformed_payload_is_domain_payload(
    name: str, stream: str, payload: dict[str, Value]
) -> None:
    kind = next(
        k
        for s, (k, _) in GOOD.items()
        if s == stream or (stream.startswith("system/status/") and s.startswith("system/status/"))
    )
    with pytest.raises(HosoError) as caught:
        check_stream_event(body(stream, kind, payload))
    assert caught.value.check == "domain.payload", name


def test_dossier_streams_are_left_to_the_lifecycle() -> None:
    check_stream_event(body("000.39.05.H26-260105-0001", "AnythingAtAll", {}))


def test_the_fold_follows_results_through_issue_revocation_and_correction() -> None:
    d = "000.39.05.H26-260105-0001"

    def event(n: int, kind: str, payload: dict[str, Value]) -> tuple[EventBody, bytes]:
        return body(d, kind, payload, n), hashlib.sha256(f"{n}".encode()).digest()

    events = [
        event(1, ev.SUBMITTED, {}),
        event(2, ev.RESULT_ISSUED, {"result_number": "KS-1"}),
        event(3, ev.RESULT_ISSUED, {"result_number": "KS-2"}),
        event(4, ev.REVOKED, {"result_number": "KS-1"}),
        event(5, ev.CORRECTED, {"result_number": "KS-2a", "supersedes": "KS-2"}),
    ]
    state = fold_states(events)[d]
    assert (state.n, state.head) == (5, EventHash(events[-1][1]))
    assert {(r.number, r.status, r.n) for r in state.results} == {
        ("KS-1", "revoked", 4),
        ("KS-2", "superseded", 5),
        ("KS-2a", "valid", 5),
    }
    assert result_changes(ev.SUBMITTED, {"result_number": "X"}, 1) == ()
    # a fold in two parts (the index is built incrementally) equals the fold in one
    assert fold_states(events[3:], fold_states(events[:3])) == fold_states(events)
