"""Steps 2–4 in detail: the verifier's own origin, signature/key and chain-link checks.

Each test plants one fault in the clean minimal ledger (:mod:`tests.verify.minimal`)
and pins what ``verify/integrity.py`` reports for it: the check ids, their step,
and the position (stream, n, leaf, ``where``), with expected/found where the
fault decides them. Where a fault trips more than one check (an unknown key is
also an unregistered one, and no acting signature is left), the exact set is
asserted. Every test runs with one batch of 1,000 records (signatures of keys
registered in the batch checked inline, in log order) and with batches of one
(each checked by the batch worker).
"""

from __future__ import annotations

import pytest

from ledger.core import encoding
from ledger.core.hashing import GENESIS_PREV
from ledger.core.registry import KEY_REVOKED, REGISTRY_STREAM, Registration, key_revoked
from ledger.domain import lifecycle as ev
from tests.verify.minimal import (
    AUTHORITY_ACTOR,
    DOSSIER,
    MINUTE,
    ORIGIN,
    OTHER_ORIGIN,
    PORTAL,
    RECEPTION,
    REGISTRY_LEAVES,
    SECOND_DOSSIER,
    WARD,
    Expect,
    assert_findings,
    clean_ledger,
    digest,
    forged_bad_signature,
    step_of,
    stranger_registration,
    verify,
)

LEAF = 9  # the first leaf after the clean ledger's nine
N = 6  # the dossier's next position

pytestmark = pytest.mark.parametrize("batch", [1000, 1], ids=["one-batch", "batches-of-one"])


def position(stream: str, n: int) -> str:
    return f"stream {stream} n={n}"


def integrity(  # noqa: PLR0917 (a row of the findings table)
    check: str,
    step: int,
    stream: str = DOSSIER,
    n: int = N,
    leaf: int = LEAF,
    where: str | None = None,
    **pinned: str | None,
) -> Expect:
    return Expect(
        check,
        step,
        "integrity",
        stream,
        n,
        leaf,
        where,
        pinned.get("expected", ...),
        pinned.get("found", ...),
    )


# --- step 4: chain links ---------------------------------------------------------------------


def test_a_deleted_event_is_one_gap_and_the_chain_goes_on(batch: int) -> None:
    """n = 6 and 8 are stored, 7 is missing: ``chain.position`` at n = 8 (expected 7), and
    the event after it (n = 9, linked to 8) is not reported again."""
    ledger = clean_ledger()
    ledger.append(ledger.withdrawal_requested())
    missing = ledger.withdrawal_requested(reason="deleted")
    ledger.heads[DOSSIER] = missing  # the chain goes on from the deleted event
    ledger.append(ledger.withdrawal_requested(reason="after the gap"))
    ledger.append(ledger.withdrawal_requested(reason="and one more"))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.position",
                4,
                n=8,
                leaf=LEAF + 1,
                where=position(DOSSIER, 8),
                expected="7",
                found="8",
            )
        ],
    )


def test_two_events_stored_in_swapped_order_are_two_position_breaks(batch: int) -> None:
    """n = 7 is stored before n = 6 (same claimed time, so only the order is wrong): n = 7
    is where 6 was expected, then n = 6 is where 8 was."""
    ledger = clean_ledger()
    sixth = ledger.withdrawal_requested()
    head = ledger.heads[DOSSIER]
    ledger.heads[DOSSIER] = sixth
    seventh = ledger.withdrawal_requested(reason="second", time_us=sixth.body.time_us)
    ledger.heads[DOSSIER] = head
    ledger.append(seventh)
    ledger.append(sixth)
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.position", 4, n=7, where=position(DOSSIER, 7), expected="6", found="7"
            ),
            integrity(
                "chain.position",
                4,
                n=6,
                leaf=LEAF + 1,
                where=position(DOSSIER, 6),
                expected="8",
                found="6",
            ),
        ],
    )


