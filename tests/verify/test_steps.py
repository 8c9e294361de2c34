"""Every check id of ``verify.checks.STEPS``, each planted alone in a minimal ledger.

:data:`PLANTS` maps each check id to a builder that starts from the clean minimal
ledger of :mod:`tests.verify.minimal` (no database), plants exactly one fault, and
says which findings the verifier must report for it: the check id, its step and family,
and where (stream, n, leaf or ``where``), with expected/found where the fault
decides them. Where one fault unavoidably trips a second check, the row lists
both and the test asserts that exact set. :func:`test_every_step_check_has_a_plant`
makes the table complete: a check id added to ``STEPS`` without a plant here
fails the suite.

Each plant runs twice: with one batch of 1,000 records (every dossier key is
registered inside the batch, so its signatures are checked inline, in log order)
and with batches of one record (each signature is checked in the batch worker).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pytest

from ledger.core import encoding
from ledger.core.checkpoint import Checkpoint, Cosigner, sign_checkpoint
from ledger.core.event import parse_record
from ledger.core.hashing import Hash
from ledger.core.index import root_of
from ledger.core.note import Ed25519NoteSigner, Note
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.signing import Signer
from ledger.domain import lifecycle as ev
from ledger.domain.state import format_time
from ledger.domain.streams import (
    INDEX_COMMITTED,
    INDEX_STREAM,
    IndexCommit,
    fold_states,
    index_payload,
)
from tests.verify.minimal import (
    CALENDAR,
    DAY,
    DOSSIER,
    DUE,
    HOUR,
    MINUTE,
    ORIGIN,
    OTHER_ORIGIN,
    RECEPTION,
    REGISTRY_LEAVES,
    SEAL,
    SECOND_DOSSIER,
    T0,
    WARD,
    WITNESS_NAME,
    Expect,
    MinimalLedger,
    access_by_an_unassigned_handler,
    assert_findings,
    clean_ledger,
    digest,
    forged_bad_signature,
    other_log_key,
    received_payload,
    step_of,
    stranger_registration,
    tampered_cosignature,
    verify,
)
from verify.checks import STEPS, Step

Planted = tuple[MinimalLedger, list[Expect]]
Plant = Callable[[], Planted]

FIRST_NEW_LEAF = 9
"""The clean ledger has leaves 0–8; a planted record goes to leaf 9."""
NEXT_N = 6
"""The dossier has events n = 1–5; a planted event of it is n = 6."""
LATEST = 9
"""The size of the clean ledger's latest checkpoint (its whole log)."""


def at_next(check: str, step: int, *, where: str | None = None, **pinned: str | None) -> Expect:
    """A finding on the dossier's next event (n = 6), stored at leaf 9."""
    return Expect(
        check,
        step,
        "integrity",
        DOSSIER,
        NEXT_N,
        FIRST_NEW_LEAF,
        where,
        pinned.get("expected", ...),
        pinned.get("found", ...),
    )


def dossier_at(n: int) -> str:
    return f"stream {DOSSIER} n={n}"


def hexed(value: bytes) -> str:
    return value.hex()


def quoted(value: str) -> str:
    """How a finding renders a str it was given as expected/found (``repr``)."""
    return repr(value)


# --- step 1: encoding ---------------------------------------------------------------------


def plant_encoding_canonical() -> Planted:
    """A stored record with one trailing byte after its canonical map."""
    ledger = clean_ledger()
    record = ledger.withdrawal_requested().record
    ledger.append_raw(record + b"\x00", stream=DOSSIER, n=NEXT_N)
    # the byte offset of the first byte that is not the canonical value
    return ledger, [
        Expect(
            "encoding.canonical",
            1,
            "malformed",
            DOSSIER,
            NEXT_N,
            FIRST_NEW_LEAF,
            f"byte {len(record)}",
        )
    ]


