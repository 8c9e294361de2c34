"""The tlog-witness add-checkpoint body and a witness's checks (ledger.core.witness), pure:
every step's failure has its class, checked in the spec's order."""

from __future__ import annotations

import base64
import struct

import pytest

from ledger.core.checkpoint import Checkpoint, CosignatureVerifier, cosignature_message
from ledger.core.errors import MalformedCheckpoint, MalformedKey, MalformedNote
from ledger.core.hashing import EMPTY_ROOT, Hash
from ledger.core.note import Note, NoteSignature, format_vkey
from ledger.core.witness import (
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES_WITH_NOTE,
    MalformedWitnessRequest,
    TreeHead,
    WitnessInconsistent,
    WitnessLogSignature,
    WitnessOldPastCheckpoint,
    WitnessSizeConflict,
    check_add_checkpoint,
    format_add_checkpoint,
    format_size,
    parse_add_checkpoint,
    parse_log_vkey,
    parse_size,
)
from tests.support.toy_log import ToyLog, b64, signer


@pytest.fixture
def log() -> ToyLog:
    return ToyLog()


def head(log: ToyLog, size: int) -> TreeHead:
    log.grow(size)
    return TreeHead(size=size, root=log.tree.root(size) if size else EMPTY_ROOT)


def test_body_round_trip_is_byte_exact(log: ToyLog) -> None:
    body = log.body(5, 12)
    request = parse_add_checkpoint(body)
    assert (request.old_size, request.checkpoint.size) == (5, 12)
    assert list(request.proof) == log.proof(5, 12)
    assert request.serialise() == body
    assert body.startswith(b"old 5\n")
    assert b"\n\nlog.test/toy\n12\n" in body
    assert format_add_checkpoint(old_size=0, proof=[], note=log.note(3)).startswith(b"old 0\n\n")


@pytest.mark.parametrize(
    "head_lines",
    [
        b"old 01",  # leading zero
        b"old -1",
        b"old 18446744073709551616",  # 2^64
        b"old  5",
        b"old 5 ",
        b"new 5",
        b"old",
        b"old 5\nAAAA",  # not a 32-byte hash
        b"old 5\n" + base64.b64encode(b"\x00" * 32)[:-1] + b"B",  # non-canonical padding bits
        b"old 5\n" + base64.b64encode(b"\x00" * 32).rstrip(b"="),  # padding dropped
        b"old 5\n" + b"#" * 44,
        b"old 5\n\xc3\xa9",
    ],
)
def test_malformed_head_lines(log: ToyLog, head_lines: bytes) -> None:
    with pytest.raises(MalformedWitnessRequest):
        parse_add_checkpoint(head_lines + b"\n\n" + log.note(12).serialise())


def test_at_most_63_proof_lines(log: ToyLog) -> None:
    line = b64(b"\x01" * 32).encode() + b"\n"
    note = log.note(12).serialise()
    assert len(parse_add_checkpoint(b"old 5\n" + line * 63 + b"\n" + note).proof) == 63
    with pytest.raises(MalformedWitnessRequest, match="64 consistency proof lines"):
        parse_add_checkpoint(b"old 5\n" + line * 64 + b"\n" + note)
    with pytest.raises(MalformedWitnessRequest):
        format_add_checkpoint(old_size=5, proof=[b"\x01" * 32] * 64, note=log.note(12))
    assert MAX_PROOF_LINES == 63


def test_no_blank_line_bad_note_and_oversized(log: ToyLog) -> None:
    with pytest.raises(MalformedWitnessRequest):
        parse_add_checkpoint(b"old 0\nlog.test/toy\n1\n")
    with pytest.raises(MalformedNote):
        parse_add_checkpoint(b"old 0\n\nlog.test/toy\n1\nAAAA\n\n- not a signature\n")
    bad = Note("log.test/toy\n01\n" + b64(EMPTY_ROOT) + "\n", log.note(1).signatures)
    with pytest.raises(MalformedCheckpoint):
        parse_add_checkpoint(b"old 0\n\n" + bad.serialise())
    with pytest.raises(MalformedWitnessRequest, match="over"):
        parse_add_checkpoint(b"old 0\n\n" + b"x" * MAX_REQUEST_BYTES_WITH_NOTE)


def test_extension_lines_are_kept_and_must_be_non_empty(log: ToyLog) -> None:
    text = log.checkpoint(4).text() + "ext line\n"
    note = Note(text, (log.key.sign(text),))
    request = parse_add_checkpoint(b"old 0\n\n" + note.serialise())
    assert request.note.text == text
    assert check_add_checkpoint(request, log_keys=[log.key.verifier], latest=None).size == 4
    hole = log.checkpoint(4).text() + "\nafter a hole\n"
    with pytest.raises(MalformedCheckpoint):
        parse_add_checkpoint(b"old 0\n\n" + Note(hole, (log.key.sign(hole),)).serialise())


