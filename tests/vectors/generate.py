"""Generate hoso's golden vectors: tests/vectors/events.json, checkpoints.json, privacy.json,
bundle.json, seal.json, index.json, tiles.json.

Everything is deterministic (fixed seeds, fixed times; Ed25519 signing is
deterministic), so the files only change when the formats do. Run from the
repository root::

    python -m tests.vectors.generate          # compare, print a diff, write nothing
    python -m tests.vectors.generate --write  # (re)write the files

Exit status: 0 when the files are up to date (or were written), 1 when they
differ and ``--write`` was not given.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ledger.core.checkpoint import Checkpoint, Cosigner, sign_checkpoint
from ledger.core.commitment import COMMIT_PREFIX, commit, index_tag
from ledger.core.encoding import Value, encode
from ledger.core.event import EventBody, SignedEvent, sign_event, signing_message
from ledger.core.hashing import EMPTY_ROOT, GENESIS_PREV, Hash, node_hash
from ledger.core.note import Ed25519NoteSigner
from ledger.core.signing import Signer
from tests.vectors.bundle_vector import bundle_vectors
from tests.vectors.index_vector import index_vectors
from tests.vectors.tiles_vector import tiles_vectors

HERE = Path(__file__).resolve().parent
EVENTS_PATH = HERE / "events.json"
CHECKPOINTS_PATH = HERE / "checkpoints.json"
PRIVACY_PATH = HERE / "privacy.json"
BUNDLE_PATH = HERE / "bundle.json"
SEAL_PATH = HERE / "seal.json"
STATUS_LIST_PATH = HERE / "status_list.json"
INDEX_PATH = HERE / "index.json"
TILES_PATH = HERE / "tiles.json"

ORIGIN = "hoso.example/hanoi"
STREAM = "000.00.10.H26-260101-0001"
ACTOR = "officer/tran-thi-b"
OFFICER_SEED = bytes(range(32))
SEAL_SEED = hashlib.sha256(b"hoso test seed 1").digest()
LOG_SEED = hashlib.sha256(b"hoso test seed 2").digest()
WITNESS_SEED = hashlib.sha256(b"hoso test seed 3").digest()
WITNESS_NAME = "witness.hoso.example/w1"
ICT = timezone(timedelta(hours=7), "ICT")  # Indochina Time, UTC+7

SIGNER_SEEDS = {"officer": OFFICER_SEED, "agency-seal": SEAL_SEED}

# (type, local time, payload, signer roles) of the three events of one dossier stream.
EVENTS: list[tuple[str, datetime, dict[str, Value], tuple[str, ...]]] = [
    (
        "DossierReceived",
        datetime(2026, 1, 1, 8, 15, tzinfo=ICT),
        {
            "procedure_code": "1.001193",
            "procedure": "Cấp giấy khai sinh",
            # the applicant as a salted commitment (docs/privacy.md), never a name
            "người_nộp": commit(bytes(range(16)), "applicant", ["cccd", "001099000001"]).hex(),
            "documents": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"],
            "fee_vnd": 0,
        },
        ("officer",),
    ),
    (
        "DossierReviewed",
        datetime(2026, 1, 1, 9, 30, 0, 250_000, tzinfo=ICT),
        {"result": "hợp lệ", "note": "Hồ sơ đầy đủ, đúng quy định"},
        ("officer",),
    ),
    (
        "CertificateIssued",
        datetime(2026, 1, 2, 14, 0, tzinfo=ICT),
        {
            "certificate_no": "123/2026/KS",
            "register": "Sổ đăng ký khai sinh 01/2026",
            "issued": True,
            "copies": 2,
        },
        ("officer", "agency-seal"),
    ),
]

# (tree size, witness timestamp in POSIX seconds) of each checkpoint vector.
CHECKPOINTS: list[tuple[int, int]] = [
    (0, 1_767_229_200),  # 2026-01-01T01:00:00Z
    (1, 1_767_233_000),
    (3, 1_767_337_500),
]


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _signer_entry(role: str) -> dict[str, str]:
    signer = Signer(SIGNER_SEEDS[role])
    return {
        "role": role,
        "seed_hex": SIGNER_SEEDS[role].hex(),
        "public_key_hex": signer.public_key.hex(),
        "key_id_hex": signer.key_id.hex(),
    }


def build_events() -> list[SignedEvent]:
    """The three signed events of the vector stream, in order."""
    events: list[SignedEvent] = []
    prev = GENESIS_PREV
    for n, (event_type, moment, payload, roles) in enumerate(EVENTS, start=1):
        body = EventBody(
            origin=ORIGIN,
            stream=STREAM,
            n=n,
            prev=prev,
            type=event_type,
            actor=ACTOR,
            time_us=_micros(moment),
            payload=payload,
        )
        event = sign_event(body, [Signer(SIGNER_SEEDS[role]) for role in roles])
        events.append(event)
        prev = event.event_hash
    return events


def merkle_root(leaves: Sequence[bytes]) -> Hash:
    """RFC 9162 §2.1.1 Merkle tree hash over leaf hashes (split at the largest power of 2 < n)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return Hash(leaves[0])
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node_hash(merkle_root(leaves[:split]), merkle_root(leaves[split:]))