def plant_record_shape() -> Planted:
    """A canonical record map with no signature (an event carries 1 to 16)."""
    ledger = clean_ledger()
    event = ledger.withdrawal_requested()
    ledger.append_raw(
        encoding.encode({"body": event.body_bytes, "sigs": []}), stream=DOSSIER, n=NEXT_N
    )
    return ledger, [
        Expect(
            "record.shape",
            1,
            "malformed",
            DOSSIER,
            NEXT_N,
            FIRST_NEW_LEAF,
            dossier_at(NEXT_N),
        )
    ]


# --- step 2: hashes and origin ---------------------------------------------------------------


def plant_event_hash() -> Planted:
    """The store's leaf index claims the previous event's hash for a new record."""
    ledger = clean_ledger()
    claimed = ledger.heads[DOSSIER].event_hash
    event = ledger.withdrawal_requested()
    ledger.append(event, claimed_hash=claimed)
    return ledger, [
        at_next(
            "event.hash",
            2,
            where=f"leaf {FIRST_NEW_LEAF}",
            expected=hexed(claimed),
            found=hexed(event.event_hash),
        )
    ]


def plant_event_origin() -> Planted:
    """A validly signed submission for another ledger's origin, stored in this one."""
    ledger = clean_ledger()
    ledger.append(ledger.submission(SECOND_DOSSIER, origin=OTHER_ORIGIN, time_us=T0 + HOUR))
    return ledger, [
        Expect(
            "event.origin",
            2,
            "integrity",
            SECOND_DOSSIER,
            1,
            FIRST_NEW_LEAF,
            f"leaf {FIRST_NEW_LEAF}",
            quoted(ORIGIN),
            quoted(OTHER_ORIGIN),
        )
    ]


# --- step 3: signatures and keys -----------------------------------------------------------------


def plant_signature_invalid() -> Planted:
    """A registry event whose authority signature does not verify (its change is not applied)."""
    ledger = clean_ledger()
    ledger.append(forged_bad_signature(stranger_registration(ledger, ledger.keys.authority)))
    return ledger, [
        Expect(
            "signature.invalid",
            3,
            "integrity",
            REGISTRY_STREAM,
            REGISTRY_LEAVES + 1,
            FIRST_NEW_LEAF,
            f"leaf {FIRST_NEW_LEAF} signature 0",
            None,
            None,
        )
    ]


def plant_signature_unknown_key() -> Planted:
    """A registry event signed by a registered officer's key, not a trust root authority's."""
    ledger = clean_ledger()
    ledger.append(stranger_registration(ledger, ledger.keys.reception))
    return ledger, [
        Expect(
            "signature.unknown_key",
            3,
            "integrity",
            REGISTRY_STREAM,
            REGISTRY_LEAVES + 1,
            FIRST_NEW_LEAF,
            f"leaf {FIRST_NEW_LEAF} signature 0",
            None,
            hexed(ledger.keys.reception.key_id),
        )
    ]


def plant_key_invalid_at_position() -> Planted:
    """The agency seal key is revoked (leaf 9), then co-signs a result (leaf 10); the
    leader's own signature still makes the event's acting signature valid."""
    ledger = clean_ledger()
    ledger.revoke(ledger.keys.seal)
    ledger.append(ledger.result_issued())
    leaf = FIRST_NEW_LEAF + 1
    return ledger, [
        Expect(
            "key.invalid_at_position",
            3,
            "integrity",
            DOSSIER,
            NEXT_N,
            leaf,
            f"leaf {leaf} key {ledger.keys.seal.key_id.hex()}",
            quoted(f"revoked after leaf {leaf}"),
            quoted(f"revoked at leaf {FIRST_NEW_LEAF}"),
        )
    ]


def access_entry() -> dict[str, encoding.Value]:
    return {
        "reader": RECEPTION,
        "agency": "000.39.05.H26",
        "role": "reception",
        "subject": digest(f"applicant commitment of {DOSSIER}"),
        "dossier": DOSSIER,
        "purpose": "reception",
        "time": T0 + 15 * MINUTE,
    }


