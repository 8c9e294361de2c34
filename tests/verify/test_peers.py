"""Two logs: a transfer on one names an entry of the other by (origin, index, event
hash), checked against the other log's tiles alone; a several-log trust file."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from ledger.core import merkle, tiles
from ledger.core.checkpoint import Checkpoint, sign_checkpoint
from ledger.core.encoding import Value
from ledger.core.event import EventBody, SignedEvent, sign_event
from ledger.core.hashing import GENESIS_PREV, leaf_hash
from ledger.core.note import Ed25519NoteSigner, format_vkey
from ledger.core.signing import Signer
from ledger.domain import lifecycle as ev
from tests.verify.minimal import DOSSIER, clean_ledger
from verify.findings import Findings
from verify.peers import Peer, Reference, check_references, references
from verify.source import LogEntry
from verify.trust import parse_trust, parse_trust_set

OTHER = "hoso.example/province-b"
OTHER_LOG = Ed25519NoteSigner(OTHER, Signer(hashlib.sha256(b"province b log").digest()))
OTHER_AUTHORITY = Signer(hashlib.sha256(b"province b authority").digest())


def other_log(size: int) -> list[SignedEvent]:
    officer = Signer(hashlib.sha256(b"province b officer").digest())
    events, prev = [], GENESIS_PREV
    for n in range(1, size + 1):
        body = EventBody(
            origin=OTHER,
            stream="000.11.22.H27-260303-0001",
            n=n,
            prev=prev,
            type="StepCompleted",
            actor="ward-b:chuyenvien",
            time_us=1_772_500_000_000_000 + n,
            payload={"step": f"s{n}"},
        )
        event = sign_event(body, [officer])
        events.append(event)
        prev = event.event_hash
    return events


def peer(events: list[SignedEvent]) -> Peer:
    records = [e.record for e in events]
    size = len(records)
    leaves = [leaf_hash(r) for r in records]
    checkpoint = Checkpoint(origin=OTHER, size=size, root=merkle.root_from_leaves(leaves))
    files = {"checkpoint": sign_checkpoint(checkpoint, OTHER_LOG).serialise()}
    for tile in tiles.tiles_of(size):
        span = 256**tile.level
        files[tile.path()] = b"".join(
            merkle.root_from_leaves(leaves[(tile.index * 256 + i) * span :][:span])
            for i in range(tile.width)
        )
    for bundle in tiles.bundles_of(size):
        files[bundle.path()] = tiles.encode_bundle(records[bundle.index * 256 :][: bundle.width])
    trust = parse_trust(f"origin {OTHER}\nlog {OTHER_LOG.verifier.vkey}\n{authority_line()}\n")
    return Peer(files.__getitem__, trust)


def authority_line() -> str:
    return f"authority {format_vkey(OTHER + '/authority', 0x01, OTHER_AUTHORITY.public_key)}"


def transfer_to(index: int, digest: bytes) -> list[LogEntry]:
    """The minimal ledger, then a transfer of its dossier naming the other log's entry."""
    ledger = clean_ledger()
    ledger.add(
        DOSSIER,
        ev.TRANSFERRED,
        "ward:tiepnhan-01",
        {
            "to_agency": "000.11.22.H27",
            "step": "tham-dinh",
            "allowance_hours": 16,
            "ref_origin": OTHER,
            "ref_index": index,
            "ref_event_hash": digest,
        },
        [ledger.keys.reception],
    )
    return ledger.entries


def test_a_reference_the_other_log_holds() -> None:
    events = other_log(300)  # two bundles: the entry is in the partial one
    refs = references(transfer_to(260, events[260].event_hash))
    assert [(r.origin, r.index) for r in refs] == [(OTHER, 260)]
    findings = Findings()
    report = check_references(refs, {OTHER: peer(events)}, findings)
    assert report.checked == 1
    assert not findings.counts


@pytest.mark.parametrize(
    ("index", "which"), [(5, 6), (300, 0)], ids=["another entry's hash", "past the tree"]
)
def test_a_reference_it_does_not_hold(index: int, which: int) -> None:
    events = other_log(300)
    refs = references(transfer_to(index, events[which].event_hash))
    findings = Findings()
    check_references(refs, {OTHER: peer(events)}, findings)
    assert dict(findings.counts) == {"transfer.reference": 1}


def test_a_tampered_peer_and_an_unknown_one() -> None:
    events = other_log(10)
    refs = references(transfer_to(3, events[3].event_hash))
    good = peer(events)
    files = {p: good.fetch(p) for p in ("checkpoint", "tile/0/000.p/10")}
    forged = bytearray(good.fetch("tile/entries/000.p/10"))
    forged[-3] ^= 1
    files["tile/entries/000.p/10"] = bytes(forged)
    findings = Findings()
    check_references(refs, {OTHER: replace(good, fetch=files.__getitem__)}, findings)
    assert dict(findings.counts) == {"tiles.mismatch": 1}
    report = check_references(refs, {}, Findings())
    assert (report.checked, report.unchecked) == (0, {OTHER: 1})
    assert references([LogEntry(b"\xc1")]) == []
    assert isinstance(refs[0], Reference)


def test_a_trust_file_for_several_logs() -> None:
    ledger = clean_ledger()
    mine = ledger.trust_text().replace("min-witnesses 1\n", "")
    text = (
        "# shared by every log\nmin-witnesses 0\n"
        + mine
        + f"origin {OTHER}\nlog {OTHER_LOG.verifier.vkey}\n{authority_line()}\n"
    )
    logs = parse_trust_set(text)
    assert set(logs) == {ledger.trust().origin, OTHER}
    assert logs[OTHER].log_keys == (OTHER_LOG.verifier,)
    assert logs[ledger.trust().origin].witnesses  # its own witness lines
    assert parse_trust_set(ledger.trust_text()) == {ledger.trust().origin: ledger.trust()}
    with pytest.raises(Exception, match=r"trust\.syntax"):
        parse_trust_set(
            text + f"origin {OTHER}\nlog {OTHER_LOG.verifier.vkey}\n{authority_line()}\n"
        )


def test_a_partial_reference_is_malformed() -> None:
    from ledger.domain.payloads import MalformedPayload, check_payload  # noqa: PLC0415

    base: dict[str, Value] = {"to_agency": "000.11.22.H27", "step": "x", "allowance_hours": 1}
    check_payload(ev.TRANSFERRED, base, where="t")
    full: dict[str, Value] = {
        **base,
        "ref_origin": OTHER,
        "ref_index": 3,
        "ref_event_hash": bytes(32),
    }
    check_payload(ev.TRANSFERRED, full, where="t")
    with pytest.raises(MalformedPayload):
        check_payload(ev.TRANSFERRED, {**base, "ref_origin": OTHER, "ref_index": 3}, where="t")