def test_prev_substituted_by_an_earlier_events_hash_is_chain_link(batch: int) -> None:
    """n = 6 links to n = 4's hash (skipping n = 5): ``chain.link`` expected n = 5's hash."""
    ledger = clean_ledger()
    fourth, fifth = ledger.event_at(7), ledger.event_at(8)
    assert (fourth.body.n, fifth.body.n) == (4, 5)
    ledger.append(ledger.withdrawal_requested(prev=fourth.event_hash))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.link",
                4,
                where=position(DOSSIER, N),
                expected=fifth.event_hash.hex(),
                found=fourth.event_hash.hex(),
            )
        ],
    )


def test_a_streams_first_event_with_n_2_is_chain_position(batch: int) -> None:
    """A new dossier whose first stored event claims n = 2 (prev = GENESIS): the chain
    wants n = 1; the dossier pass can't start the dossier either (rule 12)."""
    ledger = clean_ledger()
    ledger.append(ledger.submission(SECOND_DOSSIER, n=2))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.position",
                4,
                SECOND_DOSSIER,
                2,
                where=position(SECOND_DOSSIER, 2),
                expected="1",
                found="2",
            ),
            Expect("rule.illegal_event", 9, "rule", SECOND_DOSSIER, 2, found=ev.SUBMITTED),
        ],
    )


def test_a_streams_first_event_not_linked_to_genesis_is_chain_link(batch: int) -> None:
    """A new dossier's n = 1 whose prev is not GENESIS: ``chain.link`` expected GENESIS."""
    ledger = clean_ledger()
    bogus = digest("a predecessor that never was")
    ledger.append(ledger.submission(SECOND_DOSSIER, prev=bogus))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.link",
                4,
                SECOND_DOSSIER,
                1,
                where=position(SECOND_DOSSIER, 1),
                expected=GENESIS_PREV.hex(),
                found=bogus.hex(),
            )
        ],
    )


def test_a_restarted_stream_is_chain_position(batch: int) -> None:
    """A second n = 1 (prev = GENESIS) for an existing dossier, a fresh chain spliced in:
    ``chain.position`` expected n = 6; the dossier pass, folding both n = 1 events, refuses
    one of the two submissions (rule 12)."""
    ledger = clean_ledger()
    ledger.append(ledger.submission(DOSSIER, n=1, prev=GENESIS_PREV))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.position", 4, n=1, where=position(DOSSIER, 1), expected="6", found="1"
            ),
            Expect("rule.illegal_event", 9, "rule", DOSSIER, 1, found=ev.SUBMITTED),
        ],
    )


def test_time_going_backwards_is_chain_time_and_equal_time_is_not(batch: int) -> None:
    """n = 6 at the same time as n = 5 is fine ("never earlier"); n = 7 a microsecond
    before n = 6 is ``chain.time`` at n = 7."""
    ledger = clean_ledger()
    head_time = ledger.heads[DOSSIER].body.time_us
    ledger.append(ledger.withdrawal_requested(time_us=head_time))
    ledger.append(ledger.withdrawal_requested(reason="earlier", time_us=head_time - 1))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "chain.time",
                4,
                n=N + 1,
                leaf=LEAF + 1,
                where=position(DOSSIER, N + 1),
                expected=repr(f">= {head_time}"),
                found=str(head_time - 1),
            )
        ],
    )


def test_time_is_compared_per_stream(batch: int) -> None:
    """An event earlier than another stream's latest one is not backdating: time order is
    per stream (the registry's events are older than the dossier's, and that's fine)."""
    ledger = clean_ledger()
    ledger.append(ledger.submission(SECOND_DOSSIER, time_us=ledger.event_at(0).body.time_us))
    assert_findings(verify(ledger, batch=batch), [])


@pytest.mark.parametrize(
    ("stream", "n"),
    [(SECOND_DOSSIER, None), (None, N + 1), (SECOND_DOSSIER, 1)],
    ids=["stream column", "position column", "both columns"],
)
def test_a_row_whose_columns_differ_from_the_body_is_log_row(
    batch: int, stream: str | None, n: int | None
) -> None:
    """The row's stream and/or n columns name another place than the signed body: ``log.row``
    at the record's leaf, the body's place expected and the row's found."""
    ledger = clean_ledger()
    ledger.append(ledger.withdrawal_requested(), stream=stream, n=n)
    row = f"{stream or DOSSIER} n={n or N}"
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "log.row",
                4,
                where=f"leaf {LEAF}",
                expected=repr(f"{DOSSIER} n={N}"),
                found=repr(row),
            )
        ],
    )


