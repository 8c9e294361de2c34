"""An encrypted keystore file holding named Ed25519 keys (docs/keystore.md).

The custodial signer keeps the keys of actors who don't run their own client
(officers, agency seals) in one file, never in the clear:

* a 32-byte key is derived from a passphrase with Argon2id (libsodium
  ``crypto_pwhash``, random 16-byte salt, limits recorded in the file);
* the entries — name, 32-byte seed, creation time — are encoded as canonical
  msgpack and sealed with ``crypto_secretbox`` (XSalsa20-Poly1305, random
  24-byte nonce);
* the file is a small JSON envelope carrying the KDF parameters, the salt,
  the nonce and the ciphertext, base64-encoded.

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

import base64
import binascii
import json
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ledger.core.encoding import Value, decode, encode
from ledger.core.errors import HosoError, MalformedEncoding, MalformedError, VerificationError
from ledger.core.signing import SEED_SIZE, KeyId, PublicKey, Signer

_argon2id = nacl.pwhash.argon2id

FORMAT: Final = "hoso-keystore/v1"
KDF: Final = "argon2id"
KEY_SIZE: Final = nacl.secret.SecretBox.KEY_SIZE  # 32
SALT_SIZE: Final = _argon2id.SALTBYTES  # 16
NONCE_SIZE: Final = nacl.secret.SecretBox.NONCE_SIZE  # 24
MAC_SIZE: Final = nacl.secret.SecretBox.MACBYTES  # 16
MAX_FILE_SIZE: Final = 16 * 1024 * 1024
"""A keystore file larger than this is refused unread (thousands of keys fit in 1 MiB)."""

ENVELOPE_FIELDS: Final = ("format", "kdf", "opslimit", "memlimit", "salt", "nonce", "ciphertext")
ENTRY_FIELDS: Final = ("created_us", "name", "seed")

NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,127}")
"""Key names: 1-128 ASCII characters, letters, digits and ``. _ : @ + / -``,
starting with a letter or digit (``officer:hn-0001``, ``seal:agency/hn``)."""


class KdfLimits(NamedTuple):
    """Argon2id cost parameters (libsodium ``opslimit`` and ``memlimit`` in bytes)."""

    opslimit: int
    memlimit: int


MODERATE: Final = KdfLimits(_argon2id.OPSLIMIT_MODERATE, _argon2id.MEMLIMIT_MODERATE)
"""3 passes over 256 MiB: the default for real keystores."""
SENSITIVE: Final = KdfLimits(_argon2id.OPSLIMIT_SENSITIVE, _argon2id.MEMLIMIT_SENSITIVE)
"""4 passes over 1 GiB: the most a keystore may ask for."""
INTERACTIVE: Final = KdfLimits(_argon2id.OPSLIMIT_INTERACTIVE, _argon2id.MEMLIMIT_INTERACTIVE)
"""2 passes over 64 MiB: for tests and examples."""
MIN: Final = KdfLimits(_argon2id.OPSLIMIT_MIN, _argon2id.MEMLIMIT_MIN)
"""1 pass over 8 KiB: libsodium's floor, for fast tests only — no protection."""

OPSLIMIT_RANGE: Final = (MIN.opslimit, SENSITIVE.opslimit)
MEMLIMIT_RANGE: Final = (MIN.memlimit, SENSITIVE.memlimit)


# --- errors ------------------------------------------------------------------


class KeystoreError(HosoError):
    """Base of every keystore error (each is also in a core family)."""

    check = "keystore"


class KeystoreLocked(KeystoreError, VerificationError):
    """The file does not decrypt: wrong passphrase or damaged file (never says which)."""

    check = "keystore.decrypt"


class KeystoreFormatError(KeystoreError, MalformedError):
    """The file is not a hoso keystore v1 envelope; ``where`` names the field."""

    check = "keystore.format"


class KeystorePassphraseInvalid(KeystoreError, MalformedError):
    """A passphrase is empty or not ``str``/``bytes``."""

    check = "keystore.passphrase"


class KeystoreNameInvalid(KeystoreError, MalformedError):
    """A key name does not match :data:`NAME_PATTERN`."""

    check = "keystore.name"


class KeystoreUnknownKey(KeystoreError, VerificationError):
    """No key of that name is in the keystore."""

    check = "keystore.unknown_key"


class KeystoreDuplicateKey(KeystoreError, VerificationError):
    """A key of that name, or the same key under another name, is already stored."""

    check = "keystore.duplicate_key"


# --- public values -----------------------------------------------------------


class KeyInfo(NamedTuple):
    """The public half of a stored key."""

    key_id: KeyId
    public_key: PublicKey


def _now_us() -> int:
    return time.time_ns() // 1000


