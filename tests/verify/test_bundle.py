"""Offline bundles: the golden vector, tampering, the documented limit, and export → verify."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ledger.core.event import parse_record
from ledger.core.note import Ed25519NoteSigner
from ledger.core.signing import Signer
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.services.bundles import BundleSubjectUnknown, export_bundle
from tests.support.tamperable import NOW_US, Tamperable
from verify.bundle import verify_bundle
from verify.bundle_format import Bundle, BundleEntry, parse_bundle
from verify.findings import EXIT_INTEGRITY, EXIT_MALFORMED, EXIT_VERIFIED
from verify.run import Report
from verify.trust import parse_trust

pytestmark = pytest.mark.integration

VECTOR: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "bundle.json").read_text(encoding="utf-8")
)
DATA = bytes.fromhex(VECTOR["bundle_hex"])
TRUST = parse_trust(VECTOR["trust"])


def check(data: bytes, trust_text: str = VECTOR["trust"]) -> Report:
    return verify_bundle(
        data,
        parse_trust(trust_text),
        catalogue=load_catalogue(),
        calendar=load_calendar(),
        now_us=NOW_US,
    )


def non_rule(report: Report) -> Counter[str]:
    f = report.findings
    return Counter({c: n for c, n in f.counts.items() if f.families[c] != "rule"})


def test_vector_parses_to_its_expected_values() -> None:
    assert hashlib.sha256(DATA).hexdigest() == VECTOR["bundle_sha256_hex"]
    bundle = parse_bundle(DATA)
    expected = VECTOR["expected"]
    assert bundle.dossier == expected["dossier"]
    assert [e.leaf for e in bundle.events] == expected["event_leaves"]
    assert [e.leaf for e in bundle.registry] == expected["registry_leaves"]
    assert [parse_record(e.record).event_hash.hex() for e in bundle.events] == expected[
        "event_hashes_hex"
    ]
    assert [len(e.proof) for e in (*bundle.registry, *bundle.events)] == expected[
        "inclusion_proof_lengths"
    ]
    assert bundle.encode() == DATA  # one byte form


def test_vector_verifies_with_the_trust_file_alone() -> None:
    report = check(DATA)
    assert non_rule(report) == Counter()
    assert report.exit_code() == EXIT_VERIFIED
    assert report.records == 4
    assert [a.checkpoint.size for a in report.checkpoints] == [
        VECTOR["expected"]["checkpoint_size"]
    ]
    assert report.checkpoints[0].witnesses == ("witness.hoso.example/w1",)


def _tampered(**changes: Any) -> bytes:
    return replace(parse_bundle(DATA), **changes).encode()


def test_a_broken_proof_is_merkle_inclusion() -> None:
    bundle = parse_bundle(DATA)
    first = bundle.events[0]
    broken = BundleEntry(first.leaf, first.record, (bytes(32), *first.proof[1:]))
    report = check(_tampered(events=(broken, *bundle.events[1:])))
    assert "merkle.inclusion" in non_rule(report)
    assert report.exit_code() == EXIT_INTEGRITY


def test_a_dropped_first_event_breaks_the_chain() -> None:
    bundle = parse_bundle(DATA)
    report = check(_tampered(events=bundle.events[1:]))
    assert "chain.position" in non_rule(report)


def test_a_dropped_registration_leaves_a_signature_without_a_key() -> None:
    bundle = parse_bundle(DATA)
    report = check(_tampered(registry=bundle.registry[:1]))
    assert "key.invalid_at_position" in non_rule(report)


def test_an_event_of_another_dossier_is_a_mismatch() -> None:
    report = check(_tampered(dossier="000.39.05.H26-260302-9999"))
    assert "bundle.mismatch" in non_rule(report)


def test_an_untrusted_log_key_anchors_nothing() -> None:
    trust = "\n".join(line for line in VECTOR["trust"].splitlines() if not line.startswith("log "))
    other = Ed25519NoteSigner(TRUST.origin, Signer(hashlib.sha256(b"another log").digest()))
    other_log = f"log {other.verifier.vkey}"
    report = check(DATA, trust + "\n" + other_log)
    assert {"note.unsigned", "checkpoint.missing"} <= set(non_rule(report))


def test_garbage_is_malformed() -> None:
    report = check(DATA[:-3])
    assert report.exit_code() == EXIT_MALFORMED


def test_a_bundle_cut_at_the_end_is_incomplete() -> None:
    """The index commit says the dossier has two events at the checkpoint: a bundle that
    drops the last one (a revocation, a refusal...) no longer verifies."""
    bundle = parse_bundle(DATA)
    report = check(_tampered(events=bundle.events[:1]))
    assert non_rule(report) == Counter({"bundle.incomplete": 1})
    (finding,) = [f for f in report.findings.kept if f.check == "bundle.incomplete"]
    assert finding.stream == bundle.dossier
    assert "n=2" in str(finding.expected)
    assert "n=1" in str(finding.found)
    assert report.exit_code() == EXIT_INTEGRITY


def test_a_registry_cut_at_the_end_is_incomplete() -> None:
    """Dropping the key registry's last event (a revocation, say) is found too."""
    bundle = parse_bundle(DATA)
    report = check(_tampered(registry=bundle.registry[:1]))
    assert "bundle.incomplete" in non_rule(report)


def test_a_version_1_bundle_proves_no_completeness() -> None:
    report = check(_tampered(index=None))
    assert non_rule(report) == Counter({"bundle.incomplete": 1})


def test_a_lookup_proof_of_another_stream_is_refused() -> None:
    bundle = parse_bundle(DATA)
    assert bundle.index is not None
    dossier, registry = bundle.index.proofs
    # the dossier's place holds the registry's proof: its value is another stream's
    swapped = replace(bundle.index, proofs=(replace(dossier, lookup=registry.lookup), registry))
    report = check(_tampered(index=swapped))
    assert "index.proof" in non_rule(report)
    assert report.exit_code() != EXIT_VERIFIED


def test_export_then_verify_on_both_backends(tamperable: Tamperable) -> None:
    code = tamperable.ledger.codes[7]  # audited and revoked: a result, revoked, correctly
    bundle = export_bundle(tamperable.url, dossier=code)
    report = check(bundle.encode(), tamperable.ledger.trust_lines())
    assert non_rule(report) == Counter()
    assert report.exit_code() == EXIT_VERIFIED
    assert {parse_record(e.record).body.stream for e in bundle.events} == {code}
    by_result = export_bundle(tamperable.url, result=f"KS-{code[-4:]}")
    assert by_result.dossier == code
    assert by_result.result == f"KS-{code[-4:]}"


def test_export_of_a_planted_dossier_reports_its_rule_finding(tamperable: Tamperable) -> None:
    bundle: Bundle = export_bundle(tamperable.url, dossier=tamperable.ledger.codes[6])
    report = check(bundle.encode(), tamperable.ledger.trust_lines())
    assert report.findings.counts["rule.paper_copy_without_basis"] == 1
    assert report.exit_code() == EXIT_VERIFIED
    assert report.exit_code(strict=True) == EXIT_INTEGRITY


def test_unknown_result_is_refused(tamperable: Tamperable) -> None:
    with pytest.raises(BundleSubjectUnknown, match="no dossier holds a result"):
        export_bundle(tamperable.url, result="NO-SUCH")