def plant_signature_role() -> Planted:
    """An access-log batch (``DataAccessed`` needs a ``system`` key) signed by the reception
    officer's valid key: a system stream, so no dossier rule sees it."""
    ledger = clean_ledger()
    ledger.add(
        "system/access",
        "DataAccessed",
        RECEPTION,
        {"queue": [1], "entries": [access_entry()]},
        [ledger.keys.reception],
        time_us=T0 + HOUR,
    )
    return ledger, [
        Expect(
            "signature.role",
            3,
            "integrity",
            "system/access",
            1,
            FIRST_NEW_LEAF,
            f"leaf {FIRST_NEW_LEAF}",
            quoted(f"{RECEPTION} as system"),
            quoted(f"{RECEPTION} as reception"),
        )
    ]


def plant_registry_change() -> Planted:
    """The authority registers the reception officer's key a second time."""
    ledger = clean_ledger()
    ledger.register(ledger.keys.registrations()[1])
    return ledger, [
        Expect(
            "registry.change",
            3,
            "integrity",
            REGISTRY_STREAM,
            REGISTRY_LEAVES + 1,
            FIRST_NEW_LEAF,
            f"leaf {FIRST_NEW_LEAF}",
            None,
            hexed(ledger.keys.reception.key_id),
        )
    ]


# --- step 4: chains ---------------------------------------------------------------------------


def plant_chain_position() -> Planted:
    """The dossier's next event claims n = 7: n = 6 is missing (a gap)."""
    ledger = clean_ledger()
    ledger.append(ledger.withdrawal_requested(n=NEXT_N + 1))
    return ledger, [
        Expect(
            "chain.position",
            4,
            "integrity",
            DOSSIER,
            NEXT_N + 1,
            FIRST_NEW_LEAF,
            dossier_at(NEXT_N + 1),
            str(NEXT_N),
            str(NEXT_N + 1),
        )
    ]


def plant_chain_link() -> Planted:
    """The dossier's next event links to a hash that is not its predecessor's."""
    ledger = clean_ledger()
    head = ledger.heads[DOSSIER].event_hash
    bogus = digest("not the previous event")
    ledger.append(ledger.withdrawal_requested(prev=bogus))
    return ledger, [
        at_next("chain.link", 4, where=dossier_at(NEXT_N), expected=hexed(head), found=hexed(bogus))
    ]


def plant_chain_time() -> Planted:
    """The dossier's next event claims a time a minute before its predecessor's."""
    ledger = clean_ledger()
    head_time = ledger.heads[DOSSIER].body.time_us
    ledger.append(ledger.withdrawal_requested(time_us=head_time - MINUTE))
    return ledger, [
        at_next(
            "chain.time",
            4,
            where=dossier_at(NEXT_N),
            expected=quoted(f">= {head_time}"),
            found=str(head_time - MINUTE),
        )
    ]


def plant_log_row() -> Planted:
    """The row holding the dossier's next event says it belongs to another stream."""
    ledger = clean_ledger()
    ledger.append(ledger.withdrawal_requested(), stream=SECOND_DOSSIER)
    return ledger, [
        at_next(
            "log.row",
            4,
            where=f"leaf {FIRST_NEW_LEAF}",
            expected=quoted(f"{DOSSIER} n={NEXT_N}"),
            found=quoted(f"{SECOND_DOSSIER} n={NEXT_N}"),
        )
    ]


# --- step 5: merkle --------------------------------------------------------------------------


def plant_merkle_root() -> Planted:
    """The log signed a checkpoint over the dossier's next event, which was then rewritten
    (another validly signed event at the same place)."""
    ledger = clean_ledger()
    ledger.sign_latest = False
    ledger.append(ledger.withdrawal_requested(reason="applicant moved"))
    signed_root = ledger.root()
    ledger.extra_notes.append(ledger.signed(ledger.size).serialise())
    ledger.entries.pop()
    ledger.heads[DOSSIER] = ledger.event_at(-1)
    ledger.append(ledger.withdrawal_requested(reason="applicant changed their mind"))
    return ledger, [
        Expect(
            "merkle.root",
            5,
            "integrity",
            where=f"checkpoint of size {ledger.size}",
            expected=hexed(signed_root),
            found=hexed(ledger.root()),
        )
    ]


