"""The tamper suite: build a ledger, change it one way, and the verifier names the check.

Every mutation works on the raw rows with SQL, as an attacker with database
access would, so no check of the store stands in the way. Each asserts the
specific check id it must trip; a clean ledger gives no integrity finding and
exactly the demo scenarios' planted rule findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from ledger.core.checkpoint import Checkpoint, parse_checkpoint_text, sign_checkpoint
from ledger.core.event import EventSignature, SignedEvent, parse_record, sign_event
from ledger.core.note import parse_note
from ledger.core.registry import KEY_REVOKED, REGISTRY_STREAM, key_revoked
from ledger.demo.generate import AUTHORITY_ACTOR
from tests.support.tamperable import Tamperable, continue_stream
from verify.findings import EXIT_INTEGRITY, EXIT_VERIFIED

pytestmark = pytest.mark.integration

PLANTED = Counter(
    {"rule.late_without_apology": 2, "rule.handover_late": 2, "rule.paper_copy_without_basis": 2}
)
"""The demo scenarios' planted findings, twice (18 dossiers = two rounds of nine)."""


def integrity(t: Tamperable) -> Counter[str]:
    report = t.verify()
    families = report.findings.families
    return Counter({c: n for c, n in report.findings.counts.items() if families[c] != "rule"})


def test_clean_ledger_has_no_integrity_finding_and_the_planted_rule_findings(
    tamperable: Tamperable,
) -> None:
    report = tamperable.verify(workers=2)
    assert report.records == tamperable.ledger.events
    assert report.findings.total("integrity") == 0
    assert report.findings.total("malformed") == 0
    assert Counter(report.findings.counts) == PLANTED
    assert report.exit_code() == EXIT_VERIFIED
    assert report.exit_code(strict=True) == EXIT_INTEGRITY
    assert [a.checkpoint.size for a in report.checkpoints] == list(
        tamperable.ledger.checkpoint_sizes
    )
    assert all(a.witnesses for a in report.checkpoints)


# --- mutations ---------------------------------------------------------------------


def flip_byte(t: Tamperable) -> None:
    code = t.ledger.codes[0]
    record = t.raw.record(code, 2)  # an InputDigitized: its payload says "scanned"
    assert b"scanned" in record
    t.raw.set_record(code, 2, record.replace(b"scanned", b"scannee"))


def delete_event(t: Tamperable) -> None:
    t.raw.run(
        "DELETE FROM hoso_events WHERE originator_id = %s AND originator_version = 3",
        [t.ledger.codes[0]],
    )


def delete_last_event(t: Tamperable) -> None:
    code = t.ledger.codes[0]
    head = t.raw.head(code)
    t.raw.run(
        "DELETE FROM hoso_events WHERE originator_id = %s AND originator_version = %s",
        [code, head.body.n],
    )


def delete_dossier(t: Tamperable) -> None:
    t.raw.run("DELETE FROM hoso_events WHERE originator_id = %s", [t.ledger.codes[3]])


def reorder(t: Tamperable) -> None:
    code = t.ledger.codes[0]
    second, third = t.raw.record(code, 2), t.raw.record(code, 3)
    t.raw.set_record(code, 2, third)
    t.raw.set_record(code, 3, second)


def swap_signature(t: Tamperable) -> None:
    code = t.ledger.codes[0]
    event, other = parse_record(t.raw.record(code, 2)), parse_record(t.raw.record(code, 3))
    assert event.key_ids == other.key_ids  # both by the reception officer
    forged = SignedEvent(
        event.body, (EventSignature(other.key_ids[0], other.signatures[0].signature),)
    )
    t.raw.set_record(code, 2, forged.record)


def replay_into_other_dossier(t: Tamperable) -> None:
    record = parse_record(t.raw.record(t.ledger.codes[0], 2))
    target = t.ledger.codes[1]
    t.raw.insert(record, stream=target, n=t.raw.head(target).body.n + 1)


def revoked_key(t: Tamperable) -> None:
    keys = t.ledger.keys()
    officer = keys.people["ward.reception"]
    registry_head = t.raw.head(REGISTRY_STREAM)
    revocation = continue_stream(
        registry_head,
        kind=KEY_REVOKED,
        actor=AUTHORITY_ACTOR,
        signers=[keys.authority],
        payload=key_revoked(officer.key_id, reason="lost token"),
    )
    t.raw.insert(revocation)
    head = t.raw.head(t.ledger.codes[0])
    t.raw.insert(
        continue_stream(
            head,
            kind="PaperCopyIssued",
            actor=t.ledger.people["ward.reception"].actor,
            signers=[officer],
            payload={"result_number": "KS-0000", "basis": "citizen_request"},
        )
    )


def wrong_role_key(t: Tamperable) -> None:
    keys = t.ledger.keys()
    head = t.raw.head(t.ledger.codes[0])
    t.raw.insert(
        continue_stream(
            head,
            kind="ResultRevoked",  # needs a leader; signed by the reception officer
            actor=t.ledger.people["ward.reception"].actor,
            signers=[keys.people["ward.reception"], keys.people["ward.seal"]],
            payload={"result_number": "KS-0000", "decision_ref": "QĐ-1", "reason": "x"},
        )
    )