def test_checks_in_order(log: ToyLog) -> None:
    keys = [log.key.verifier]
    ok = parse_add_checkpoint(log.body(5, 12))
    assert check_add_checkpoint(ok, log_keys=keys, latest=head(log, 5)) == head(log, 12)
    # 403: a stranger's key, or a trusted key's signature that fails
    other = ToyLog(key="another key")
    with pytest.raises(WitnessLogSignature):
        check_add_checkpoint(ok, log_keys=[other.key.verifier], latest=head(log, 5))
    forged = Note(ok.note.text, (NoteSignature(log.origin, log.key.verifier.key_id, b"\0" * 64),))
    with pytest.raises(WitnessLogSignature):
        check_add_checkpoint(
            parse_add_checkpoint(log.body(5, 12, note=forged)), log_keys=keys, latest=head(log, 5)
        )
    # 400: old past the checkpoint, before the size check
    past = parse_add_checkpoint(b"old 13\n\n" + log.note(12).serialise())
    with pytest.raises(WitnessOldPastCheckpoint):
        check_add_checkpoint(past, log_keys=keys, latest=head(log, 13))
    # 409: old is not what the witness holds
    with pytest.raises(WitnessSizeConflict) as conflict:
        check_add_checkpoint(ok, log_keys=keys, latest=head(log, 7))
    assert conflict.value.size == 7
    with pytest.raises(WitnessSizeConflict) as never:
        check_add_checkpoint(ok, log_keys=keys, latest=None)
    assert never.value.size == 0


def test_inconsistent_cases(log: ToyLog) -> None:
    keys = [log.key.verifier]
    fork = ToyLog()
    fork.tree.extend(Hash(bytes([i]) * 32) for i in range(12))  # other leaves, same key
    forked = parse_add_checkpoint(fork.body(5, 12))
    with pytest.raises(WitnessInconsistent):
        check_add_checkpoint(forked, log_keys=keys, latest=head(log, 5))
    wrong_length = parse_add_checkpoint(
        log.body(5, 12).replace(b"old 5\n", b"old 5\n" + b64(b"\0" * 32).encode() + b"\n", 1)
    )
    with pytest.raises(WitnessInconsistent):
        check_add_checkpoint(wrong_length, log_keys=keys, latest=head(log, 5))
    proof_from_zero = parse_add_checkpoint(
        b"old 0\n" + b64(b"\0" * 32).encode() + b"\n\n" + log.note(3).serialise()
    )
    with pytest.raises(WitnessInconsistent, match="no proof"):
        check_add_checkpoint(proof_from_zero, log_keys=keys, latest=None)
    same_size = parse_add_checkpoint(fork.body(12, 12))
    with pytest.raises(WitnessInconsistent):
        check_add_checkpoint(same_size, log_keys=keys, latest=head(log, 12))
    empty = Checkpoint(origin=log.origin, size=0, root=Hash(b"\x07" * 32))
    text = empty.text()
    bad_empty = parse_add_checkpoint(b"old 0\n\n" + Note(text, (log.key.sign(text),)).serialise())
    with pytest.raises(WitnessInconsistent, match="empty root"):
        check_add_checkpoint(bad_empty, log_keys=keys, latest=None)
    good_empty = parse_add_checkpoint(b"old 0\n\n" + log.note(0).serialise())
    assert check_add_checkpoint(good_empty, log_keys=keys, latest=None).root == EMPTY_ROOT
    again = parse_add_checkpoint(log.body(12, 12))
    assert check_add_checkpoint(again, log_keys=keys, latest=head(log, 12)).size == 12


def test_a_cosignature_type_log_key_and_a_timestamp_past_2_63(log: ToyLog) -> None:
    """A log may sign its checkpoint as a timestamped cosignature (0x04); a timestamp past
    2^63-1 makes that signature fail to verify: 403, as for any bad trusted signature."""
    key = signer("cosigning log")
    verifier = CosignatureVerifier(log.origin, key.public_key)
    parsed = parse_log_vkey(format_vkey(log.origin, 0x04, key.public_key))
    assert parsed == verifier
    text = log.checkpoint(4).text()

    def signed(timestamp: int) -> bytes:
        raw = key.sign(cosignature_message(text, timestamp))
        sig = NoteSignature(log.origin, verifier.key_id, struct.pack(">Q", timestamp) + raw)
        return b"old 0\n\n" + Note(text, (sig,)).serialise()

    fine = parse_add_checkpoint(signed(1_700_000_000))
    assert check_add_checkpoint(fine, log_keys=[verifier], latest=None).size == 4
    overflow = parse_add_checkpoint(signed(2**63))
    with pytest.raises(WitnessLogSignature):
        check_add_checkpoint(overflow, log_keys=[verifier], latest=None)
    with pytest.raises(MalformedKey):
        parse_log_vkey(format_vkey(log.origin, 0x02, key.public_key))


def test_size_body() -> None:
    assert format_size(0) == b"0\n"
    assert parse_size(b"12345\n") == 12345
    for bad in (b"12", b"012\n", b"-1\n", b"1 \n", b"18446744073709551616\n"):
        with pytest.raises(MalformedWitnessRequest):
            parse_size(bad)
