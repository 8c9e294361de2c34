"""The witness's key file: one line in the Go ``note`` package's private-key form,

    PRIVATE+KEY+<name>+<hex key id>+base64(0x04 || 32-byte Ed25519 seed)

(key id as in c2sp.org/tlog-cosignature: SHA-256(name || 0x0A || 0x04 || public key)[:4]).
The file is created with mode 0o600 and never overwritten; the key never appears in a
message, log line or repr. Its vkey is ``<name>+<hex key id>+base64(0x04 || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Final

from ledger.core.checkpoint import Cosigner
from ledger.core.errors import MalformedKey
from ledger.core.note import SIG_COSIGNATURE_V1, check_key_name, note_key_id
from ledger.core.signing import SEED_SIZE, Signer

PREFIX: Final = "PRIVATE+KEY+"


def format_key_file(name: str, seed: bytes) -> str:
    signer = Signer(seed)
    key_id = note_key_id(check_key_name(name), SIG_COSIGNATURE_V1, signer.public_key)
    blob = base64.b64encode(bytes([SIG_COSIGNATURE_V1]) + seed).decode("ascii")
    return f"{PREFIX}{name}+{key_id.hex()}+{blob}\n"


def parse_key_file(text: str, *, where: str) -> Cosigner:
    """The cosigner in a key file's text (MalformedKey, never echoing the text)."""
    line = text.strip()
    parts = line.removeprefix(PREFIX).split("+", 2) if line.startswith(PREFIX) else []
    if len(parts) != 3:
        raise MalformedKey(
            "a witness key file is PRIVATE+KEY+<name>+<hex id>+<base64>", where=where
        )
    name, hex_id, blob = parts
    try:
        raw = base64.b64decode(blob, validate=True)
        claimed = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise MalformedKey("the key file's id or key is not hex and base64", where=where) from None
    if len(raw) != 1 + SEED_SIZE or raw[0] != SIG_COSIGNATURE_V1:
        raise MalformedKey("the key file holds no 0x04 Ed25519 seed", where=where)
    cosigner = Cosigner(check_key_name(name), Signer(raw[1:]))
    if cosigner.verifier.key_id != claimed:
        raise MalformedKey("the key file's key id does not match its name and key", where=where)
    return cosigner


def create_key_file(path: Path, *, name: str, seed: bytes) -> Cosigner:
    """Write a new key file (mode 0o600; refuses to replace one); return its cosigner."""
    text = format_key_file(name, seed)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return parse_key_file(text, where=str(path))


def read_key_file(path: Path) -> Cosigner:
    return parse_key_file(path.read_text(encoding="ascii", errors="replace"), where=str(path))