def plant_log_truncated() -> Planted:
    """The log signed a checkpoint of size 10; the stored log holds 9 records."""
    ledger = clean_ledger()
    ledger.sign_latest = False
    ledger.append(ledger.withdrawal_requested())
    ledger.extra_notes.append(ledger.signed(ledger.size).serialise())
    ledger.entries.pop()
    ledger.checkpoint_sizes.append(LATEST)
    return ledger, [
        Expect(
            "log.truncated",
            5,
            "integrity",
            where=f"checkpoint of size {LATEST + 1}",
            expected=str(LATEST + 1),
            found=str(LATEST),
        )
    ]


# --- step 6: checkpoints --------------------------------------------------------------------

EXTRA = 2
"""A planted note follows the clean ledger's two (sizes 4 and 9): it is ``checkpoint 2``."""


def plant_note_syntax() -> Planted:
    """A stored note with no blank line and no signature."""
    ledger = clean_ledger()
    ledger.extra_notes.append(b"not a signed note\n")
    return ledger, [Expect("note.syntax", 6, "malformed", where=f"checkpoint {EXTRA}")]


def plant_checkpoint_syntax() -> Planted:
    """A note validly signed by the log key whose text has an extension line."""
    ledger = clean_ledger()
    text = Checkpoint(origin=ORIGIN, size=LATEST, root=ledger.root()).text() + "extra line\n"
    ledger.extra_notes.append(Note(text, (ledger.keys.log.sign(text),)).serialise())
    return ledger, [Expect("checkpoint.syntax", 6, "malformed", where=f"checkpoint {EXTRA}")]


def plant_note_signature() -> Planted:
    """The latest checkpoint's root rewritten under the log key's original signature."""
    ledger = clean_ledger()
    honest = ledger.signed(LATEST, cosigned=False)
    forged = Checkpoint(origin=ORIGIN, size=LATEST, root=Hash(digest("another root")))
    ledger.extra_notes.append(Note(forged.text(), honest.signatures).serialise())
    log = ledger.keys.log.verifier
    return ledger, [
        Expect(
            "note.signature",
            6,
            "integrity",
            where=f"checkpoint {EXTRA} / signature by {log.name}+{log.key_id.hex()}",
        )
    ]


def plant_note_unsigned() -> Planted:
    """A checkpoint signed only by a log key the trust roots don't hold."""
    ledger = clean_ledger()
    other = other_log_key()
    checkpoint = Checkpoint(origin=ORIGIN, size=LATEST, root=ledger.root())
    ledger.extra_notes.append(sign_checkpoint(checkpoint, other).serialise())
    log = ledger.keys.log.verifier
    return ledger, [
        Expect(
            "note.unsigned",
            6,
            "integrity",
            where=f"checkpoint {EXTRA}",
            expected=quoted(f"{log.name}+{log.key_id.hex()}"),
            found=quoted(f"{ORIGIN}+{other.verifier.key_id.hex()}"),
        )
    ]


def plant_checkpoint_origin() -> Planted:
    """A checkpoint of another log (its own origin, signed by its own key)."""
    ledger = clean_ledger()
    other = Ed25519NoteSigner(OTHER_ORIGIN, Signer(digest("the other ledger's log key")))
    checkpoint = Checkpoint(origin=OTHER_ORIGIN, size=LATEST, root=ledger.root())
    ledger.extra_notes.append(sign_checkpoint(checkpoint, other).serialise())
    return ledger, [
        Expect(
            "checkpoint.origin",
            6,
            "integrity",
            where=f"checkpoint {EXTRA}",
            expected=quoted(ORIGIN),
            found=quoted(OTHER_ORIGIN),
        )
    ]


