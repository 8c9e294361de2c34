"""tests/vectors/status_list.json re-derived without hoso (gzip, hashlib, nacl, msgpack),
and docs/formats.md §13 quotes its values."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import msgpack
import nacl.signing

from ledger.core.status_list import parse_status_list, verify_status_list

ROOT = Path(__file__).resolve().parents[2]
VECTOR: dict[str, Any] = json.loads((ROOT / "tests/vectors/status_list.json").read_text("utf-8"))


def test_vector_rederived_without_hoso() -> None:
    key = nacl.signing.SigningKey(bytes.fromhex(VECTOR["seal_key_seed_hex"]))
    public = bytes(key.verify_key)
    key_id = hashlib.sha256(b"hoso/key-id/v1\x00\x01" + public).digest()[:16]
    assert key_id.hex() == VECTOR["key_id_hex"]
    gz = bytes.fromhex(VECTOR["bits_gzip_hex"])
    bits = gzip.decompress(gz)
    assert len(bits) * 8 == VECTOR["size"]
    # W3C order: entry i is bit 7 - i % 8 of byte i // 8
    set_entries = [i for i in range(VECTOR["size"]) if bits[i // 8] >> (7 - i % 8) & 1]
    assert set_entries == VECTOR["set_entries"]
    fields = {
        "kind": "hoso/status-list",
        "v": 1,
        "origin": VECTOR["origin"],
        "agency": VECTOR["agency"],
        "list": VECTOR["list"],
        "size": VECTOR["size"],
        "issued": VECTOR["issued_s"],
        "checkpoint": VECTOR["checkpoint"],
        "bits": gz,
        "key": key_id,
    }

    def canonical(value: dict[str, Any]) -> bytes:  # §1: map keys sorted bytewise
        return msgpack.packb(dict(sorted(value.items())), use_bin_type=True)

    message = b"hoso/status-list/v1\x00" + canonical(fields)
    assert hashlib.sha256(message).hexdigest() == VECTOR["signing_message_sha256_hex"]
    signature = key.sign(message).signature
    assert signature.hex() == VECTOR["signature_hex"]
    document = canonical({**fields, "sig": signature})
    assert document.hex() == VECTOR["document_hex"]
    assert len(document) == VECTOR["document_size"]
    assert hashlib.sha256(document).hexdigest() == VECTOR["digest_hex"]


def test_hoso_reads_and_verifies_the_vector() -> None:
    listed = parse_status_list(bytes.fromhex(VECTOR["document_hex"]))
    key = nacl.signing.SigningKey(bytes.fromhex(VECTOR["seal_key_seed_hex"]))
    verify_status_list(listed, bytes(key.verify_key))  # type: ignore[arg-type]
    assert [listed.body.status(i) for i in (4, 5, 6, 70_001)] == [
        "valid",
        "invalid",
        "valid",
        "invalid",
    ]
    assert listed.digest.hex() == VECTOR["digest_hex"]


def test_formats_doc_quotes_the_vector() -> None:
    doc = (ROOT / "docs/formats.md").read_text("utf-8")
    section = doc[doc.index("## 13. Status lists") :].replace("\n", "")
    for value in (
        VECTOR["bits_gzip_hex"],
        VECTOR["digest_hex"],
        VECTOR["signature_hex"],
        str(VECTOR["document_size"]),
    ):
        assert value in section, value