def events_vectors() -> dict[str, Any]:
    entries = []
    for event, (_, moment, payload, roles) in zip(build_events(), EVENTS, strict=True):
        body = event.body
        entries.append(
            {
                "comment": f"{body.type} at {moment.isoformat()}",
                "signers": [_signer_entry(role) for role in roles],
                "body": {
                    "v": body.version,
                    "origin": body.origin,
                    "stream": body.stream,
                    "n": body.n,
                    "prev_hex": body.prev.hex(),
                    "type": body.type,
                    "actor": body.actor,
                    "time": body.time_us,
                    "payload": payload,
                },
                "body_hex": event.body_bytes.hex(),
                "event_hash_hex": event.event_hash.hex(),
                "signing_message_hex": signing_message(body).hex(),
                "signatures": [
                    {"key_id_hex": s.key_id.hex(), "signature_hex": s.signature.hex()}
                    for s in event.signatures
                ],
                "record_hex": event.record.hex(),
                "leaf_hash_hex": event.leaf_hash.hex(),
            }
        )
    return {
        "comment": (
            "hoso signed event records (docs/formats.md). Generated by "
            "`python -m tests.vectors.generate`; do not edit by hand. "
            "Times are integer microseconds UTC; payloads hold no bytes, "
            "so JSON carries them as is."
        ),
        "origin": ORIGIN,
        "stream": STREAM,
        "genesis_prev_hex": GENESIS_PREV.hex(),
        "events": entries,
    }


def checkpoints_vectors() -> dict[str, Any]:
    log = Ed25519NoteSigner(ORIGIN, Signer(LOG_SEED))
    witness = Cosigner(WITNESS_NAME, Signer(WITNESS_SEED))
    leaves = [event.leaf_hash for event in build_events()]
    entries = []
    for size, timestamp in CHECKPOINTS:
        checkpoint = Checkpoint(origin=ORIGIN, size=size, root=merkle_root(leaves[:size]))
        signed = sign_checkpoint(checkpoint, log)
        cosigned = signed.with_signatures([witness.cosign(checkpoint, timestamp=timestamp)])
        entries.append(
            {
                "size": size,
                "root_hex": checkpoint.root.hex(),
                "leaf_hashes_hex": [leaf.hex() for leaf in leaves[:size]],
                "note_text": checkpoint.text(),
                "signed_note": signed.serialise().decode("utf-8"),
                "witness_timestamp": timestamp,
                "cosigned_note": cosigned.serialise().decode("utf-8"),
            }
        )
    return {
        "comment": (
            "hoso checkpoints (c2sp.org/tlog-checkpoint) signed by the log (Ed25519 note key, "
            "type 0x01) and cosigned by a witness (c2sp.org/tlog-cosignature, type 0x04). "
            "Leaves are the records of events.json, in order. Generated by "
            "`python -m tests.vectors.generate`; do not edit by hand."
        ),
        "log": {
            "origin": ORIGIN,
            "seed_hex": LOG_SEED.hex(),
            "public_key_hex": log.signer.public_key.hex(),
            "note_key_id_hex": log.verifier.key_id.hex(),
            "vkey": log.verifier.vkey,
        },
        "witness": {
            "name": WITNESS_NAME,
            "seed_hex": WITNESS_SEED.hex(),
            "public_key_hex": witness.signer.public_key.hex(),
            "note_key_id_hex": witness.verifier.key_id.hex(),
            "vkey": witness.verifier.vkey,
        },
        "checkpoints": entries,
    }