def test_a_record_stored_twice_is_chain_position(batch: int) -> None:
    """The dossier's last record (n = 5) stored again at leaf 9: a replay, where n = 6
    was expected."""
    ledger = clean_ledger()
    ledger.append(ledger.event_at(8))
    assert_findings(
        verify(ledger, batch=batch),
        [integrity("chain.position", 4, n=5, where=position(DOSSIER, 5), expected="6", found="5")],
    )


# --- step 2: origin ----------------------------------------------------------------------------


def test_another_origin_inside_an_existing_chain_is_event_origin_only(batch: int) -> None:
    """The dossier's next event names another ledger's origin but links correctly: the
    origin check reports it at its leaf; the chain check does not (its links hold)."""
    ledger = clean_ledger()
    ledger.append(ledger.withdrawal_requested(origin=OTHER_ORIGIN))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "event.origin",
                2,
                where=f"leaf {LEAF}",
                expected=repr(ORIGIN),
                found=repr(OTHER_ORIGIN),
            )
        ],
    )


def test_an_origin_differing_only_in_case_is_another_origin(batch: int) -> None:
    """Origins compare as exact strings: ``TEST.hoso.example/minimal`` is not this ledger."""
    ledger = clean_ledger()
    upper = ORIGIN.replace("test", "TEST", 1)
    ledger.append(ledger.withdrawal_requested(origin=upper))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "event.origin", 2, where=f"leaf {LEAF}", expected=repr(ORIGIN), found=repr(upper)
            )
        ],
    )


# --- step 3: signatures and keys ---------------------------------------------------------


def test_a_dossier_events_bad_signature_also_leaves_no_acting_signature(batch: int) -> None:
    """The portal's signature on the dossier's next event doesn't verify: ``signature.invalid``
    for it, and ``signature.role`` since no valid signature by the actor is left."""
    ledger = clean_ledger()
    ledger.append(forged_bad_signature(ledger.withdrawal_requested()))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity("signature.invalid", 3, where=f"leaf {LEAF} signature 0"),
            integrity(
                "signature.role",
                3,
                where=f"leaf {LEAF}",
                expected=repr(f"{PORTAL} as portal or reception"),
                found=repr(f"{PORTAL} as portal"),
            ),
        ],
    )


def test_a_bad_cosignature_next_to_a_valid_acting_one_is_signature_invalid_only(
    batch: int,
) -> None:
    """A result whose leader signature verifies but whose seal signature doesn't: only the
    seal's ``signature.invalid``, at its index among the sorted signatures."""
    ledger = clean_ledger()
    result = ledger.result_issued()
    seal_index = result.key_ids.index(ledger.keys.seal.key_id)
    ledger.append(forged_bad_signature(result, seal_index))
    assert_findings(
        verify(ledger, batch=batch),
        [integrity("signature.invalid", 3, where=f"leaf {LEAF} signature {seal_index}")],
    )


def test_a_key_nobody_registered_is_unknown_unregistered_and_not_acting(batch: int) -> None:
    """The dossier's next event signed only by a key no trust root or registration names:
    ``signature.unknown_key`` (its key id found), ``key.invalid_at_position``, and
    ``signature.role``; the lifecycle refuses the event too (rule 12)."""
    ledger = clean_ledger()
    stranger = ledger.keys.stranger
    ledger.append(
        ledger.next_event(DOSSIER, ev.WITHDRAWAL_REQUESTED, PORTAL, {"reason": "x"}, [stranger])
    )
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "signature.unknown_key",
                3,
                where=f"leaf {LEAF} signature 0",
                found=stranger.key_id.hex(),
            ),
            integrity(
                "key.invalid_at_position",
                3,
                where=f"leaf {LEAF} key {stranger.key_id.hex()}",
                found=stranger.key_id.hex(),
            ),
            integrity("signature.role", 3, where=f"leaf {LEAF}", found=repr("no registered key")),
            Expect("rule.illegal_event", 9, "rule", DOSSIER, N, found=ev.WITHDRAWAL_REQUESTED),
        ],
    )


