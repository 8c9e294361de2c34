"""ML-DSA-44 witness cosignatures (c2sp.org/tlog-cosignature, type 0x06, subtree/v1):
the signed message against bytes assembled by hand from the spec text, the key id, the
vkey and key-file round trips, signing and verifying, and every change that must fail —
and Ed25519 and ML-DSA-44 cosignatures side by side on one note. The vector
tests/vectors/c2sp/mldsa44-cosignature.json holds one cosigned note (FIPS 204 signing is
hedged, so the signature is kept, not regenerated)."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import pytest

from ledger.core.checkpoint import (
    Checkpoint,
    Cosigner,
    MLDSACosignatureVerifier,
    MLDSACosigner,
    parse_cosignature_vkey,
    sign_checkpoint,
    subtree_message,
    verify_cosignatures,
)
from ledger.core.errors import CosignatureInvalid, MalformedCheckpoint, MalformedKey
from ledger.core.hashing import Hash
from ledger.core.note import Ed25519NoteSigner, parse_note
from ledger.core.signing import Signer
from ledger.witness.keyfile import format_key_file, parse_key_file

VECTOR = Path(__file__).resolve().parents[1] / "vectors/c2sp/mldsa44-cosignature.json"
SEED = bytes(range(32))
NAME = "witness.example/pq"
CHECKPOINT = Checkpoint(origin="hoso.example/hanoi", size=20852163, root=Hash(bytes(range(32))))


def test_message_layout_from_the_spec_text() -> None:
    want = (
        b"subtree/v1\n\x00"
        + bytes([len(NAME)])
        + NAME.encode()
        + (1679315147).to_bytes(8, "big")
        + bytes([len(CHECKPOINT.origin)])
        + CHECKPOINT.origin.encode()
        + (0).to_bytes(8, "big")
        + CHECKPOINT.size.to_bytes(8, "big")
        + CHECKPOINT.root
    )
    got = subtree_message(
        NAME, 1679315147, CHECKPOINT.origin, start=0, end=CHECKPOINT.size, root=CHECKPOINT.root
    )
    assert got == want
    assert len(b"subtree/v1\n\x00") == 12
    with pytest.raises(MalformedCheckpoint):
        subtree_message(NAME, 5, CHECKPOINT.origin, start=1, end=2, root=CHECKPOINT.root)
    with pytest.raises(MalformedCheckpoint):
        subtree_message("x" * 256, 0, CHECKPOINT.origin, start=0, end=1, root=CHECKPOINT.root)


def test_key_id_vkey_and_key_file() -> None:
    cosigner = MLDSACosigner(NAME, SEED)
    verifier = cosigner.verifier
    assert len(verifier.public_key) == 1312
    want_id = hashlib.sha256(NAME.encode() + b"\n" + b"\x06" + verifier.public_key).digest()[:4]
    assert verifier.key_id == want_id
    vkey = verifier.vkey
    name, hex_id, blob = vkey.split("+", 2)
    assert (name, hex_id) == (NAME, want_id.hex())
    assert base64.b64decode(blob) == b"\x06" + verifier.public_key
    assert parse_cosignature_vkey(vkey) == verifier
    text = format_key_file(NAME, SEED, sig_type=0x06)
    assert text.startswith(f"PRIVATE+KEY+{NAME}+{want_id.hex()}+")
    assert parse_key_file(text, where="test").verifier == verifier
    assert SEED.hex() not in repr(cosigner)
    with pytest.raises(MalformedKey):  # a 0x06 vkey whose key is not 1312 bytes
        parse_cosignature_vkey(
            f"{NAME}+{want_id.hex()}+" + base64.b64encode(b"\x06" + bytes(32)).decode()
        )


def test_sign_verify_and_what_must_fail() -> None:
    cosigner = MLDSACosigner(NAME, SEED)
    log = Ed25519NoteSigner(CHECKPOINT.origin, Signer(b"\x01" * 32))
    classic = Cosigner("witness.example/w1", Signer(b"\x02" * 32))
    note = sign_checkpoint(CHECKPOINT, log)
    line = cosigner.cosign(CHECKPOINT, timestamp=1_780_000_000)
    assert len(line.signature) == 8 + 2420
    both = note.with_signatures([line, classic.cosign(CHECKPOINT, timestamp=1_780_000_001)])
    found = verify_cosignatures(both, [cosigner.verifier, classic.verifier])
    assert found == {NAME: 1_780_000_000, "witness.example/w1": 1_780_000_001}
    reparsed = parse_note(both.serialise())
    assert verify_cosignatures(reparsed, [cosigner.verifier]) == {NAME: 1_780_000_000}
    for other in (
        Checkpoint(origin=CHECKPOINT.origin, size=CHECKPOINT.size + 1, root=CHECKPOINT.root),
        Checkpoint(origin=CHECKPOINT.origin, size=CHECKPOINT.size, root=Hash(bytes(32))),
        Checkpoint(origin="hoso.example/other", size=CHECKPOINT.size, root=CHECKPOINT.root),
    ):
        with pytest.raises(CosignatureInvalid):
            cosigner.verifier.verify(other.text(), line.signature)
    stamped = struct.pack(">Q", 1_780_000_001) + line.signature[8:]
    with pytest.raises(CosignatureInvalid):
        cosigner.verifier.verify(CHECKPOINT.text(), stamped)
    renamed = MLDSACosignatureVerifier("witness.example/pq2", cosigner.verifier.public_key)
    with pytest.raises(CosignatureInvalid):  # the message commits to the cosigner's name
        renamed.verify(CHECKPOINT.text(), line.signature)
    with pytest.raises(MalformedCheckpoint):
        cosigner.verifier.verify(CHECKPOINT.text(), line.signature[:-1])
    with pytest.raises(MalformedCheckpoint):
        cosigner.verifier.verify(CHECKPOINT.text(), struct.pack(">Q", 2**63) + line.signature[8:])


def test_the_vector() -> None:
    vector = json.loads(VECTOR.read_text())
    verifier = MLDSACosigner(vector["name"], bytes.fromhex(vector["seed_hex"])).verifier
    assert verifier.vkey == vector["vkey"]
    note = parse_note(vector["note"].encode())
    assert verify_cosignatures(note, [parse_cosignature_vkey(vector["vkey"])]) == {
        vector["name"]: vector["timestamp"]
    }
    checkpoint = vector["checkpoint"]
    message = subtree_message(
        vector["name"],
        vector["timestamp"],
        checkpoint["origin"],
        start=0,
        end=checkpoint["size"],
        root=base64.b64decode(checkpoint["root"]),
    )
    assert message.hex() == vector["message_hex"]
