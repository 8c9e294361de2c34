"""The vault's envelope encryption: per-subject data keys wrapped by a master key.

Every data subject gets a random 32-byte data key; their personal records are
encrypted with it (XSalsa20-Poly1305, PyNaCl ``SecretBox``), and the data key
is stored only wrapped (encrypted) by the master key from configuration.
Destroying the wrapped key makes every ciphertext of that subject noise.

A master key is named by a key id (``SHA-256("hoso/vault-master/v1\\0" || key)[:8]``)
stored beside each wrapped key, so a new master key can be rolled in while
the old one still unwraps (docs/privacy.md §Keys).
"""

from __future__ import annotations

import hashlib
import os
from typing import Final

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from ledger.core.encoding import Value, decode, encode
from ledger.core.errors import MalformedError, OutOfServiceError, VerificationError

MASTER_KEY_CONTEXT: Final = b"hoso/vault-master/v1\x00"
KEY_SIZE: Final = SecretBox.KEY_SIZE


class VaultKeyMissing(OutOfServiceError):
    """A wrapped key names a master key that is not configured."""

    check = "privacy.master_key"


class VaultDecryptFailed(VerificationError):
    """A ciphertext or wrapped key did not authenticate (wrong key, or altered bytes)."""

    check = "privacy.decrypt"


class MalformedVaultKey(MalformedError):
    """A vault master key of the wrong size."""

    check = "privacy.vault_key"


class MasterKey:
    """One master key. ``repr`` never shows it."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise MalformedVaultKey(f"a vault master key is {KEY_SIZE} bytes, got {len(key)}")
        self._box = SecretBox(key)
        self.kid = hashlib.sha256(MASTER_KEY_CONTEXT + key).digest()[:8]

    def __repr__(self) -> str:
        return f"MasterKey(kid={self.kid.hex()})"

    def wrap(self, data_key: bytes) -> bytes:
        return bytes(self._box.encrypt(data_key))

    def unwrap(self, wrapped: bytes, *, where: str) -> bytes:
        try:
            return bytes(self._box.decrypt(wrapped))
        except CryptoError as err:
            raise VaultDecryptFailed(
                "the wrapped data key did not authenticate", where=where
            ) from err


class MasterKeys:
    """The current master key (wraps new keys) and older ones (still unwrap)."""

    def __init__(self, current: MasterKey, *older: MasterKey) -> None:
        self.current = current
        self._by_kid = {k.kid: k for k in (current, *older)}

    def unwrap(self, kid: bytes, wrapped: bytes, *, where: str) -> bytes:
        key = self._by_kid.get(kid)
        if key is None:
            raise VaultKeyMissing(
                "the master key that wrapped this data key is not configured",
                where=where,
                expected=kid,
                found=sorted(self._by_kid),
            )
        return key.unwrap(wrapped, where=where)


def new_data_key() -> bytes:
    return os.urandom(KEY_SIZE)


def seal(data_key: bytes, value: Value) -> bytes:
    """Encrypt a canonical value under a subject's data key (random nonce inside)."""
    return bytes(SecretBox(data_key).encrypt(encode(value)))


def unseal(data_key: bytes, blob: bytes, *, where: str) -> Value:
    try:
        plain = SecretBox(data_key).decrypt(blob)
    except CryptoError as err:
        raise VaultDecryptFailed("a vault record did not authenticate", where=where) from err
    return decode(bytes(plain))