def backdate(t: Tamperable) -> None:
    keys = t.ledger.keys()
    head = t.raw.head(t.ledger.codes[0])
    t.raw.insert(
        continue_stream(
            head,
            kind="PaperCopyIssued",
            actor=t.ledger.people["ward.reception"].actor,
            signers=[keys.people["ward.reception"]],
            time_us=head.body.time_us - 86_400_000_000,
            payload={"result_number": "KS-0000", "basis": "citizen_request"},
        )
    )


def truncate_log(t: Tamperable) -> None:
    last = t.raw.run(t.raw.last_query)[0][0]
    t.raw.run(t.raw.truncate_query, [int(last) - 5])


def rewrite_checkpoint(t: Tamperable) -> None:
    size = t.ledger.checkpoint_sizes[-1]
    note = bytes(t.raw.run("SELECT note FROM hoso_checkpoints WHERE size = %s", [size])[0][0])
    root_line = note.decode().split("\n")[2]
    forged = note.replace(root_line.encode(), b"A" * 43 + b"=")
    t.raw.run("UPDATE hoso_checkpoints SET note = %s WHERE size = %s", [forged, size])


def fork_tree(t: Tamperable) -> None:
    """The log key signs a second checkpoint of the same size with another root (a split
    view), which the inspector obtained elsewhere (e.g. from a citizen's bundle)."""
    size = t.ledger.checkpoint_sizes[-1]
    note = parse_note(
        bytes(t.raw.run("SELECT note FROM hoso_checkpoints WHERE size = %s", [size])[0][0])
    )
    honest = parse_checkpoint_text(note.text)
    other = Checkpoint(origin=honest.origin, size=size, root=bytes(32))  # type: ignore[arg-type]
    t.extra_notes.append(sign_checkpoint(other, t.ledger.keys().log).serialise())


MUTATIONS: dict[str, tuple[Callable[[Tamperable], None], str]] = {
    "flip a byte in an event": (flip_byte, "signature.invalid"),
    "delete an event": (delete_event, "chain.position"),
    "delete a dossier's last event": (delete_last_event, "merkle.root"),
    "delete a whole dossier": (delete_dossier, "merkle.root"),
    "reorder two events": (reorder, "chain.position"),
    "swap a signature": (swap_signature, "signature.invalid"),
    "replay an event into another dossier": (replay_into_other_dossier, "chain.position"),
    "sign with a revoked key": (revoked_key, "key.invalid_at_position"),
    "sign with a wrong-role key": (wrong_role_key, "signature.role"),
    "backdate an event": (backdate, "chain.time"),
    "truncate the log behind a signed checkpoint": (truncate_log, "log.truncated"),
    "rewrite a checkpoint": (rewrite_checkpoint, "note.signature"),
    "fork the tree": (fork_tree, "checkpoint.fork"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_mutation_is_caught_with_its_check_id(tamperable: Tamperable, name: str) -> None:
    mutate, check = MUTATIONS[name]
    mutate(tamperable)
    report = tamperable.verify()
    found = integrity(tamperable)
    assert check in found, f"{name}: expected {check}, found {dict(found)}"
    assert report.exit_code() == EXIT_INTEGRITY
    first = next(f for f in report.findings.kept if f.check == check)
    assert first.detail


def test_flipped_byte_is_also_caught_by_the_index_and_the_tree(tamperable: Tamperable) -> None:
    flip_byte(tamperable)
    found = integrity(tamperable)
    assert {"signature.invalid", "event.hash", "merkle.root"} <= set(found)


def test_replayed_event_is_also_a_row_mismatch(tamperable: Tamperable) -> None:
    replay_into_other_dossier(tamperable)
    finding = next(f for f in tamperable.verify().findings.kept if f.check == "log.row")
    assert tamperable.ledger.codes[0] in (finding.expected or "")
    assert tamperable.ledger.codes[1] in (finding.found or "")


def test_non_canonical_record_is_malformed_exit_2(tamperable: Tamperable) -> None:
    code = tamperable.ledger.codes[0]
    tamperable.raw.set_record(code, 1, tamperable.raw.record(code, 1) + b"\x00")
    report = tamperable.verify()
    assert "encoding.canonical" in report.findings.counts
    assert report.exit_code() == 2


def test_registry_event_signed_by_a_registered_key_is_refused(tamperable: Tamperable) -> None:
    keys = tamperable.ledger.keys()
    head = tamperable.raw.head(REGISTRY_STREAM)
    body = continue_stream(
        head,
        kind=KEY_REVOKED,
        actor="ward:lanhdao-01",
        signers=[keys.people["ward.leader"]],
        payload=key_revoked(keys.people["ward.seal"].key_id, reason="not an authority"),
    ).body
    tamperable.raw.insert(sign_event(body, [keys.people["ward.leader"]]))
    assert "signature.unknown_key" in integrity(tamperable)