def plant_checkpoint_fork() -> Planted:
    """The log key also signed a size-4 checkpoint with another root (a split view). The
    fork's root is also not the log's: step 5 reports it too."""
    ledger = clean_ledger()
    honest = ledger.root(REGISTRY_LEAVES)
    other_root = Hash(digest("a split view of the registry"))
    other = Checkpoint(origin=ORIGIN, size=REGISTRY_LEAVES, root=other_root)
    ledger.extra_notes.append(sign_checkpoint(other, ledger.keys.log).serialise())
    return ledger, [
        Expect(
            "checkpoint.fork",
            6,
            "integrity",
            where=f"size {REGISTRY_LEAVES}",
            expected=hexed(honest),
            found=hexed(other_root),
        ),
        Expect(
            "merkle.root",
            5,
            "integrity",
            where=f"checkpoint of size {REGISTRY_LEAVES}",
            expected=hexed(other_root),
            found=hexed(honest),
        ),
    ]


def plant_checkpoint_missing() -> Planted:
    """No checkpoint was stored at all."""
    ledger = clean_ledger()
    ledger.checkpoint_sizes.clear()
    ledger.sign_latest = False
    return ledger, [Expect("checkpoint.missing", 6, "integrity", expected=quoted(ORIGIN))]


# --- step 7: cosignatures ----------------------------------------------------------------------


def plant_cosignature_invalid() -> Planted:
    """The registry checkpoint (not the latest) carries a witness line that doesn't verify."""
    ledger = clean_ledger()
    ledger.checkpoint_sizes.remove(REGISTRY_LEAVES)
    note, timestamp = tampered_cosignature(ledger, REGISTRY_LEAVES)
    ledger.extra_notes.append(note.serialise())
    return ledger, [
        Expect(
            "cosignature.invalid",
            7,
            "integrity",
            where=f"checkpoint of size {REGISTRY_LEAVES} / witness {WITNESS_NAME} at time "
            f"{timestamp}",
        )
    ]


def plant_cosignature_missing() -> Planted:
    """The latest checkpoint is not cosigned; the trust roots want one witness."""
    ledger = clean_ledger()
    ledger.uncosigned.add(LATEST)
    return ledger, [
        Expect(
            "cosignature.missing",
            7,
            "integrity",
            where=f"size {LATEST}",
            expected=quoted(">= 1"),
            found="0",
        )
    ]


def plant_cosignature_quorum() -> Planted:
    """The trust file's quorum wants both the ledger's witness and one that never cosigned
    (C2SP tlog-policy lines); one cosignature is enough for ``min-witnesses 1``."""
    ledger = clean_ledger()
    spare = Cosigner("witness.test/spare", Signer(b"\x09" * 32))
    ledger.policy_lines = (
        f"witness spare {spare.verifier.vkey}\ngroup both all {WITNESS_NAME} spare\nquorum both\n"
    )
    return ledger, [
        Expect(
            "cosignature.quorum",
            7,
            "integrity",
            where=f"size {LATEST}",
            expected=quoted("both"),
            found=quoted(WITNESS_NAME),
        )
    ]


# --- step 8: due dates -----------------------------------------------------------------------


def plant_due_date_mismatch() -> Planted:
    """The reception recorded a due date an hour later than its rule and calendar give."""
    recorded = DUE.due_us + HOUR
    ledger = clean_ledger(received=received_payload(due_us=recorded))
    return ledger, [
        Expect(
            "rule.due_date_mismatch",
            8,
            "rule",
            DOSSIER,
            4,
            expected=format_time(DUE.due_us),
            found=format_time(recorded),
        )
    ]


def plant_due_version_unknown() -> Planted:
    """The reception recorded a calendar version the verifier does not have."""
    ledger = clean_ledger(received=received_payload(calendar_version="vn-2025.9"))
    return ledger, [
        Expect(
            "due.version_unknown",
            8,
            "rule",
            DOSSIER,
            None,
            expected="vn-2025.9",
            found=CALENDAR.version,
        )
    ]