# Synthetic personal data (docs/privacy.md): obviously not a real person.
PRIVACY_SALT = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
PRIVACY_INDEX_KEY = hashlib.sha256(b"hoso test index key").digest()
PRIVACY_RECORD: dict[str, Value] = {
    "id_kind": "cccd",
    "id_number": "001099000001",
    "full_name": "Nguyễn Văn Thử",
    "birth_date": "1999-01-01",
    "address": "Số 1 phố Thử Nghiệm, phường Mẫu, Hà Nội",
    "phone": "",
    "email": "",
}


def privacy_vectors() -> dict[str, Any]:
    commitments = []
    cases: list[tuple[str, Value]] = [
        ("applicant", ["cccd", "001099000001"]),
        ("personal", PRIVACY_RECORD),
    ]
    for label, value in cases:
        commitments.append(
            {
                "salt_hex": PRIVACY_SALT.hex(),
                "label": label,
                "value": value,
                "preimage_hex": (COMMIT_PREFIX + PRIVACY_SALT + encode([label, value])).hex(),
                "commitment_hex": commit(PRIVACY_SALT, label, value).hex(),
            }
        )
    return {
        "comment": "hoso personal-data commitments and index tags (docs/privacy.md, "
        "docs/formats.md). Synthetic data. Generated by `python -m tests.vectors.generate`.",
        "commitments": commitments,
        "index_tags": [
            {
                "key_hex": PRIVACY_INDEX_KEY.hex(),
                "kind": "cccd",
                "value": "001099000001",
                "tag_hex": index_tag(PRIVACY_INDEX_KEY, "cccd", "001099000001").hex(),
            }
        ],
    }


def seal_vectors() -> dict[str, Any]:
    """A QR seal over the third event of events.json, signed by its agency-seal key: the
    version 2 seal (with its status list entry), and the same result's version 1 seal."""
    from ledger.core.base45 import b45encode  # noqa: PLC0415 (seal vectors only)
    from ledger.core.seal import (  # noqa: PLC0415
        SealClaims,
        StatusRef,
        seal_hs1,
        seal_url,
        sign_seal,
        signing_message,
    )

    seal_key = Signer(SEAL_SEED)
    issuing = build_events()[2]
    document = "Giấy khai sinh 123/2026/KS (tệp kết quả thử nghiệm)".encode()
    claims = SealClaims(
        key_id=seal_key.key_id[:8],
        dossier=STREAM,
        procedure="1.001193",
        result_number="123/2026/KS",
        issued_s=issuing.body.time_us // 1_000_000,
        document_hash=hashlib.sha256(document).digest()[:16],
        event_hash=issuing.event_hash[:16],
        status=StatusRef(0, 70_001),
    )
    legacy = dataclasses.replace(claims, status=None, agency="000.00.10.H26", version=1)
    seal, old = sign_seal(claims, seal_key), sign_seal(legacy, seal_key)
    body = claims.encode()
    return {
        "comment": "hoso QR seal (docs/formats.md §11). Generated by "
        "`python -m tests.vectors.generate`; do not edit by hand.",
        "seal_key": {
            "seed_hex": SEAL_SEED.hex(),
            "public_key_hex": seal_key.public_key.hex(),
            "key_id_hex": seal_key.key_id.hex(),
        },
        "document_utf8": document.decode(),
        "event_hash_hex": issuing.event_hash.hex(),
        "claims": {
            "v": 2,
            "key_id8_hex": claims.key_id.hex(),
            "dossier": claims.dossier,
            "procedure": claims.procedure,
            "result_number": claims.result_number,
            "issued_s": claims.issued_s,
            "document_hash16_hex": claims.document_hash.hex(),
            "event_hash16_hex": claims.event_hash.hex(),
            "status_list": 0,
            "status_entry": 70_001,
        },
        "claims_hex": body.hex(),
        "signing_message_hex": signing_message(body, 2).hex(),
        "seal_hex": seal.hex(),
        "seal_size": len(seal),
        "url": seal_url("https://xacthuc.hoso.example", seal),
        "hs1": seal_hs1(seal),
        "v1": {
            "agency": legacy.agency,
            "claims_hex": legacy.encode().hex(),
            "seal_hex": old.hex(),
            "seal_size": len(old),
            "hs1": seal_hs1(old),
        },
        "base45_check": b45encode(b"ietf!"),
    }


