"""The keystore file's format (docs/keystore.md): a JSON envelope around an
Argon2id-keyed ``crypto_secretbox`` of the key entries.

* a 32-byte key is derived from a passphrase with Argon2id (libsodium
  ``crypto_pwhash``, random 16-byte salt, limits recorded in the file);
* the entries — name, 32-byte seed, creation time — are encoded as canonical
  msgpack and sealed with ``crypto_secretbox`` (XSalsa20-Poly1305, random
  24-byte nonce);
* the file is a small JSON envelope carrying the KDF parameters, the salt,
  the nonce and the ciphertext, base64-encoded.

Bytes in, bytes or typed errors out: no file, clock or randomness here (the nonce
and salt are given). :mod:`ledger.storage.keystore` is the file-backed store that
uses it. No passphrase, seed or derived key ever appears in a message, repr or
exception raised here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ledger.core.encoding import Value, decode, encode
from ledger.core.errors import (
    HosoError,
    MalformedEncoding,
    MalformedError,
    NotFoundError,
    StateConflict,
    VerificationError,
)
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


class KeystoreUnknownKey(KeystoreError, NotFoundError):
    """No key of that name is in the keystore."""

    check = "keystore.unknown_key"


class KeystoreDuplicateKey(KeystoreError, StateConflict):
    """A key of that name, or the same key under another name, is already stored."""

    check = "keystore.duplicate_key"


# --- public values -----------------------------------------------------------


class KeyInfo(NamedTuple):
    """The public half of a stored key."""

    key_id: KeyId
    public_key: PublicKey


class Entry:
    """One stored key. Its repr never shows the seed."""

    __slots__ = ("created_us", "info", "seed")

    def __init__(self, seed: bytes, created_us: int) -> None:
        signer = Signer(seed)
        self.seed = seed
        self.created_us = created_us
        self.info = KeyInfo(signer.key_id, signer.public_key)

    def __repr__(self) -> str:
        return f"Entry(key_id={self.info.key_id.hex()}, created_us={self.created_us})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a keystore entry holds a private key and is not picklable")


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
    check_limits(limits, where=None)
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


def seal_entries(
    entries: Mapping[str, Entry], *, key: bytes, limits: KdfLimits, salt: bytes, nonce: bytes
) -> bytes:
    """The envelope of ``entries`` (sorted by name), sealed under ``key`` with ``nonce``."""
    plaintext = encode(
        [
            {"name": name, "seed": entry.seed, "created_us": entry.created_us}
            for name, entry in sorted(entries.items(), key=lambda item: item[0].encode("utf-8"))
        ]
    )
    sealed = nacl.secret.SecretBox(key).encrypt(plaintext, nonce)
    return format_envelope(limits, salt, nonce, sealed.ciphertext)


def open_envelope(
    data: bytes, secret: bytes, *, where: str
) -> tuple[KdfLimits, bytes, bytes, dict[str, Entry]]:
    """(limits, salt, derived key, entries) of an envelope opened with ``secret``.

    Raises :class:`KeystoreFormatError` if ``data`` is not an envelope and
    :class:`KeystoreLocked` if it does not decrypt (wrong passphrase or altered).
    """
    limits, salt, nonce, ciphertext = parse_envelope(data)
    key = derive_key(secret, salt, limits)
    try:
        plaintext: bytes = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise KeystoreLocked("wrong passphrase or damaged file", where=where) from None
    return limits, salt, key, parse_entries(plaintext)


# --- plaintext -----------------------------------------------------------------


def parse_entries(plaintext: bytes) -> dict[str, Entry]:
    """Check the decrypted entries list; never echo a seed."""
    try:
        value: Value = decode(plaintext)
    except MalformedEncoding:
        raise KeystoreFormatError(
            "decrypted contents are not canonical msgpack", where="ciphertext"
        ) from None
    if not isinstance(value, list):
        raise KeystoreFormatError("decrypted contents are not an array", where="entries")
    entries: dict[str, Entry] = {}
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
        entry = Entry(seed, created_us)
        if entry.info.public_key in seen:
            raise KeystoreFormatError(
                f"same key as {seen[entry.info.public_key]!r}", where=f"{where}.seed"
            )
        seen[entry.info.public_key] = name
        entries[name] = entry
    return entries


# --- helpers -------------------------------------------------------------------


def passphrase_bytes(passphrase: object) -> bytes:
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


def check_name(name: object) -> None:
    if not isinstance(name, str):
        raise KeystoreNameInvalid(f"a key name must be str, not {type(name).__name__}")
    if not NAME_PATTERN.fullmatch(name):
        raise KeystoreNameInvalid(
            f"{_short(name)} is not a key name (1-128 of A-Z a-z 0-9 . _ : @ + / -, "
            "starting with a letter or digit)"
        )


def check_limits(limits: object, *, where: str | None) -> None:
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


def derive_key(secret: bytes, salt: bytes, limits: KdfLimits) -> bytes:
    key: bytes = _argon2id.kdf(
        KEY_SIZE, secret, salt, opslimit=limits.opslimit, memlimit=limits.memlimit
    )
    return key


def draw(random: Callable[[int], bytes], size: int) -> bytes:
    raw = random(size)
    if not isinstance(raw, bytes) or len(raw) != size:
        raise ValueError(f"the random source returned something other than {size} bytes")
    return raw


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