# --- step 9: post-audit rules ---------------------------------------------------------------------


def plant_rule_illegal_event() -> Planted:
    """The reception officer records a second reception while the dossier is in process."""
    ledger = clean_ledger()
    ledger.add(DOSSIER, ev.RECEIVED, RECEPTION, received_payload(), [ledger.keys.reception])
    return ledger, [
        Expect("rule.illegal_event", 9, "rule", DOSSIER, NEXT_N, found=ev.RECEIVED),
    ]


def plant_rule_late_without_apology() -> Planted:
    """The result is issued at 10:00 the next working day, after the same-day due date,
    with no apology before it."""
    ledger = clean_ledger()
    issued = T0 + DAY + 2 * HOUR
    ledger.append(ledger.result_issued(time_us=issued))
    ledger.now_us = issued + HOUR
    return ledger, [
        Expect(
            "rule.late_without_apology",
            9,
            "rule",
            DOSSIER,
            NEXT_N,
            expected=f"by {format_time(DUE.due_us)}",
            found=format_time(issued),
        )
    ]


def plant_rule_result_not_properly_signed() -> Planted:
    """A result signed by the leader alone, without the agency seal: the lifecycle refuses
    it (rule 12) and the signature rule names what is missing."""
    ledger = clean_ledger()
    ledger.append(ledger.result_issued(signers=[ledger.keys.leader]))
    return ledger, [
        Expect("rule.illegal_event", 9, "rule", DOSSIER, NEXT_N, found=ev.RESULT_ISSUED),
        Expect(
            "rule.result_not_properly_signed",
            9,
            "rule",
            DOSSIER,
            NEXT_N,
            expected="leader + agency_seal",
            found="leader",
        ),
    ]


def plant_privacy_access_assignment() -> Planted:
    """A logged read of the dossier by a handler it was not handed to (step 9, with the
    personal-data audit on)."""
    return access_by_an_unassigned_handler(), [
        Expect(
            "privacy.access_assignment",
            9,
            "rule",
            "system/access",
            1,
            expected="ward:chuyenvien-01",
            found="ward:chuyenvien-02",
        )
    ]


# --- system streams and the stream index (steps 1, 4, 10) ----------------------------------


def _index_commit(ledger: MinimalLedger, kind: str, payload: dict[str, encoding.Value]) -> None:
    """A record on ``system/index`` of ``kind``, signed by the trusted log key."""
    ledger.add(INDEX_STREAM, kind, ORIGIN, payload, [ledger.keys.log.signer])


def plant_stream_type() -> Planted:
    """A log-signed record on ``system/index`` of a type that stream does not hold."""
    ledger = clean_ledger()
    _index_commit(ledger, "DataAccessed", index_payload(IndexCommit(ledger.size, bytes(32), 2)))
    return ledger, [
        Expect(
            "stream.type",
            4,
            "integrity",
            INDEX_STREAM,
            1,
            FIRST_NEW_LEAF,
            f"stream {INDEX_STREAM} n=1",
            repr([INDEX_COMMITTED]),
            quoted("DataAccessed"),
        )
    ]


def plant_domain_payload() -> Planted:
    """An ``IndexCommitted`` without its ``root``: step 1, and no index check on it."""
    ledger = clean_ledger()
    payload = index_payload(IndexCommit(ledger.size, bytes(32), 2))
    del payload["root"]
    _index_commit(ledger, INDEX_COMMITTED, payload)
    return ledger, [
        Expect(
            "domain.payload",
            1,
            "malformed",
            INDEX_STREAM,
            1,
            FIRST_NEW_LEAF,
            f"stream {INDEX_STREAM} n=1",
        )
    ]