class _Entry:
    """One stored key. Its repr never shows the seed."""

    __slots__ = ("created_us", "info", "seed")

    def __init__(self, seed: bytes, created_us: int) -> None:
        signer = Signer(seed)
        self.seed = seed
        self.created_us = created_us
        self.info = KeyInfo(signer.key_id, signer.public_key)

    def __repr__(self) -> str:
        return f"_Entry(key_id={self.info.key_id.hex()}, created_us={self.created_us})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a keystore entry holds a private key and is not picklable")


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
        entries: dict[str, _Entry],
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
        secret = _passphrase_bytes(passphrase)
        _check_limits(limits, where="limits")
        limits = KdfLimits(*limits)
        salt = _draw(random, SALT_SIZE)
        store = cls(
            Path(path),
            limits=limits,
            salt=salt,
            key=_derive(secret, salt, limits),
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
        secret = _passphrase_bytes(passphrase)
        path = Path(path)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_SIZE + 1)
        limits, salt, nonce, ciphertext = parse_envelope(data)
        key = _derive(secret, salt, limits)
        try:
            plaintext: bytes = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
        except nacl.exceptions.CryptoError:
            raise KeystoreLocked("wrong passphrase or damaged file", where=str(path)) from None
        entries = _parse_entries(plaintext)
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
        _check_name(name)
        if name in self._entries:
            raise KeystoreDuplicateKey(f"a key named {name!r} is already stored")
        if seed is None:
            seed = _draw(self._random, SEED_SIZE)
        created_us = self._clock()
        if isinstance(created_us, bool) or not isinstance(created_us, int) or created_us < 0:
            raise ValueError("the clock must return non-negative integer microseconds")
        entry = _Entry(seed, created_us)
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
        secret = _passphrase_bytes(new)
        if limits is None:
            limits = self._limits
        _check_limits(limits, where="limits")
        limits = KdfLimits(*limits)
        salt = _draw(self._random, SALT_SIZE)
        key = _derive(secret, salt, limits)
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
        plaintext = encode(
            [
                {"name": name, "seed": entry.seed, "created_us": entry.created_us}
                for name, entry in sorted(
                    self._entries.items(), key=lambda item: item[0].encode("utf-8")
                )
            ]
        )
        nonce = _draw(self._random, NONCE_SIZE)
        sealed = nacl.secret.SecretBox(self._key).encrypt(plaintext, nonce)
        return format_envelope(self._limits, self._salt, nonce, sealed.ciphertext)

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise KeystoreUnknownKey(f"no key named {name!r} in the keystore") from None


# --- envelope ----------------------------------------------------------------


def format_envelope(limits: KdfLimits, salt: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """The envelope's bytes: JSON, fields in :data:`ENVELOPE_FIELDS` order, 2-space indent."""
    envelope = {
        "format": FORMAT,
        "kdf": KDF,
        "opslimit": limits.opslimit,
        "memlimit": limits.memlimit,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }
    return (json.dumps(envelope, indent=2) + "\n").encode("ascii")


def parse_envelope(data: bytes) -> tuple[KdfLimits, bytes, bytes, bytes]:
    """Check an envelope's shape; return (limits, salt, nonce, ciphertext).

    Raises :class:`KeystoreFormatError` naming the offending field.
    """
    if len(data) > MAX_FILE_SIZE:
        raise KeystoreFormatError(f"file is larger than {MAX_FILE_SIZE} bytes", where="file")
    try:
        envelope = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_pairs,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError):
        raise KeystoreFormatError("not a JSON keystore envelope", where="file") from None
    if not isinstance(envelope, dict):
        raise KeystoreFormatError("the envelope is not a JSON object", where="file")
    if envelope.get("format") != FORMAT:
        found = envelope.get("format")
        shown = "missing" if found is None else _short(found)
        raise KeystoreFormatError(f"expected {FORMAT!r}, found {shown}", where="format")
    for field in ENVELOPE_FIELDS:
        if field not in envelope:
            raise KeystoreFormatError("field is missing", where=field)
    for field in envelope:
        if field not in ENVELOPE_FIELDS:
            raise KeystoreFormatError("unknown field", where=_short(field))
    if envelope["kdf"] != KDF:
        raise KeystoreFormatError(f"expected {KDF!r}, found {_short(envelope['kdf'])}", where="kdf")
    limits = KdfLimits(envelope["opslimit"], envelope["memlimit"])
    _check_limits(limits, where=None)
    salt = _unb64(envelope["salt"], "salt")
    nonce = _unb64(envelope["nonce"], "nonce")
    ciphertext = _unb64(envelope["ciphertext"], "ciphertext")
    if len(salt) != SALT_SIZE:
        raise KeystoreFormatError(f"must be {SALT_SIZE} bytes, got {len(salt)}", where="salt")
    if len(nonce) != NONCE_SIZE:
        raise KeystoreFormatError(f"must be {NONCE_SIZE} bytes, got {len(nonce)}", where="nonce")
    if len(ciphertext) <= MAC_SIZE:
        raise KeystoreFormatError(
            f"must be more than {MAC_SIZE} bytes, got {len(ciphertext)}", where="ciphertext"
        )
    return limits, salt, nonce, ciphertext


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise KeystoreFormatError("field appears twice", where=_short(key))
        out[key] = value
    return out


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object, field: str) -> bytes:
    if not isinstance(text, str):
        raise KeystoreFormatError(f"must be a base64 string, not {_kind(text)}", where=field)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise KeystoreFormatError("not valid base64 (RFC 4648 §4, padded)", where=field) from None
    if _b64(raw) != text:
        raise KeystoreFormatError("not canonical base64 (RFC 4648 §4, padded)", where=field)
    return raw


