"""``hoso witness`` over real HTTP on loopback: every tlog-witness answer, byte for byte,
and the state file unchanged by every refused request."""

from __future__ import annotations

import base64
import hashlib
import threading

import pytest

from ledger.core.checkpoint import verify_cosignatures
from ledger.core.hashing import Hash
from ledger.core.note import Note, NoteSignature, parse_note
from ledger.core.witness import MAX_REQUEST_BYTES_WITH_NOTE
from ledger.witness.server import create_app
from tests.support.toy_log import ToyLog, b64, serving
from tests.witness.conftest import WitnessKit, get, post

pytestmark = pytest.mark.integration


def test_the_protocol_end_to_end(kit: WitnessKit) -> None:
    log = kit.log
    with serving(create_app(kit.witness)) as base:
        url = f"{base}/add-checkpoint"
        first = post(url, log.body(0, 5))
        assert (first.status, first.content_type) == (200, "text/plain; charset=utf-8")
        lines = first.body.decode().split("\n")
        assert lines[-1] == ""
        assert all(line.startswith("— witness.test/w1 ") for line in lines[:-1])
        cosigned = parse_note(log.note(5).serialise() + first.body)
        assert verify_cosignatures(cosigned, [kit.cosigner.verifier]) == {
            "witness.test/w1": 1_767_337_500
        }
        raw = base64.b64decode(lines[0].split(" ")[2])
        assert len(raw) == 4 + 8 + 64  # key id || timestamp || Ed25519 signature
        # from the size it holds, with a proof
        assert post(url, log.body(5, 12)).status == 200
        # the same size again (no proof): cosigned again
        assert post(url, log.body(12, 12)).status == 200
        # a stale old size: 409 with its size, typed text/x.tlog.size exactly
        stale = post(url, log.body(5, 20))
        assert (stale.status, stale.content_type, stale.body) == (409, "text/x.tlog.size", b"12\n")
        # the monitoring endpoint: the checkpoint with the log's signature and the cosignature
        origin_hash = hashlib.sha256(log.origin.encode()).hexdigest()
        latest = get(f"{base}/{origin_hash}/checkpoint")
        assert latest.status == 200
        note = parse_note(latest.body)
        assert note.text == log.note(12).text
        assert [s.name for s in note.signatures] == [log.origin, "witness.test/w1"]
        assert get(f"{base}/{'0' * 64}/checkpoint").status == 404


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def non_canonical(body: bytes) -> bytes:
    """The body with its first proof line's unused padding bits set (decodes the same)."""
    lines = body.split(b"\n")
    line = lines[1].decode()
    last = ALPHABET[ALPHABET.index(line[-2]) | 1]
    lines[1] = (line[:-2] + last + "=").encode()
    assert base64.b64decode(lines[1]) == base64.b64decode(line)
    return b"\n".join(lines)


def refusals(log: ToyLog) -> list[tuple[str, bytes, int]]:
    """(what, body, status) for a witness that holds size 12 of ``log``."""
    line = b64(b"\x01" * 32).encode() + b"\n"
    note12 = log.note(20).serialise()
    stranger = ToyLog("log.test/unknown")
    other_key = ToyLog(key="not the log's key")
    fork = ToyLog()
    fork.tree.extend(Hash(bytes([i]) * 32) for i in range(20))
    forged = Note(
        log.note(20).text,
        (NoteSignature(log.origin, log.key.verifier.key_id, b"\x00" * 64),),
    )
    return [
        ("no blank line", b"old 12\n" + note12.replace(b"\n\n", b"\n"), 400),
        ("leading zero", b"old 012\n\n" + note12, 400),
        ("size past 2^64-1", b"old 18446744073709551616\n\n" + note12, 400),
        ("64 proof lines", b"old 12\n" + line * 64 + b"\n" + note12, 400),
        ("non-canonical base64", non_canonical(log.body(12, 20)), 400),
        ("old past the checkpoint", b"old 21\n\n" + note12, 400),
        ("unknown origin", stranger.body(0, 3), 404),
        ("no trusted signature", other_key.body(12, 20), 403),
        ("a trusted signature that fails", log.body(12, 20, note=forged), 403),
        ("stale old size", log.body(5, 20), 409),
        ("bad proof", fork.body(12, 20), 422),
        ("same size, other root", fork.body(12, 12), 422),
        ("proof from size 0", b"old 0\n" + line + b"\n" + note12, 409),
    ]