def plant_index_root_mismatch() -> Planted:
    """A log-signed commit over the whole log whose root is not the index the log gives."""
    ledger = clean_ledger()
    states = fold_states((e.body, e.event_hash) for e in map(parse_record, ledger.recs()))
    rebuilt = root_of(states)
    _index_commit(
        ledger, INDEX_COMMITTED, index_payload(IndexCommit(ledger.size, bytes(32), len(states)))
    )
    return ledger, [
        Expect(
            "index.root_mismatch",
            10,
            "integrity",
            INDEX_STREAM,
            1,
            FIRST_NEW_LEAF,
            f"leaf {FIRST_NEW_LEAF}",
            quoted(f"root {rebuilt.hex()}, {len(states)} streams"),
            quoted(f"root {bytes(32).hex()}, {len(states)} streams"),
        )
    ]


RETENTION_US = 365 * DAY
"""The personal-data audit runs in every plant's verification (a clean ledger has no
access log, so it adds nothing there)."""

PLANTS: dict[str, Plant] = {
    "encoding.canonical": plant_encoding_canonical,
    "record.shape": plant_record_shape,
    "event.hash": plant_event_hash,
    "event.origin": plant_event_origin,
    "signature.invalid": plant_signature_invalid,
    "signature.unknown_key": plant_signature_unknown_key,
    "key.invalid_at_position": plant_key_invalid_at_position,
    "signature.role": plant_signature_role,
    "registry.change": plant_registry_change,
    "chain.position": plant_chain_position,
    "chain.link": plant_chain_link,
    "chain.time": plant_chain_time,
    "log.row": plant_log_row,
    "merkle.root": plant_merkle_root,
    "log.truncated": plant_log_truncated,
    "note.syntax": plant_note_syntax,
    "checkpoint.syntax": plant_checkpoint_syntax,
    "note.signature": plant_note_signature,
    "note.unsigned": plant_note_unsigned,
    "checkpoint.origin": plant_checkpoint_origin,
    "checkpoint.fork": plant_checkpoint_fork,
    "checkpoint.missing": plant_checkpoint_missing,
    "cosignature.invalid": plant_cosignature_invalid,
    "cosignature.missing": plant_cosignature_missing,
    "cosignature.quorum": plant_cosignature_quorum,
    "rule.due_date_mismatch": plant_due_date_mismatch,
    "due.version_unknown": plant_due_version_unknown,
    "rule.illegal_event": plant_rule_illegal_event,
    "rule.late_without_apology": plant_rule_late_without_apology,
    "rule.result_not_properly_signed": plant_rule_result_not_properly_signed,
    "privacy.access_assignment": plant_privacy_access_assignment,
    "stream.type": plant_stream_type,
    "domain.payload": plant_domain_payload,
    "index.root_mismatch": plant_index_root_mismatch,
}
"""Check id → the plant that makes the verifier report it."""


def coverage_gaps(steps: Sequence[Step], planted: Iterable[str]) -> list[str]:
    """What keeps ``planted`` (the ids with a plant) from covering ``steps`` exactly: a
    concrete id without a plant, a ``family.*`` wildcard without a plant of that family
    in that step, or a plant for an id no step lists."""
    listed = {c for step in steps for c in step.checks}
    wildcards = {c for c in listed if c.endswith(".*")}
    concrete = listed - wildcards
    have = set(planted)
    gaps = [f"no plant for {c}" for c in sorted(concrete - have)]
    extra = have - concrete
    for wildcard in sorted(wildcards):
        number = step_of(wildcard, steps)
        family = [c for c in extra if c.startswith(wildcard[:-1]) and step_of(c, steps) == number]
        if not family:
            gaps.append(f"no plant for a {wildcard} id of step {number}")
    gaps += [
        f"plant for {c}, which no step lists"
        for c in sorted(extra)
        if not any(c.startswith(w[:-1]) for w in wildcards)
    ]
    return gaps


def test_every_step_check_has_a_plant() -> None:
    """The table covers ``STEPS`` exactly: every concrete id has its plant, every
    ``family.*`` wildcard at least one id of that family in that step, and nothing else."""
    assert coverage_gaps(STEPS, PLANTS) == []


