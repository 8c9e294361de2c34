"""Steps 5–7 in detail: recomputed roots against signed checkpoints, the checkpoints
themselves, and witness cosignatures (``verify/anchors.py``).

The clean minimal ledger has checkpoints of size 4 and 9, both cosigned by its one
trusted witness, and trust roots that want one cosignature on the latest; each
test changes one thing about that and pins the findings (check, step, ``where``,
expected/found).
"""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.checkpoint import Checkpoint, Cosigner, sign_checkpoint
from ledger.core.hashing import EMPTY_ROOT, Hash
from ledger.core.note import Note, NoteSignature
from ledger.core.signing import Signer
from tests.verify.minimal import (
    ORIGIN,
    REGISTRY_LEAVES,
    WITNESS_NAME,
    Expect,
    assert_findings,
    clean_ledger,
    digest,
    other_log_key,
    tampered_cosignature,
    verify,
)

LATEST = 9


def second_witness() -> Cosigner:
    return Cosigner(
        "witness.test.hoso.example/w2",
        Signer(hashlib.sha256(b"hoso minimal ledger: second witness").digest()),
    )


# --- step 5: roots ---------------------------------------------------------------------------


def test_a_signed_root_at_a_size_no_other_checkpoint_has_is_compared_too() -> None:
    """The log key signed a wrong root at size 6 (between the honest 4 and 9): the root
    recomputed over the first six records differs, and that is all (no fork: one note
    of that size)."""
    ledger = clean_ledger()
    wrong = Hash(digest("not the tree of six records"))
    honest = ledger.root(6)
    ledger.extra_notes.append(
        sign_checkpoint(Checkpoint(origin=ORIGIN, size=6, root=wrong), ledger.keys.log).serialise()
    )
    assert_findings(
        verify(ledger),
        [
            Expect(
                "merkle.root",
                5,
                "integrity",
                where="checkpoint of size 6",
                expected=wrong.hex(),
                found=honest.hex(),
            )
        ],
    )


def test_the_empty_trees_checkpoint_is_compared_with_the_empty_root() -> None:
    """A checkpoint of size 0 with the empty root (SHA-256 of nothing) is fine; one of
    size 0 with another root is ``merkle.root`` at size 0."""
    ledger = clean_ledger()
    ledger.checkpoint_sizes.insert(0, 0)
    assert ledger.root(0) == EMPTY_ROOT
    assert_findings(verify(ledger), [])
    wrong = Hash(digest("an empty tree with leaves"))
    ledger.checkpoint_sizes.remove(0)
    ledger.extra_notes.append(
        sign_checkpoint(Checkpoint(origin=ORIGIN, size=0, root=wrong), ledger.keys.log).serialise()
    )
    assert_findings(
        verify(ledger),
        [
            Expect(
                "merkle.root",
                5,
                "integrity",
                where="checkpoint of size 0",
                expected=wrong.hex(),
                found=EMPTY_ROOT.hex(),
            )
        ],
    )


def test_records_after_the_latest_checkpoint_are_no_finding() -> None:
    """The log may run ahead of its checkpoints (records not yet checkpointed): only a log
    *shorter* than a checkpoint is ``log.truncated``."""
    ledger = clean_ledger()
    ledger.sign_latest = False  # only the size-4 checkpoint; the log holds 9 records
    report = verify(ledger)
    assert_findings(report, [])
    assert [a.checkpoint.size for a in report.checkpoints] == [REGISTRY_LEAVES]


def test_a_log_truncated_behind_two_checkpoints_names_each() -> None:
    """Checkpoints of size 10 and 11 are signed; the stored log holds 9: one ``log.truncated``
    per checkpoint it falls short of, the size-4 and size-9 roots still compared (equal)."""
    ledger = clean_ledger()
    ledger.checkpoint_sizes.append(LATEST)
    ledger.sign_latest = False
    for reason in ("first", "second"):
        ledger.append(ledger.withdrawal_requested(reason=reason))
        ledger.extra_notes.append(ledger.signed(ledger.size).serialise())
    del ledger.entries[LATEST:]
    assert_findings(
        verify(ledger),
        [
            Expect(
                "log.truncated",
                5,
                "integrity",
                where=f"checkpoint of size {size}",
                expected=str(size),
                found=str(LATEST),
            )
            for size in (10, 11)
        ],
    )


