"""An encrypted keystore file holding named Ed25519 keys (docs/keystore.md).

The custodial signer keeps the keys of actors who don't run their own client
(officers, agency seals) in one file, never in the clear, in the format of
:mod:`ledger.storage.keystore_format` (Argon2id + XSalsa20-Poly1305 in a JSON
envelope).

Every change (:meth:`Keystore.add`, :meth:`Keystore.remove`,
:meth:`Keystore.change_passphrase`) is made in memory; only
:meth:`Keystore.save` writes, atomically (temporary file in the same
directory, fsync, :func:`os.replace`, mode 0o600), so a failed operation
leaves the file as it was.

No passphrase, seed or derived key ever appears in a message, repr or
exception raised here. Randomness (salt, nonce, new seeds) and the clock are
parameters so tests can be deterministic; they default to libsodium's CSPRNG
and the system clock.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nacl.utils

from ledger.core.signing import SEED_SIZE, Signer
from ledger.storage.keystore_format import (
    MAX_FILE_SIZE,
    MODERATE,
    NONCE_SIZE,
    SALT_SIZE,
    Entry,
    KdfLimits,
    KeyInfo,
    KeystoreDuplicateKey,
    KeystoreUnknownKey,
    check_limits,
    check_name,
    derive_key,
    draw,
    open_envelope,
    passphrase_bytes,
    seal_entries,
)


def _now_us() -> int:
    return time.time_ns() // 1000


class Keystore:
    """An unlocked keystore: named Ed25519 keys, saved encrypted to one file.

    Build one with :meth:`create` or :meth:`open`, not the constructor. The
    derived key stays in memory so :meth:`save` need not re-run Argon2id.
    Its repr shows the path and the names only.
    """

    __slots__ = ("_clock", "_entries", "_key", "_limits", "_path", "_random", "_salt")

    def __init__(
        self,
        path: Path,
        *,
        limits: KdfLimits,
        salt: bytes,
        key: bytes,
        entries: dict[str, Entry],
        random: Callable[[int], bytes],
        clock: Callable[[], int],
    ) -> None:
        self._path = path
        self._limits = limits
        self._salt = salt
        self._key = key
        self._entries = entries
        self._random = random
        self._clock = clock

    # --- opening ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        limits: KdfLimits = MODERATE,
        random: Callable[[int], bytes] = nacl.utils.random,
        clock: Callable[[], int] = _now_us,
    ) -> Keystore:
        """Create an empty keystore at ``path`` and write it.

        Refuses (:class:`FileExistsError`) to overwrite an existing file.
        ``limits`` sets the Argon2id cost; keep :data:`MODERATE` (or
        :data:`SENSITIVE`) for real keys.
        """
        secret = passphrase_bytes(passphrase)
        check_limits(limits, where="limits")
        limits = KdfLimits(*limits)
        salt = draw(random, SALT_SIZE)
        store = cls(
            Path(path),
            limits=limits,
            salt=salt,
            key=derive_key(secret, salt, limits),
            entries={},
            random=random,
            clock=clock,
        )
        store._write(exclusive=True)
        return store

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        random: Callable[[int], bytes] = nacl.utils.random,
        clock: Callable[[], int] = _now_us,
    ) -> Keystore:
        """Read and decrypt the keystore at ``path``.

        Raises :class:`KeystoreFormatError` if the file is not a keystore,
        :class:`KeystoreLocked` if the passphrase is wrong or the file was
        altered, and :class:`OSError` if it can't be read.
        """
        secret = passphrase_bytes(passphrase)
        path = Path(path)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_SIZE + 1)
        limits, salt, key, entries = open_envelope(data, secret, where=str(path))
        return cls(
            path, limits=limits, salt=salt, key=key, entries=entries, random=random, clock=clock
        )

    # --- reading ---------------------------------------------------------

    @property
    def path(self) -> Path:
        """The keystore file."""
        return self._path

    @property
    def limits(self) -> KdfLimits:
        """The Argon2id cost the file is (or will be) sealed with."""
        return self._limits

    def names(self) -> list[str]:
        """The key names, sorted."""
        return sorted(self._entries)

    def public_keys(self) -> dict[str, KeyInfo]:
        """``{name: (key_id, public_key)}`` for every stored key, by name."""
        return {name: self._entries[name].info for name in self.names()}

    def public_key(self, name: str) -> KeyInfo:
        """The key id and public key stored under ``name``."""
        return self._entry(name).info

    def created_us(self, name: str) -> int:
        """When the key ``name`` was added (integer microseconds UTC)."""
        return self._entry(name).created_us

    def signer(self, name: str) -> Signer:
        """A :class:`Signer` for the key ``name``."""
        return Signer(self._entry(name).seed)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __repr__(self) -> str:
        return f"Keystore(path={str(self._path)!r}, names={self.names()!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Keystore holds private keys and is not picklable")

    # --- changing (in memory until save) -----------------------------------

    def add(self, name: str, *, seed: bytes | None = None) -> KeyInfo:
        """Store a key under ``name``: ``seed`` if given, else a new random one.

        Returns its key id and public key. Refuses a name already in use and
        a key already stored under another name. Call :meth:`save` to write.
        """
        check_name(name)
        if name in self._entries:
            raise KeystoreDuplicateKey(f"a key named {name!r} is already stored")
        if seed is None:
            seed = draw(self._random, SEED_SIZE)
        created_us = self._clock()
        if isinstance(created_us, bool) or not isinstance(created_us, int) or created_us < 0:
            raise ValueError("the clock must return non-negative integer microseconds")
        entry = Entry(seed, created_us)
        for other, existing in self._entries.items():
            if existing.info.public_key == entry.info.public_key:
                raise KeystoreDuplicateKey(
                    f"key {entry.info.key_id.hex()} is already stored as {other!r}"
                )
        self._entries[name] = entry
        return entry.info

    def remove(self, name: str) -> None:
        """Forget the key ``name``. Call :meth:`save` to write."""
        self._entry(name)
        del self._entries[name]

    def change_passphrase(self, new: str | bytes, *, limits: KdfLimits | None = None) -> None:
        """Re-key with a new passphrase (new salt; optionally new limits).

        Takes effect on disk at the next :meth:`save`; until then the file
        still opens with the old passphrase.
        """
        secret = passphrase_bytes(new)
        if limits is None:
            limits = self._limits
        check_limits(limits, where="limits")
        limits = KdfLimits(*limits)
        salt = draw(self._random, SALT_SIZE)
        key = derive_key(secret, salt, limits)
        self._limits, self._salt, self._key = limits, salt, key

    # --- writing -----------------------------------------------------------

    def save(self) -> None:
        """Write the keystore atomically (fresh nonce; mode 0o600).

        On any error the previous file is left untouched.
        """
        self._write(exclusive=False)

    def _write(self, *, exclusive: bool) -> None:
        data = self._seal()
        directory = self._path.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp", dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if exclusive:
                os.link(tmp, self._path)  # fails if the path exists
                tmp.unlink()
            else:
                os.replace(tmp, self._path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_directory(directory)

    def _seal(self) -> bytes:
        nonce = draw(self._random, NONCE_SIZE)
        return seal_entries(
            self._entries, key=self._key, limits=self._limits, salt=self._salt, nonce=nonce
        )

    def _entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise KeystoreUnknownKey(f"no key named {name!r} in the keystore") from None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