def test_a_key_used_before_its_registration_is_not_valid_there(batch: int) -> None:
    """A key registered at leaf 10 signs an event at leaf 9: validity is by log position, so
    at leaf 9 the key is unknown and not registered."""
    ledger = clean_ledger()
    stranger = ledger.keys.stranger
    ledger.append(
        ledger.next_event(DOSSIER, ev.WITHDRAWAL_REQUESTED, RECEPTION, {"reason": "x"}, [stranger])
    )
    ledger.register(Registration(stranger.public_key, RECEPTION, frozenset({"reception"}), WARD))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity("signature.unknown_key", 3, where=f"leaf {LEAF} signature 0"),
            integrity(
                "key.invalid_at_position",
                3,
                where=f"leaf {LEAF} key {stranger.key_id.hex()}",
                found=stranger.key_id.hex(),
            ),
            integrity("signature.role", 3, where=f"leaf {LEAF}"),
        ],
    )


def test_the_actors_revoked_key_is_invalid_there_and_leaves_no_acting_signature(
    batch: int,
) -> None:
    """The portal's key revoked at leaf 9, then used for the dossier at leaf 10."""
    ledger = clean_ledger()
    ledger.revoke(ledger.keys.portal)
    ledger.append(ledger.withdrawal_requested())
    leaf = LEAF + 1
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "key.invalid_at_position",
                3,
                leaf=leaf,
                where=f"leaf {leaf} key {ledger.keys.portal.key_id.hex()}",
                expected=repr(f"revoked after leaf {leaf}"),
                found=repr(f"revoked at leaf {LEAF}"),
            ),
            integrity("signature.role", 3, leaf=leaf, where=f"leaf {leaf}"),
        ],
    )


def test_only_the_use_after_a_revocation_is_reported(batch: int) -> None:
    """The portal's key signs n = 6 (leaf 9), is revoked (leaf 10), signs n = 7 (leaf 11):
    only the use after the revocation is reported."""
    ledger = clean_ledger()
    ledger.append(ledger.withdrawal_requested())
    ledger.revoke(ledger.keys.portal)
    ledger.append(ledger.withdrawal_requested(reason="after"))
    reported = verify(ledger, batch=batch).findings.kept
    assert sorted((f.check, f.leaf, f.n) for f in reported) == [
        ("key.invalid_at_position", LEAF + 2, N + 1),
        ("signature.role", LEAF + 2, N + 1),
    ]


def test_a_valid_signature_by_someone_else_for_the_actor_is_signature_role(batch: int) -> None:
    """The body names the reception officer as actor but only the portal signed: the
    signature verifies, by a registered key, but not the actor's."""
    ledger = clean_ledger()
    ledger.append(
        ledger.next_event(
            DOSSIER, ev.WITHDRAWAL_REQUESTED, RECEPTION, {"reason": "x"}, [ledger.keys.portal]
        )
    )
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "signature.role",
                3,
                where=f"leaf {LEAF}",
                expected=repr(f"{RECEPTION} as portal or reception"),
                found=repr(f"{PORTAL} as portal"),
            ),
            Expect("rule.illegal_event", 9, "rule", DOSSIER, N, found=ev.WITHDRAWAL_REQUESTED),
        ],
    )


def test_revoking_an_unknown_key_is_registry_change(batch: int) -> None:
    """The authority revokes a key that was never registered."""
    ledger = clean_ledger()
    ledger.add(
        REGISTRY_STREAM,
        KEY_REVOKED,
        AUTHORITY_ACTOR,
        key_revoked(ledger.keys.stranger.key_id, reason="never was"),
        [ledger.keys.authority],
    )
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "registry.change",
                3,
                REGISTRY_STREAM,
                REGISTRY_LEAVES + 1,
                where=f"leaf {LEAF}",
                found=ledger.keys.stranger.key_id.hex(),
            )
        ],
    )