def test_the_coverage_check_fails_for_a_new_id_without_a_plant() -> None:
    """A check id added to ``STEPS`` (or a new wildcard) without a plant is named; so is a
    plant for an id no step lists, or a wildcard id planted under another step."""
    grown = (*STEPS, Step(11, "new", "a new step", ("new.check", "novel.*")))
    assert coverage_gaps(grown, PLANTS) == [
        "no plant for new.check",
        "no plant for a novel.* id of step 11",
    ]
    assert coverage_gaps(STEPS, [*PLANTS, "unknown.check"]) == [
        "plant for unknown.check, which no step lists"
    ]
    without_step_9 = [c for c in PLANTS if step_of(c) != 9]
    assert coverage_gaps(STEPS, without_step_9) == [
        "no plant for a privacy.* id of step 9",
        "no plant for a rule.* id of step 9",
    ]


def test_the_clean_minimal_ledger_has_no_finding() -> None:
    """The baseline every plant starts from verifies with no finding of any family, so a
    plant's findings are its fault's."""
    ledger = clean_ledger()
    for batch in (1, 1000):
        report = verify(ledger, batch=batch)
        assert_findings(report, [])
        assert report.records == 9
        assert report.streams == 2
        assert [(a.checkpoint.size, a.witnesses) for a in report.checkpoints] == [
            (REGISTRY_LEAVES, (WITNESS_NAME,)),
            (LATEST, (WITNESS_NAME,)),
        ]
        assert report.stats.dossiers == 1
        assert report.exit_code(strict=True) == 0


@pytest.mark.parametrize("batch", [1000, 1], ids=["one-batch", "batches-of-one"])
@pytest.mark.parametrize("check", list(PLANTS))
def test_each_check_is_reported_for_its_planted_fault(check: str, batch: int) -> None:
    """The plant for ``check`` gives exactly its findings (check, step, family, where,
    and the expected/found it pins), one of them ``check`` in the step ``STEPS`` gives."""
    ledger, expected = PLANTS[check]()
    assert check in {e.check for e in expected}
    for row in expected:
        assert row.step == step_of(row.check), row
    assert_findings(verify(ledger, batch=batch, retention_us=RETENTION_US), expected)


def test_the_exit_code_follows_the_planted_family() -> None:
    """Malformed plants exit 2, integrity plants 1, rule plants 0 (1 under ``--strict``)."""
    for check, plant in PLANTS.items():
        ledger, expected = plant()
        report = verify(ledger, retention_us=RETENTION_US)
        families = {e.family for e in expected}
        if "malformed" in families:
            assert report.exit_code() == 2, check
        elif "integrity" in families:
            assert report.exit_code() == 1, check
        else:
            assert (report.exit_code(), report.exit_code(strict=True)) == (0, 1), check


def test_a_status_list_published_on_another_agencys_stream_is_signature_role() -> None:
    """A StatusListPublished on ``system/status/<agency>`` counts only when the actor's
    key is that agency's own seal key: the ward's valid seal key publishing for another
    agency is ``signature.role``, naming both agencies."""
    other = "000.60.02.H26"
    for stream, findings in ((f"system/status/{other}", 1), (f"system/status/{WARD}", 0)):
        ledger = clean_ledger()
        ledger.add(
            stream,
            "StatusListPublished",
            SEAL,
            {"digest": bytes(32), "issued": T0 // 1_000_000, "list": 0, "size": 131072},
            [ledger.keys.seal],
            time_us=T0 + HOUR,
        )
        expected = [
            Expect(
                "signature.role",
                3,
                "integrity",
                stream,
                1,
                FIRST_NEW_LEAF,
                f"leaf {FIRST_NEW_LEAF}",
                quoted(f"{SEAL} as agency_seal of {other}"),
                quoted(f"{SEAL} as agency_seal of {WARD}"),
            )
        ][:findings]
        assert_findings(verify(ledger, retention_us=RETENTION_US), expected)
