"""Domain-separated SHA-256 hashing (FIPS 180-4; RFC 9162 §2.1.1 for the Merkle tree).

Every hash hoso computes starts with a prefix naming its purpose, so bytes
hashed for one purpose can never be taken for another (docs/formats.md §2):

============================  ==========================================
purpose                       preimage
============================  ==========================================
event hash                    ``b"hoso/event/v1\\x00" || body``
event signature message       ``b"hoso/event-signature/v1\\x00" || event hash``
chain genesis (``prev``, n=1)  ``SHA-256(b"hoso/genesis/v1\\x00")``
key id                        ``SHA-256(b"hoso/key-id/v1\\x00" || 0x01 || pubkey)[:16]``
Merkle leaf                   ``0x00 || leaf bytes`` (RFC 9162)
Merkle node                   ``0x01 || left || right`` (RFC 9162)
============================  ==========================================

The NUL byte ends each text prefix, so no prefix is a prefix of another and
none can be read as C2SP signed-note text (which forbids control characters).
"""

from __future__ import annotations

import hashlib
from typing import Final, NewType

Hash = NewType("Hash", bytes)
"""A 32-byte Merkle tree hash: a leaf, a node or a root."""

EventHash = NewType("EventHash", bytes)
"""The 32-byte hash of a signed event's canonical body."""

HASH_SIZE: Final = 32

EVENT_HASH_PREFIX: Final = b"hoso/event/v1\x00"
EVENT_SIGNATURE_CONTEXT: Final = b"hoso/event-signature/v1\x00"
GENESIS_CONTEXT: Final = b"hoso/genesis/v1\x00"
KEY_ID_CONTEXT: Final = b"hoso/key-id/v1\x00"
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"

GENESIS_PREV: Final = EventHash(hashlib.sha256(GENESIS_CONTEXT).digest())
"""The ``prev`` of every stream's first event (n = 1)."""

EMPTY_ROOT: Final = Hash(hashlib.sha256(b"").digest())
"""The RFC 9162 root of the empty tree: SHA-256 of no bytes."""


def event_hash(body: bytes) -> EventHash:
    """Hash an event's canonical body bytes."""
    return EventHash(hashlib.sha256(EVENT_HASH_PREFIX + body).digest())


def event_signature_message(digest: EventHash) -> bytes:
    """The exact bytes an actor's Ed25519 key signs for an event."""
    return EVENT_SIGNATURE_CONTEXT + digest


def leaf_hash(leaf: bytes) -> Hash:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf)."""
    return Hash(hashlib.sha256(LEAF_PREFIX + leaf).digest())


def node_hash(left: bytes, right: bytes) -> Hash:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return Hash(hashlib.sha256(NODE_PREFIX + left + right).digest())
