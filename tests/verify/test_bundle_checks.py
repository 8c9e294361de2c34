"""Offline bundles of the minimal ledger: ``bundle.shape`` and ``bundle.mismatch``
(``verify/bundle.py``), each with its step and position.

The clean bundle holds the minimal ledger's dossier (leaves 4–8), the four registry
records (leaves 0–3), an inclusion proof for each, and the latest checkpoint
cosigned by the witness; it verifies with no finding. Each test breaks one part.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ledger.core import encoding
from ledger.core.hashing import leaf_hash
from ledger.core.merkle import root_from_inclusion_proof
from tests.verify.minimal import (
    DOSSIER,
    HOUR,
    ORIGIN,
    OTHER_ORIGIN,
    SECOND_DOSSIER,
    T0,
    Expect,
    assert_findings,
    bundle_of,
    clean_ledger,
    verify_bundle_bytes,
    with_index_commit,
)
from verify.bundle_format import BundleEntry
from verify.run import Report

LEDGER = clean_ledger()
BUNDLE = bundle_of(LEDGER)
COMMITTED = with_index_commit(LEDGER)  # the log the bundle is cut from


def check(data: bytes) -> Report:
    return verify_bundle_bytes(LEDGER, data)


def raw_bundle() -> dict[str, Any]:
    """The clean bundle as the decoded map, to break by hand."""
    value = encoding.decode(BUNDLE.encode())
    assert isinstance(value, dict)
    return value


def test_the_clean_bundle_verifies_with_no_finding() -> None:
    """Nine records (five events, four registry records), every proof holds, nothing
    reported, in any family."""
    report = check(BUNDLE.encode())
    assert_findings(report, [])
    assert report.records == 9
    assert [e.leaf for e in BUNDLE.events] == [4, 5, 6, 7, 8]
    assert [e.leaf for e in BUNDLE.registry] == [0, 1, 2, 3]


def broken(change: str) -> bytes:
    raw = raw_bundle()
    if change == "no result key":
        del raw["result"]
    elif change == "an extra key":
        raw["note"] = "x"
    elif change == "another kind":
        raw["kind"] = "hoso/other"
    elif change == "version 3":
        raw["v"] = 3
    elif change == "origin as bin":
        raw["origin"] = ORIGIN.encode()
    elif change == "checkpoint as str":
        raw["checkpoint"] = BUNDLE.checkpoint.decode()
    elif change == "events as a map":
        raw["events"] = {}
    elif change == "an entry without proof":
        del raw["events"][0]["proof"]
    elif change == "a negative leaf":
        raw["registry"][1]["leaf"] = -1
    elif change == "a proof of str":
        raw["events"][2]["proof"] = ["00" * 32]
    elif change == "a record as str":
        raw["registry"][3]["record"] = "record"
    else:
        raise AssertionError(change)
    return encoding.encode(raw)


SHAPES = {
    "no result key": "bundle",
    "an extra key": "bundle",
    "another kind": "bundle",
    "version 3": "bundle",
    "origin as bin": "bundle",
    "checkpoint as str": "bundle",
    "events as a map": "bundle",
    "an entry without proof": "bundle / events[0]",
    "a negative leaf": "bundle / registry[1]",
    "a proof of str": "bundle / events[2]",
    "a record as str": "bundle / registry[3]",
}


@pytest.mark.parametrize("change", list(SHAPES))
def test_a_bundle_off_the_format_is_bundle_shape(change: str) -> None:
    """Each way off docs/formats.md §10 is one ``bundle.shape`` (malformed, step 1), where
    names the entry when one is at fault; nothing else is checked."""
    report = check(broken(change))
    assert_findings(report, [Expect("bundle.shape", 1, "malformed", where=SHAPES[change])])
    assert report.exit_code() == 2


def test_bytes_that_are_not_canonical_msgpack_are_encoding_canonical() -> None:
    """A trailing byte after the bundle's map: ``encoding.canonical`` at that byte."""
    data = BUNDLE.encode()
    assert_findings(
        check(data + b"\x00"),
        [Expect("encoding.canonical", 1, "malformed", where=f"bundle / byte {len(data)}")],
    )


def test_two_entries_at_one_leaf_are_bundle_shape_at_that_leaf() -> None:
    """The dossier's first record listed twice: ``bundle.shape`` at leaf 4 (step 1); the
    copy is left out of the log the checks run over, so the chain is whole."""
    events = (BUNDLE.events[0], *BUNDLE.events)
    report = check(replace(BUNDLE, events=events).encode())
    non_rule = [f for f in report.findings.kept if f.family != "rule"]
    assert [(f.check, f.step, f.where) for f in non_rule] == [("bundle.shape", 1, "leaf 4")]