# --- step 6: checkpoints -------------------------------------------------------------------------


def test_when_no_note_verifies_each_is_named_and_nothing_anchors() -> None:
    """The only stored note is signed by a log key the trust roots don't hold:
    ``note.unsigned`` for it, and ``checkpoint.missing`` for the ledger."""
    ledger = clean_ledger()
    ledger.checkpoint_sizes.clear()
    ledger.sign_latest = False
    other = other_log_key()
    checkpoint = Checkpoint(origin=ORIGIN, size=LATEST, root=ledger.root())
    ledger.extra_notes.append(sign_checkpoint(checkpoint, other).serialise())
    assert_findings(
        verify(ledger),
        [
            Expect("note.unsigned", 6, "integrity", where="checkpoint 0"),
            Expect("checkpoint.missing", 6, "integrity", expected=repr(ORIGIN)),
        ],
    )


def test_a_note_signed_by_the_log_key_and_an_unknown_key_verifies() -> None:
    """Signature lines of unknown keys are ignored (C2SP signed-note): a stored note that
    also carries another key's signature is no finding."""
    ledger = clean_ledger()
    note = ledger.signed(LATEST)
    extra = other_log_key().sign(note.text)
    ledger.extra_notes.append(note.with_signatures([extra]).serialise())
    assert_findings(verify(ledger), [])


def test_the_same_checkpoint_obtained_twice_is_no_fork() -> None:
    """A ``--checkpoint`` note equal to a stored one (same size, root and cosignature)
    agrees with it: no fork, nothing missing."""
    ledger = clean_ledger()
    ledger.extra_notes.append(ledger.signed(LATEST).serialise())
    report = verify(ledger)
    assert_findings(report, [])
    assert [a.checkpoint.size for a in report.checkpoints] == [REGISTRY_LEAVES, LATEST, LATEST]


def test_an_uncosigned_copy_of_the_latest_checkpoint_does_not_hide_its_cosignature() -> None:
    """The stored latest checkpoint is cosigned; the inspector also passes the same
    checkpoint as published, signed by the log only. Nothing is wrong with the ledger."""
    ledger = clean_ledger()
    ledger.extra_notes.append(ledger.signed(LATEST, cosigned=False).serialise())
    assert_findings(verify(ledger), [])


def test_an_uncosigned_copy_read_first_leaves_the_cosigned_one_latest() -> None:
    """The same two notes the other way round verify clean: the verdict above depends only
    on the order the notes are read in."""
    ledger = clean_ledger()
    ledger.sign_latest = False
    ledger.extra_notes += [
        ledger.signed(LATEST, cosigned=False).serialise(),
        ledger.signed(LATEST).serialise(),
    ]
    assert_findings(verify(ledger), [])


@pytest.mark.parametrize(
    ("note", "check"),
    [
        (b"", "note.syntax"),
        (b"\xff\xfe not UTF-8\n\n", "note.syntax"),
        ("hoso\n\n\u2014 hoso AAAA\n".encode(), "note.syntax"),
    ],
    ids=["empty", "not UTF-8", "short signature"],
)
def test_unparseable_notes_are_malformed_at_their_index(note: bytes, check: str) -> None:
    """Each unreadable stored note is ``note.syntax`` (malformed), named by its index among
    the notes; the valid ones still anchor the log."""
    ledger = clean_ledger()
    ledger.extra_notes.append(note)
    report = verify(ledger)
    assert [
        (f.check, f.step, f.family, f.where and f.where.split(" / ")[0])
        for f in report.findings.kept
    ] == [(check, 6, "malformed", "checkpoint 2")]
    assert [a.checkpoint.size for a in report.checkpoints] == [REGISTRY_LEAVES, LATEST]
    assert report.exit_code() == 2


# --- step 7: cosignatures -------------------------------------------------------------------


