"""Authority keys rotate through the ledger: a key registered with the ``authority``
role signs registry events from the next position on; a revoked trust-root authority
key signs none after its revocation, and neither does a revoked registered one. The
verifier honours each from that position on, whole and followed in increments."""

from __future__ import annotations

import hashlib

from ledger.core.registry import (
    KEY_REGISTERED,
    REGISTRY_STREAM,
    Registration,
    key_registered,
    key_revoked,
)
from ledger.core.registry import KEY_REVOKED as REVOKED
from ledger.core.signing import Signer
from tests.verify.minimal import WARD, MinimalLedger, clean_ledger, verify
from tests.verify.test_follow import run

NEW_AUTHORITY = Signer(hashlib.sha256(b"new authority").digest())


def registered_by(ledger: MinimalLedger, signer: Signer, label: str) -> None:
    """A registry event registering a fresh handler key, signed by ``signer``."""
    key = Signer(hashlib.sha256(label.encode()).digest())
    payload = key_registered(key.public_key, actor=f"ward:{label}", roles={"handler"}, agency=WARD)
    ledger.add(REGISTRY_STREAM, KEY_REGISTERED, "authority:new", payload, [signer])


def rotated() -> MinimalLedger:
    """The clean ledger, then: the authority registers a new authority key, the new key
    revokes the trust-root authority key, and registers an officer's key."""
    ledger = clean_ledger()
    ledger.register(
        Registration(NEW_AUTHORITY.public_key, "authority:new", frozenset({"authority"}), WARD)
    )
    ledger.add(
        REGISTRY_STREAM,
        REVOKED,
        "authority:new",
        key_revoked(ledger.keys.authority.key_id, reason="rotated"),
        [NEW_AUTHORITY],
    )
    registered_by(ledger, NEW_AUTHORITY, "chuyenvien-09")
    return ledger


def test_a_rotated_authority_verifies() -> None:
    ledger = rotated()
    assert not verify(ledger).findings.counts
    assert run(ledger, [4, 9, ledger.size])[1] == set()


def test_the_revoked_root_signs_nothing_after_its_revocation() -> None:
    ledger = rotated()
    registered_by(ledger, ledger.keys.authority, "chuyenvien-10")
    report = verify(ledger)
    assert dict(report.findings.counts) == {"signature.unknown_key": 1}
    (finding,) = report.findings.kept
    assert finding.leaf == ledger.size - 1
    assert "revoked" in finding.detail
    assert run(ledger, [ledger.size - 2, ledger.size])[1] == {"signature.unknown_key"}


def test_a_key_without_the_authority_role_signs_no_registry_event() -> None:
    ledger = clean_ledger()
    registered_by(ledger, ledger.keys.reception, "chuyenvien-11")
    assert dict(verify(ledger).findings.counts) == {"signature.unknown_key": 1}


def test_a_revoked_registered_authority_signs_nothing_after() -> None:
    ledger = rotated()
    ledger.add(
        REGISTRY_STREAM,
        REVOKED,
        "authority:new",
        key_revoked(NEW_AUTHORITY.key_id, reason="lost"),
        [NEW_AUTHORITY],
    )
    assert not verify(ledger).findings.counts  # its own revocation, at its position, stands
    registered_by(ledger, NEW_AUTHORITY, "chuyenvien-12")
    assert dict(verify(ledger).findings.counts) == {"signature.unknown_key": 1}
