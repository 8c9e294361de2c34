"""tests/vectors/seal.json re-derived independently (hashlib, nacl, msgpack only), and
docs/formats.md quotes its values."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgpack
import nacl.signing

from ledger.core.seal import StatusRef, decode_text, parse_seal

ROOT = Path(__file__).resolve().parents[2]
VECTOR: dict[str, Any] = json.loads((ROOT / "tests/vectors/seal.json").read_text("utf-8"))


def test_vector_rederived_without_hoso() -> None:
    key = nacl.signing.SigningKey(bytes.fromhex(VECTOR["seal_key"]["seed_hex"]))
    public = bytes(key.verify_key)
    key_id = hashlib.sha256(b"hoso/key-id/v1\x00\x01" + public).digest()[:16]
    assert key_id.hex() == VECTOR["seal_key"]["key_id_hex"]
    c = VECTOR["claims"]
    document = VECTOR["document_utf8"].encode()
    middle = [
        c["dossier"],
        c["procedure"],
        c["result_number"],
        c["issued_s"],
        hashlib.sha256(document).digest()[:16],
        bytes.fromhex(VECTOR["event_hash_hex"])[:16],
    ]
    claims = [2, key_id[:8], *middle, c["status_list"], c["status_entry"]]
    body = msgpack.packb(claims, use_bin_type=True)
    assert body.hex() == VECTOR["claims_hex"]
    message = b"hoso/seal/v2\x00" + body
    assert message.hex() == VECTOR["signing_message_hex"]
    seal = body + key.sign(message).signature
    assert seal.hex() == VECTOR["seal_hex"]
    assert len(seal) == VECTOR["seal_size"]
    nacl.signing.VerifyKey(public).verify(message, seal[-64:])
    # version 1 (no status entry, the agency as a claim), still read
    v1 = VECTOR["v1"]
    old_body = msgpack.packb([1, key_id[:8], v1["agency"], *middle], use_bin_type=True)
    assert old_body.hex() == v1["claims_hex"]
    old = old_body + key.sign(b"hoso/seal/v1\x00" + old_body).signature
    assert old.hex() == v1["seal_hex"]
    # The URL tail: each 7-byte chunk as 17 digits, a final k-byte chunk as the fewest digits.
    widths = {k: len(str(256**k - 1)) for k in range(1, 8)}
    digits = "".join(
        str(int.from_bytes(seal[i : i + 7], "big")).zfill(widths[len(seal[i : i + 7])])
        for i in range(0, len(seal), 7)
    )
    assert VECTOR["url"] == "https://xacthuc.hoso.example/s/" + digits
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    b45 = ""
    for i in range(0, len(seal), 2):
        pair = seal[i : i + 2]
        n, width = (pair[0] * 256 + pair[1], 3) if len(pair) == 2 else (pair[0], 2)
        b45 += "".join(alphabet[(n // 45**j) % 45] for j in range(width))
    assert VECTOR["hs1"] == "HS1:" + b45


def test_hoso_reads_the_vector() -> None:
    for text in (VECTOR["url"], VECTOR["hs1"]):
        parsed = parse_seal(decode_text(text))
        assert parsed.claims.result_number == VECTOR["claims"]["result_number"]
        assert parsed.claims_bytes.hex() == VECTOR["claims_hex"]
        assert parsed.claims.status == StatusRef(0, VECTOR["claims"]["status_entry"])
        assert parsed.claims.version == 2
    old = parse_seal(decode_text(VECTOR["v1"]["hs1"]))
    assert (old.claims.version, old.claims.agency, old.claims.status) == (
        1,
        VECTOR["v1"]["agency"],
        None,
    )


def test_formats_doc_quotes_the_vector() -> None:
    doc = (ROOT / "docs/formats.md").read_text("utf-8")
    section = doc[doc.index("## 11. QR seal") :]
    for value in (
        VECTOR["claims_hex"],
        VECTOR["seal_hex"],
        VECTOR["seal_key"]["key_id_hex"],
        VECTOR["hs1"],
        str(VECTOR["seal_size"]),
    ):
        assert value in section.replace("\n", ""), value
