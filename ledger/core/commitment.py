"""Salted commitments and keyed index tags: naming personal data without writing it.

Signed and hashed bytes never hold personal data (docs/privacy.md). They hold
a *commitment* instead::

    commit(salt, label, value) = SHA-256(b"hoso/commit/v1\\x00" || salt || encode([label, value]))

with a 16-byte random ``salt`` that lives only inside the data subject's
encrypted vault record. Without the salt the commitment says nothing, not even
for a 12-digit citizen id number (10^12 guesses times 2^128 salts); with it, a
reader holding the data can check it against the ledger. Destroying the salt
(erasure) leaves the commitment in place and every hash over it valid.

The *index tag* is how authorised parties find a subject by id number::

    index_tag(key, kind, value) = HMAC-SHA-256(key, b"hoso/index/v1\\x00" || encode([kind, value]))

keyed by a server secret that never enters the ledger, so nothing in ledger
bytes, proofs, bundles or QR codes lets anyone compute or test it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from ledger.core.encoding import Value, encode
from ledger.core.errors import MalformedError, VerificationError

COMMIT_PREFIX: Final = b"hoso/commit/v1\x00"
INDEX_PREFIX: Final = b"hoso/index/v1\x00"
SALT_SIZE: Final = 16
INDEX_KEY_MIN: Final = 32


class MalformedCommitmentInput(MalformedError):
    """A salt or index key of the wrong size."""

    check = "commitment.input"


class CommitmentMismatch(VerificationError):
    """Personal data does not open the commitment recorded in the ledger.

    ``expected`` is the recorded commitment and ``found`` the recomputed one;
    the data itself is never part of the message.
    """

    check = "privacy.commitment"


def commit(salt: bytes, label: str, value: Value) -> bytes:
    """The 32-byte commitment to ``value`` under ``salt``; ``label`` names the field."""
    if len(salt) != SALT_SIZE:
        raise MalformedCommitmentInput(f"a salt is {SALT_SIZE} bytes, got {len(salt)}")
    return hashlib.sha256(COMMIT_PREFIX + salt + encode([label, value])).digest()


def verify_commitment(
    commitment: bytes, salt: bytes, label: str, value: Value, *, where: str
) -> None:
    """Raise :class:`CommitmentMismatch` unless ``value`` opens ``commitment``."""
    found = commit(salt, label, value)
    if not hmac.compare_digest(found, commitment):
        raise CommitmentMismatch(
            f"the {label!r} data does not open the recorded commitment",
            where=where,
            expected=commitment,
            found=found,
        )


def index_tag(key: bytes, kind: str, value: str) -> bytes:
    """The keyed lookup tag of an identifier (e.g. ``kind="cccd"``) under a server secret."""
    if len(key) < INDEX_KEY_MIN:
        raise MalformedCommitmentInput(f"an index key is at least {INDEX_KEY_MIN} bytes")
    return hmac.new(key, INDEX_PREFIX + encode([kind, value]), hashlib.sha256).digest()