def test_revoking_a_key_twice_is_registry_change_at_the_second(batch: int) -> None:
    """The second revocation of the portal's key (leaf 10) is refused; the first stands."""
    ledger = clean_ledger()
    ledger.revoke(ledger.keys.portal)
    ledger.revoke(ledger.keys.portal, reason="again")
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "registry.change",
                3,
                REGISTRY_STREAM,
                REGISTRY_LEAVES + 2,
                leaf=LEAF + 1,
                where=f"leaf {LEAF + 1}",
                found=ledger.keys.portal.key_id.hex(),
            )
        ],
    )


def test_a_registration_with_a_bad_signature_is_not_applied(batch: int) -> None:
    """A registry event whose authority signature fails registers nothing: the key it
    names is still unknown when it signs at the next leaf."""
    ledger = clean_ledger()
    ledger.append(forged_bad_signature(stranger_registration(ledger, ledger.keys.authority)))
    stranger = ledger.keys.stranger
    ledger.append(
        ledger.next_event(
            DOSSIER, ev.WITHDRAWAL_REQUESTED, "ward:stranger", {"reason": "x"}, [stranger]
        )
    )
    reported = verify(ledger, batch=batch).findings.kept
    assert sorted((f.check, f.leaf or -1) for f in reported) == [
        ("key.invalid_at_position", LEAF + 1),
        ("rule.illegal_event", -1),  # the dossier pass: a rule finding has no leaf
        ("signature.invalid", LEAF),
        ("signature.role", LEAF + 1),
        ("signature.unknown_key", LEAF + 1),
    ]


def test_a_registry_event_by_an_unregistered_key_is_one_unknown_key(batch: int) -> None:
    """One signature by an unknown key on a registry event is one finding."""
    ledger = clean_ledger()
    stranger = ledger.keys.stranger
    ledger.append(stranger_registration(ledger, stranger))
    assert_findings(
        verify(ledger, batch=batch),
        [
            integrity(
                "signature.unknown_key",
                3,
                REGISTRY_STREAM,
                REGISTRY_LEAVES + 1,
                where=f"leaf {LEAF} signature 0",
                found=stranger.key_id.hex(),
            )
        ],
    )


def test_a_malformed_registry_payload_is_reported_in_a_step_that_lists_its_id(
    batch: int,
) -> None:
    """A ``KeyRevoked`` without its ``reason``: reported once, under a step whose check ids
    (``verify.checks.STEPS``) include the id it is reported as."""
    ledger = clean_ledger()
    ledger.add(
        REGISTRY_STREAM,
        KEY_REVOKED,
        AUTHORITY_ACTOR,
        {"key_id": ledger.keys.portal.key_id},
        [ledger.keys.authority],
    )
    reported = verify(ledger, batch=batch).findings.kept
    assert [(f.stream, f.n, f.leaf) for f in reported] == [
        (REGISTRY_STREAM, REGISTRY_LEAVES + 1, LEAF)
    ]
    assert reported[0].step == step_of(reported[0].check)


def test_a_record_that_does_not_parse_is_skipped_by_later_steps(batch: int) -> None:
    """A malformed record is reported once in step 1 and checked no further: the dossier's
    chain continues from its last well-formed event (the record's claimed n = 6 is taken by
    the next, well-formed one)."""
    ledger = clean_ledger()
    ledger.append_raw(encoding.encode({"body": b"", "sigs": []}), stream=DOSSIER, n=N)  # no body
    ledger.append(ledger.withdrawal_requested(time_us=ledger.heads[DOSSIER].body.time_us + MINUTE))
    assert_findings(
        verify(ledger, batch=batch),
        [Expect("encoding.canonical", 1, "malformed", DOSSIER, N, LEAF)],
    )
