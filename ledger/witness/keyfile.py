"""The witness's key file: one line in the Go ``note`` package's private-key form,

    PRIVATE+KEY+<name>+<hex key id>+base64(0x04 || 32-byte Ed25519 seed)
    PRIVATE+KEY+<name>+<hex key id>+base64(0x06 || 32-byte ML-DSA-44 seed)

(key id as in c2sp.org/tlog-cosignature: SHA-256(name || 0x0A || type || public key)[:4],
the ML-DSA-44 public key being the 1312 bytes FIPS 204 derives from the seed).
The file is created with mode 0o600 and never overwritten; the key never appears in a
message, log line or repr. Its vkey is ``<name>+<hex key id>+base64(0x04 || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Final

from ledger.core.checkpoint import AnyCosigner, Cosigner, MLDSACosigner
from ledger.core.errors import MalformedKey
from ledger.core.note import SIG_COSIGNATURE_MLDSA44, SIG_COSIGNATURE_V1, check_key_name
from ledger.core.signing import SEED_SIZE, Signer

PREFIX: Final = "PRIVATE+KEY+"


def _cosigner(name: str, sig_type: int, seed: bytes) -> AnyCosigner:
    if sig_type == SIG_COSIGNATURE_MLDSA44:
        return MLDSACosigner(check_key_name(name), seed)
    return Cosigner(check_key_name(name), Signer(seed))


def format_key_file(name: str, seed: bytes, *, sig_type: int = SIG_COSIGNATURE_V1) -> str:
    key_id = _cosigner(name, sig_type, seed).verifier.key_id
    blob = base64.b64encode(bytes([sig_type]) + seed).decode("ascii")
    return f"{PREFIX}{name}+{key_id.hex()}+{blob}\n"


def parse_key_file(text: str, *, where: str) -> AnyCosigner:
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
    if len(raw) != 1 + SEED_SIZE or raw[0] not in (SIG_COSIGNATURE_V1, SIG_COSIGNATURE_MLDSA44):
        raise MalformedKey("the key file holds no 0x04 Ed25519 or 0x06 ML-DSA-44 seed", where=where)
    cosigner = _cosigner(name, raw[0], raw[1:])
    if cosigner.verifier.key_id != claimed:
        raise MalformedKey("the key file's key id does not match its name and key", where=where)
    return cosigner


def create_key_file(
    path: Path, *, name: str, seed: bytes, sig_type: int = SIG_COSIGNATURE_V1
) -> AnyCosigner:
    """Write a new key file (mode 0o600; refuses to replace one); return its cosigner."""
    text = format_key_file(name, seed, sig_type=sig_type)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return parse_key_file(text, where=str(path))


def read_key_file(path: Path) -> AnyCosigner:
    return parse_key_file(path.read_text(encoding="ascii", errors="replace"), where=str(path))
