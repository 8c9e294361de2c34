"""The trust file's witness policy in C2SP tlog-policy syntax (verify/trust.py) and step 7's
``cosignature.quorum`` over the minimal ledger (verify/anchors.py)."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.checkpoint import Cosigner
from ledger.core.signing import Signer
from tests.verify.minimal import WITNESS_NAME, Expect, assert_findings, clean_ledger, verify
from verify.checks import MalformedTrust
from verify.trust import parse_trust

LATEST = 9


def cosigner(label: str) -> Cosigner:
    return Cosigner(f"witness.test/{label}", Signer(hashlib.sha256(label.encode()).digest()))


def test_policy_lines_name_group_and_require_witnesses() -> None:
    ledger = clean_ledger()
    second, never = cosigner("second"), cosigner("never")
    ledger.policy_lines = (
        f"witness two {second.verifier.vkey} https://two.test/\n"
        f"witness never {never.verifier.vkey}\n"
        f"group any-of-three 2 {WITNESS_NAME} two never\n"
        "quorum any-of-three\n"
    )
    trust = parse_trust(ledger.trust_text())
    assert [name for name, _ in trust.named_witnesses()] == [WITNESS_NAME, "two", "never"]
    assert trust.policy.witnesses["two"].url == "https://two.test/"
    assert trust.policy.quorum == "any-of-three"
    # only the ledger's own witness cosigns (`two` and `never` don't): 1 of the 2 needed
    assert_findings(
        verify(ledger),
        [
            Expect(
                "cosignature.quorum",
                7,
                "integrity",
                where=f"size {LATEST}",
                expected=repr("any-of-three"),
                found=repr(WITNESS_NAME),
            )
        ],
    )


def test_the_quorum_is_met_by_a_threshold_of_cosigners() -> None:
    ledger = clean_ledger()
    second = cosigner("second")
    ledger.more_witnesses = [second]  # trusted by its short line, and it cosigns
    ledger.policy_lines = f"group pair all {WITNESS_NAME} {second.name}\nquorum pair\n"
    assert_findings(verify(ledger), [])
    ledger.policy_lines = "quorum none\n"
    assert_findings(verify(ledger), [])


def test_a_witness_s_two_keys_on_short_lines_are_one_witness() -> None:
    ledger = clean_ledger()
    old = ledger.keys.witness
    rotated = Cosigner(old.name, Signer(b"\x0b" * 32))
    text = ledger.trust_text() + f"witness {rotated.verifier.vkey}\nquorum {old.name}\n"
    trust = parse_trust(text)
    assert [name for name, _ in trust.named_witnesses()] == [old.name, old.name]
    assert list(trust.policy.witnesses) == [old.name]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("quorum nobody\n", "not defined"),
        ("quorum none\nquorum none\n", "second quorum"),
        ("group g any nobody\n", "not defined"),
        ("group g 3 {w}\n", "threshold"),
        ("witness not-a-vkey\n", "vkey"),
        ("witness a b c d\n", "expected"),
    ],
)
def test_bad_policy_lines_are_trust_syntax(lines: str, message: str) -> None:
    ledger = clean_ledger()
    text = ledger.trust_text() + lines.replace("{w}", WITNESS_NAME)
    with pytest.raises(MalformedTrust, match=message) as raised:
        parse_trust(text)
    assert raised.value.check == "trust.syntax"


def test_a_log_line_may_carry_a_url() -> None:
    ledger = clean_ledger()
    vkey = ledger.keys.log.verifier.vkey
    text = ledger.trust_text().replace(f"log {vkey}\n", f"log {vkey} https://log.test/\n")
    assert parse_trust(text).log_keys == (ledger.keys.log.verifier,)
    with pytest.raises(MalformedTrust):
        parse_trust(ledger.trust_text().replace(f"log {vkey}\n", f"log {vkey} a b\n"))