def test_the_only_cosignature_on_the_latest_failing_is_invalid_and_missing() -> None:
    """The latest checkpoint's one witness line doesn't verify: ``cosignature.invalid`` for
    it and, as no valid one is left, ``cosignature.missing``."""
    ledger = clean_ledger()
    ledger.sign_latest = False
    note, timestamp = tampered_cosignature(ledger, LATEST)
    ledger.extra_notes.append(note.serialise())
    assert_findings(
        verify(ledger),
        [
            Expect(
                "cosignature.invalid",
                7,
                "integrity",
                where=f"checkpoint of size {LATEST} / witness {WITNESS_NAME} at time {timestamp}",
            ),
            Expect(
                "cosignature.missing",
                7,
                "integrity",
                where=f"size {LATEST}",
                expected=repr(">= 1"),
                found="0",
            ),
        ],
    )


def test_fewer_cosignatures_than_min_witnesses_is_missing_with_the_count() -> None:
    """Two cosignatures wanted, one trusted witness cosigned: expected ``>= 2``, found 1."""
    ledger = clean_ledger()
    ledger.min_witnesses = 2
    assert_findings(
        verify(ledger),
        [
            Expect(
                "cosignature.missing",
                7,
                "integrity",
                where=f"size {LATEST}",
                expected=repr(">= 2"),
                found="1",
            )
        ],
    )


def test_only_the_latest_checkpoint_needs_cosignatures() -> None:
    """The size-4 checkpoint uncosigned is fine while the latest has its witness."""
    ledger = clean_ledger()
    ledger.uncosigned.add(REGISTRY_LEAVES)
    report = verify(ledger)
    assert_findings(report, [])
    assert [a.witnesses for a in report.checkpoints] == [(), (WITNESS_NAME,)]


def test_no_cosignature_is_needed_when_min_witnesses_is_0() -> None:
    """``min-witnesses 0`` (the default): an uncosigned ledger verifies."""
    ledger = clean_ledger()
    ledger.min_witnesses = 0
    ledger.uncosigned.update({REGISTRY_LEAVES, LATEST})
    assert_findings(verify(ledger), [])


def test_a_cosignature_by_an_untrusted_witness_does_not_count() -> None:
    """The latest checkpoint cosigned only by a witness the trust roots don't name: the
    line is ignored, so the one required cosignature is missing."""
    ledger = clean_ledger()
    ledger.sign_latest = False
    note = ledger.signed(LATEST, cosigned=False)
    checkpoint = Checkpoint(origin=ORIGIN, size=LATEST, root=ledger.root())
    stranger = Cosigner(WITNESS_NAME, Signer(digest("an impostor witness")))
    ledger.extra_notes.append(
        note.with_signatures([stranger.cosign(checkpoint, timestamp=1)]).serialise()
    )
    assert_findings(
        verify(ledger),
        [
            Expect(
                "cosignature.missing",
                7,
                "integrity",
                where=f"size {LATEST}",
                expected=repr(">= 1"),
                found="0",
            )
        ],
    )


def test_two_trusted_witnesses_both_count() -> None:
    """Two trusted witnesses cosign the latest checkpoint; two are required: no finding, and
    the report names both."""
    ledger = clean_ledger()
    ledger.more_witnesses.append(second_witness())
    ledger.min_witnesses = 2
    report = verify(ledger)
    assert_findings(report, [])
    assert report.checkpoints[-1].witnesses == tuple(
        sorted((WITNESS_NAME, "witness.test.hoso.example/w2"))
    )


def test_a_failing_cosignature_does_not_void_another_witnesss_valid_one() -> None:
    """Witness 1 cosigned the latest checkpoint validly, witness 2's line fails, one is
    required: ``cosignature.invalid`` for witness 2 only, and witness 1 still counts."""
    ledger = clean_ledger()
    ledger.more_witnesses.append(second_witness())
    ledger.sign_latest = False
    note = ledger.signed(LATEST)
    log_line, first, second = note.signatures
    broken = NoteSignature(second.name, second.key_id, second.signature[:-1] + b"\x00")
    ledger.extra_notes.append(Note(note.text, (log_line, first, broken)).serialise())
    report = verify(ledger)
    assert [(f.check, f.step) for f in report.findings.kept] == [("cosignature.invalid", 7)]
    assert report.checkpoints[-1].witnesses == (WITNESS_NAME,)