# --- plaintext -----------------------------------------------------------------


def _parse_entries(plaintext: bytes) -> dict[str, _Entry]:
    """Check the decrypted entries list; never echo a seed."""
    try:
        value: Value = decode(plaintext)
    except MalformedEncoding:
        raise KeystoreFormatError(
            "decrypted contents are not canonical msgpack", where="ciphertext"
        ) from None
    if not isinstance(value, list):
        raise KeystoreFormatError("decrypted contents are not an array", where="entries")
    entries: dict[str, _Entry] = {}
    previous: bytes | None = None
    seen: dict[bytes, str] = {}
    for i, item in enumerate(value):
        where = f"entries[{i}]"
        if not isinstance(item, dict) or sorted(item) != sorted(ENTRY_FIELDS):
            raise KeystoreFormatError(
                f"entry must be a map with exactly {', '.join(ENTRY_FIELDS)}", where=where
            )
        name, seed, created_us = item["name"], item["seed"], item["created_us"]
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise KeystoreFormatError("name is not a valid key name", where=f"{where}.name")
        if not isinstance(seed, bytes) or len(seed) != SEED_SIZE:
            raise KeystoreFormatError(f"seed must be {SEED_SIZE} bytes", where=f"{where}.seed")
        if isinstance(created_us, bool) or not isinstance(created_us, int) or created_us < 0:
            raise KeystoreFormatError(
                "created_us must be a non-negative int", where=f"{where}.created_us"
            )
        raw_name = name.encode("utf-8")
        if previous is not None and raw_name <= previous:
            raise KeystoreFormatError(
                "entries must be sorted by name, names unique", where=f"{where}.name"
            )
        previous = raw_name
        entry = _Entry(seed, created_us)
        if entry.info.public_key in seen:
            raise KeystoreFormatError(
                f"same key as {seen[entry.info.public_key]!r}", where=f"{where}.seed"
            )
        seen[entry.info.public_key] = name
        entries[name] = entry
    return entries


# --- helpers -------------------------------------------------------------------


def _passphrase_bytes(passphrase: object) -> bytes:
    """UTF-8 (NFC-normalised) bytes of a str passphrase; bytes as given."""
    if isinstance(passphrase, str):
        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8", "strict")
    elif isinstance(passphrase, bytes):
        secret = passphrase
    else:
        raise KeystorePassphraseInvalid(
            f"a passphrase must be str or bytes, not {type(passphrase).__name__}"
        )
    if not secret:
        raise KeystorePassphraseInvalid("the passphrase is empty")
    return secret


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise KeystoreNameInvalid(f"a key name must be str, not {type(name).__name__}")
    if not NAME_PATTERN.fullmatch(name):
        raise KeystoreNameInvalid(
            f"{_short(name)} is not a key name (1-128 of A-Z a-z 0-9 . _ : @ + / -, "
            "starting with a letter or digit)"
        )


def _check_limits(limits: object, *, where: str | None) -> None:
    if not isinstance(limits, tuple) or len(limits) != 2:
        raise KeystoreFormatError("limits must be a KdfLimits(opslimit, memlimit)", where=where)
    for field, value, (low, high) in (
        ("opslimit", limits[0], OPSLIMIT_RANGE),
        ("memlimit", limits[1], MEMLIMIT_RANGE),
    ):
        label = field if where is None else f"{where}.{field}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise KeystoreFormatError(f"must be an integer, not {_kind(value)}", where=label)
        if not low <= value <= high:
            raise KeystoreFormatError(f"{value} is outside [{low}, {high}]", where=label)


def _derive(secret: bytes, salt: bytes, limits: KdfLimits) -> bytes:
    key: bytes = _argon2id.kdf(
        KEY_SIZE, secret, salt, opslimit=limits.opslimit, memlimit=limits.memlimit
    )
    return key


def _draw(random: Callable[[int], bytes], size: int) -> bytes:
    raw = random(size)
    if not isinstance(raw, bytes) or len(raw) != size:
        raise ValueError(f"the random source returned something other than {size} bytes")
    return raw


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