@pytest.mark.parametrize("case", range(13))
def test_each_refusal_has_its_status_and_leaves_the_state_alone(kit: WitnessKit, case: int) -> None:
    log = kit.log
    what, body, status = refusals(log)[case]
    with serving(create_app(kit.witness)) as base:
        url = f"{base}/add-checkpoint"
        assert post(url, log.body(0, 12)).status == 200
        before = kit.state_path.read_bytes()
        reply = post(url, body)
        assert reply.status == status, (what, reply.body)
        if status != 409:
            assert (
                reply.body.startswith(b"[witness.")
                or reply.body.startswith(b"[note.")
                or (reply.body.startswith(b"[checkpoint."))
            ), reply.body
        assert kit.state_path.read_bytes() == before, what
        assert kit.witness.state.get(log.origin) is not None
        # and the witness still moves on from where it was
        assert post(url, log.body(12, 20)).status == 200


def test_proof_from_zero_to_a_new_log_is_422(kit: WitnessKit) -> None:
    line = b64(b"\x01" * 32).encode() + b"\n"
    with serving(create_app(kit.witness)) as base:
        reply = post(
            f"{base}/add-checkpoint", b"old 0\n" + line + b"\n" + kit.log.note(3).serialise()
        )
        assert reply.status == 422
        assert not kit.state_path.exists()  # nothing was ever written


def test_an_oversized_body_is_413_and_changes_nothing(kit: WitnessKit) -> None:
    with serving(create_app(kit.witness)) as base:
        url = f"{base}/add-checkpoint"
        assert post(url, kit.log.body(0, 4)).status == 200
        before = kit.state_path.read_bytes()
        huge = b"old 4\n\n" + b"x" * MAX_REQUEST_BYTES_WITH_NOTE
        assert post(url, huge).status == 413
        assert kit.state_path.read_bytes() == before


def test_state_survives_a_restart_and_a_second_process_is_refused(kit: WitnessKit) -> None:
    from ledger.storage.durable import StateFileLocked  # noqa: PLC0415
    from ledger.witness.state import WitnessState  # noqa: PLC0415

    with serving(create_app(kit.witness)) as base:
        assert post(f"{base}/add-checkpoint", kit.log.body(0, 9)).status == 200
    with pytest.raises(StateFileLocked):
        WitnessState(kit.state_path)
    kit.reopen()
    held = kit.witness.state.get(kit.log.origin)
    assert held is not None
    assert held.head.size == 9
    with serving(create_app(kit.witness)) as base:
        stale = post(f"{base}/add-checkpoint", kit.log.body(0, 15))
        assert (stale.status, stale.body) == (409, b"9\n")
        assert post(f"{base}/add-checkpoint", kit.log.body(9, 15)).status == 200


def test_concurrent_requests_never_roll_the_size_back(kit: WitnessKit) -> None:
    """The race the spec warns of: many requests from one old size; exactly one wins."""
    log = kit.log
    with serving(create_app(kit.witness)) as base:
        url = f"{base}/add-checkpoint"
        assert post(url, log.body(0, 8)).status == 200
        statuses: list[int] = []
        bodies = [log.body(8, size) for size in range(9, 17)]

        def send(body: bytes) -> None:
            statuses.append(post(url, body).status)

        threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [200] + [409] * 7
        held = kit.witness.state.get(log.origin)
        assert held is not None
        assert held.head.size > 8