def status_list_vectors() -> dict[str, Any]:
    """A status list of the agency-seal key's agency: 131,072 entries, entries 70,001
    (the seal vector's) and 5 set, issued at the seal's time, read at checkpoint 9."""
    from ledger.core.status_list import (  # noqa: PLC0415 (status list vectors only)
        StatusListBody,
        bitstring,
        sign_status_list,
        signing_message,
    )

    seal_key = Signer(SEAL_SEED)
    issuing = build_events()[2]
    body = StatusListBody(
        origin=ORIGIN,
        agency="000.00.10.H26",
        list_no=0,
        issued_s=issuing.body.time_us // 1_000_000 + 3600,
        checkpoint=9,
        bits=bitstring(131_072, {5, 70_001}),
        key_id=seal_key.key_id,
    )
    signed = sign_status_list(body, seal_key)
    fields = body.to_map()
    return {
        "comment": "hoso signed status list (docs/formats.md §13). Generated by "
        "`python -m tests.vectors.generate`; do not edit by hand.",
        "seal_key_seed_hex": SEAL_SEED.hex(),
        "origin": body.origin,
        "agency": body.agency,
        "list": body.list_no,
        "size": body.size,
        "issued_s": body.issued_s,
        "checkpoint": body.checkpoint,
        "set_entries": [5, 70_001],
        "key_id_hex": body.key_id.hex(),
        "bits_gzip_hex": bytes(fields["bits"]).hex(),  # type: ignore[arg-type]
        "signing_message_sha256_hex": hashlib.sha256(signing_message(body)).hexdigest(),
        "signature_hex": signed.signature.hex(),
        "document_hex": signed.document.hex(),
        "document_size": len(signed.document),
        "digest_hex": signed.digest.hex(),
    }


def render(vectors: dict[str, Any]) -> str:
    """The exact file text: UTF-8 JSON, two-space indent, Vietnamese left readable."""
    return json.dumps(vectors, ensure_ascii=False, indent=2) + "\n"


def rendered_files() -> dict[Path, str]:
    return {
        EVENTS_PATH: render(events_vectors()),
        CHECKPOINTS_PATH: render(checkpoints_vectors()),
        PRIVACY_PATH: render(privacy_vectors()),
        BUNDLE_PATH: render(bundle_vectors()),
        SEAL_PATH: render(seal_vectors()),
        STATUS_LIST_PATH: render(status_list_vectors()),
        INDEX_PATH: render(index_vectors()),
        TILES_PATH: render(tiles_vectors()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.vectors.generate", description=__doc__)
    parser.add_argument("--write", action="store_true", help="overwrite the vector files")
    args = parser.parse_args(argv)
    stale = 0
    for path, text in rendered_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        name = (
            path.relative_to(HERE.parent.parent)
            if path.is_relative_to(HERE.parent.parent)
            else path
        )
        if current == text:
            print(f"unchanged  {name}")
            continue
        diff = list(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{name} (on disk)",
                tofile=f"{name} (generated)",
            )
        )
        added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        state = "missing" if not path.exists() else "differs"
        print(f"{state:<10} {name}: +{added} -{removed} lines")
        sys.stdout.writelines(diff)
        if args.write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote      {name}")
        else:
            stale += 1
    if stale:
        print(f"{stale} file(s) not written; rerun with --write to update them")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
