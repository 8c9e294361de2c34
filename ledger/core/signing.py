"""Ed25519 signing and verification (RFC 8032, via PyNaCl/libsodium).

A :class:`Signer` wraps a private key. It never prints or exposes its seed
except through :meth:`Signer.export_seed`, which only the encrypted keystore
calls. Key generation needs randomness, so it happens at the edge: the core
builds signers from a 32-byte seed the caller supplies.

Key ids are derived from the public key (docs/formats.md §3):
``SHA-256(b"hoso/key-id/v1\\x00" || 0x01 || public key)[:16]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final, NewType

import nacl.signing
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from ledger.core.errors import MalformedKey, SignatureInvalid
from ledger.core.hashing import KEY_ID_CONTEXT

PublicKey = NewType("PublicKey", bytes)
"""A 32-byte Ed25519 public key (RFC 8032 encoding)."""

KeyId = NewType("KeyId", bytes)
"""A 16-byte key id derived from a public key."""

ED25519_TYPE: Final = b"\x01"
PUBLIC_KEY_SIZE: Final = 32
SEED_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
KEY_ID_SIZE: Final = 16


def parse_public_key(raw: bytes, *, where: str | None = None) -> PublicKey:
    """Check a raw public key's length; raise MalformedKey otherwise."""
    if not isinstance(raw, bytes) or len(raw) != PUBLIC_KEY_SIZE:
        size = len(raw) if isinstance(raw, bytes) else type(raw).__name__
        raise MalformedKey(
            f"Ed25519 public key must be {PUBLIC_KEY_SIZE} bytes, got {size}", where=where
        )
    return PublicKey(raw)


def key_id(public_key: PublicKey) -> KeyId:
    """The hoso key id of an Ed25519 public key."""
    return KeyId(hashlib.sha256(KEY_ID_CONTEXT + ED25519_TYPE + public_key).digest()[:KEY_ID_SIZE])


class Signer:
    """An Ed25519 private key. Its repr and str never show the key."""

    __slots__ = ("_key", "key_id", "public_key")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes) or len(seed) != SEED_SIZE:
            raise MalformedKey(f"Ed25519 seed must be {SEED_SIZE} bytes")
        self._key = nacl.signing.SigningKey(seed)
        self.public_key = PublicKey(bytes(self._key.verify_key))
        self.key_id = key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """A 64-byte Ed25519 signature over ``message``."""
        signature: bytes = self._key.sign(message).signature
        return signature

    def export_seed(self) -> bytes:
        """The 32-byte private seed, for the encrypted keystore only."""
        seed: bytes = bytes(self._key)
        return seed

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id.hex()})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Signer holds a private key and is not picklable")


Verification = tuple[bytes, bytes, bytes]
"""(public key, message, signature): one Ed25519 check, as :func:`signatures_valid` takes it."""


def signature_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature over ``message``.

    The one Ed25519 verification of hoso: libsodium's ``crypto_sign_open`` over
    ``signature || message`` (what ``VerifyKey.verify`` does), without its per-call
    Python objects, so that threads and worker processes hold the GIL as little as
    possible. Keys or signatures of the wrong length are simply not valid.
    """
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        crypto_sign_open(signature + message, public_key)
    except BadSignatureError:
        return False
    return True


def signatures_valid(items: Sequence[Verification]) -> list[bool]:
    """:func:`signature_valid` of each (public key, message, signature), in order.

    The store splits large batches over threads and the verifier over processes;
    both call this on each part.
    """
    return [signature_valid(public_key, message, sig) for public_key, message, sig in items]


def verify_signature(
    public_key: PublicKey, message: bytes, signature: bytes, *, where: str | None = None
) -> None:
    """Raise SignatureInvalid unless ``signature`` is ``public_key``'s over ``message``."""
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureInvalid(
            f"signature is {len(signature)} bytes, not {SIGNATURE_SIZE}", where=where
        )
    if not signature_valid(public_key, message, signature):
        raise SignatureInvalid(
            f"Ed25519 signature by key {key_id(public_key).hex()} does not verify",
            where=where,
        )