def test_a_bundle_for_another_ledger_is_a_mismatch_and_nothing_more() -> None:
    """The bundle names another origin: ``bundle.mismatch`` (step 6) before its checkpoint
    is even opened."""
    report = check(replace(BUNDLE, origin=OTHER_ORIGIN).encode())
    assert_findings(
        report,
        [
            Expect(
                "bundle.mismatch",
                6,
                "integrity",
                expected=repr(ORIGIN),
                found=repr(OTHER_ORIGIN),
            )
        ],
    )
    assert report.checkpoints == []


def test_events_of_another_dossier_than_named_are_a_mismatch_each() -> None:
    """The bundle names the second dossier but holds the first's five events: one
    ``bundle.mismatch`` (step 4) per event, at its leaf; and its index evidence proves
    nothing of the second dossier (``index.evidence_shape``, step 10)."""
    report = check(replace(BUNDLE, dossier=SECOND_DOSSIER).encode())
    assert_findings(
        report,
        [
            Expect(
                "bundle.mismatch",
                4,
                "integrity",
                where=f"leaf {leaf}",
                expected=repr(SECOND_DOSSIER),
                found=repr(DOSSIER),
            )
            for leaf in range(4, 9)
        ]
        + [
            Expect(
                "index.evidence_shape",
                10,
                "malformed",
                SECOND_DOSSIER,
                where=SECOND_DOSSIER,
            )
        ],
    )


def test_a_dossier_record_among_the_registry_entries_is_a_mismatch() -> None:
    """The log also holds a second dossier's submission (leaf 9); the bundle lists it with
    the registry records: ``bundle.mismatch`` at leaf 9, system/keys expected."""
    ledger = clean_ledger()
    ledger.append(ledger.submission(SECOND_DOSSIER, time_us=T0 + HOUR))
    honest = bundle_of(ledger)
    second = bundle_of(ledger, dossier=SECOND_DOSSIER).events
    bundle = replace(honest, registry=(*honest.registry, *second))
    assert_findings(
        verify_bundle_bytes(ledger, bundle.encode()),
        [
            Expect(
                "bundle.mismatch",
                4,
                "integrity",
                where="leaf 9",
                expected=repr("system/keys"),
                found=repr(SECOND_DOSSIER),
            )
        ],
    )


def test_a_result_the_dossier_does_not_hold_is_a_mismatch() -> None:
    """Exported for result KS-0002 of a dossier whose only result is KS-0001: ``bundle.mismatch``
    (step 9) with the dossier's results found; for KS-0001 itself, no finding."""
    ledger = clean_ledger()
    ledger.append(ledger.result_issued())
    assert_findings(verify_bundle_bytes(ledger, bundle_of(ledger, result="KS-0001").encode()), [])
    assert_findings(
        verify_bundle_bytes(ledger, bundle_of(ledger, result="KS-0002").encode()),
        [
            Expect(
                "bundle.mismatch",
                9,
                "integrity",
                expected=repr("KS-0002"),
                found=repr(["KS-0001"]),
            )
        ],
    )


def test_a_broken_proof_drops_its_record_and_breaks_the_chain_after_it() -> None:
    """Leaf 6's proof has a wrong first hash: ``merkle.inclusion`` at leaf 6 (step 5), the
    checkpoint's root expected and the proof's found; the record is not taken as in the
    log, so n = 4 at leaf 7 follows n = 2 (``chain.position``)."""
    third = BUNDLE.events[2]
    proof = (bytes(32), *third.proof[1:])
    bad = BundleEntry(third.leaf, third.record, proof)
    events = (*BUNDLE.events[:2], bad, *BUNDLE.events[3:])
    rebuilt = root_from_inclusion_proof(
        index=6, size=COMMITTED.size, leaf_hash=leaf_hash(third.record), proof=proof
    )
    assert_findings(
        check(replace(BUNDLE, events=events).encode()),
        [
            Expect(
                "merkle.inclusion",
                5,
                "integrity",
                leaf=6,
                where=f"leaf 6 of {COMMITTED.size}",
                expected=COMMITTED.root().hex(),
                found=rebuilt.hex(),
            ),
            Expect(
                "chain.position",
                4,
                "integrity",
                DOSSIER,
                4,
                7,
                f"stream {DOSSIER} n=4",
                expected="3",
                found="4",
            ),
        ],
    )


def test_events_listed_out_of_order_are_bundle_shape_not_rule_findings() -> None:
    """The clean bundle with its events listed last to first (leaves and proofs intact)."""
    report = check(replace(BUNDLE, events=tuple(reversed(BUNDLE.events))).encode())
    assert not [f for f in report.findings.kept if f.family == "rule"]
    assert "bundle.shape" in report.findings.counts
