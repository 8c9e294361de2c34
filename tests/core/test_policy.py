"""C2SP tlog-policy files (ledger.core.policy): the spec's example, every definition rule,
and quorums over real cosignatures."""

from __future__ import annotations

import pytest

from ledger.core.note import format_vkey
from ledger.core.policy import MalformedPolicy, QuorumNotMet, parse_policy
from tests.support.toy_log import ToyLog, cosigner


def wvkey(name: str) -> str:
    return cosigner(name).verifier.vkey


LOG = ToyLog()


def example() -> str:
    """The spec's two-level example, with real keys."""
    w = {n: wvkey(f"witness.test/{n}") for n in ("X1", "X2", "X3", "Y1", "Y2", "Y3")}
    return f"""# the spec's example
log {LOG.key.verifier.vkey} https://log.test/
\twitness X1 {w["X1"]}
witness X2 {w["X2"]}   https://x2.test/
witness X3 {w["X3"]}
group X-witnesses 2 X1 X2 X3

witness Y1 {w["Y1"]}
witness Y2 {w["Y2"]}
witness Y3 {w["Y3"]}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def test_the_spec_example() -> None:
    policy = parse_policy(example())
    assert [log.origin for log in policy.logs] == [LOG.origin]
    assert policy.logs[0].url == "https://log.test/"
    assert policy.witnesses["X2"].url == "https://x2.test/"
    assert policy.groups["X-witnesses"].threshold == 2
    assert policy.groups["Y-witnesses"].threshold == 1
    assert policy.groups["X-and-Y"].threshold == 2
    assert policy.quorum == "X-and-Y"
    assert policy.witnessed("X-and-Y", {"X1", "X3", "Y2"})
    assert not policy.witnessed("X-and-Y", {"X1", "Y2"})
    assert not policy.witnessed("X-and-Y", {"X1", "X2", "X3"})
    assert policy.log_keys(LOG.origin) == (LOG.key.verifier,)


def test_quorum_over_a_cosigned_note() -> None:
    policy = parse_policy(example())
    note = LOG.note(5)
    cp = LOG.checkpoint(5)
    sigs = [cosigner(f"witness.test/{n}").cosign(cp, timestamp=9) for n in ("X1", "X3", "Y2")]
    assert policy.check_quorum(note.with_signatures(sigs)) == {"X1", "X3", "Y2"}
    with pytest.raises(QuorumNotMet) as short:
        policy.check_quorum(note.with_signatures(sigs[:2]), where="checkpoint 5")
    assert short.value.check == "cosignature.quorum"
    assert parse_policy("quorum none\n").check_quorum(note) == set()
    other = cosigner("witness.test/X1").cosign(LOG.checkpoint(6), timestamp=9)  # another tree
    forged = note.with_signatures([other])
    with pytest.raises(QuorumNotMet, match="fails"):
        policy.check_quorum(forged)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no quorum"),
        ("quorum none\nquorum none\n", "second quorum"),
        ("quorum W\n", "not defined"),
        (f"witness none {wvkey('a.test/w')}\nquorum none\n", "predefined"),
        (f"witness W {wvkey('a.test/w')}\nwitness W {wvkey('b.test/w')}\nquorum W\n", "already"),
        (f"witness A {wvkey('a.test/w')}\nwitness B {wvkey('a.test/w')}\nquorum A\n", "twice"),
        (f"log {LOG.key.verifier.vkey}\nlog {LOG.key.verifier.vkey}\nquorum none\n", "twice"),
        (f"witness A {wvkey('a.test/w')}\ngroup G 2 A\nquorum G\n", "threshold"),
        (f"witness A {wvkey('a.test/w')}\ngroup G 0 A\nquorum G\n", "threshold"),
        (f"witness A {wvkey('a.test/w')}\ngroup G 01 A\nquorum G\n", "threshold"),
        (f"witness A {wvkey('a.test/w')}\ngroup G any A A\nquorum G\n", "twice"),
        (f"witness A {wvkey('a.test/w')}\ngroup G any\nquorum none\n", "at least one"),
        ("group G any B\nquorum none\n", "not defined"),
        (f"witness A {wvkey('a.test/w')}\ngroup G any none\nquorum G\n", "not defined"),
        (f"witness A {LOG.key.verifier.vkey}\nquorum A\n", "0x04"),
        (f"log {wvkey('a.test/w')[:-2]}\nquorum none\n", "vkey"),
        ("witness A\nquorum none\n", "expected"),
        ("frobnicate x\nquorum none\n", "unknown"),
        ("quorum none\x0b\n", "control"),
    ],
)
def test_refusals_name_the_line(text: str, message: str) -> None:
    with pytest.raises(MalformedPolicy, match=message):
        parse_policy(text)


def test_a_witness_config_may_leave_out_the_quorum_and_32_is_the_limit() -> None:
    policy = parse_policy(f"log {LOG.key.verifier.vkey}\n", quorum_required=False)
    assert policy.quorum is None
    many = "".join(f"witness W{i} {wvkey(f'w{i}.test/w')}\n" for i in range(33))
    with pytest.raises(MalformedPolicy, match="32"):
        parse_policy(many + "quorum W0\n")
    log_with_0x04 = format_vkey("log.test/pq", 0x04, cosigner("log.test/pq").signer.public_key)
    assert parse_policy(f"log {log_with_0x04}\nquorum none\n").logs[0].origin == "log.test/pq"
