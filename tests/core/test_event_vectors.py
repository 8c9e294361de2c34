"""Golden vectors (tests/vectors/events.json, checkpoints.json).

Two checks:

(a) hoso's own code rebuilds every vector byte for byte, and the files are what
    ``python -m tests.vectors.generate`` writes (so they can't go stale);
(b) an independent re-derivation from the format description alone, using only
    hashlib, nacl.signing, msgpack.unpackb and base64 (nothing from ``ledger``).
    If (b) passes, another implementer can check hoso's records and checkpoints
    from the docs without hoso's code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import nacl.exceptions
import nacl.signing
import pytest

from ledger.core.chain import verify_link

# Used by part (a) only; part (b) must not touch them (see test_independent_path_is_independent).
from ledger.core.checkpoint import (
    Checkpoint,
    Cosigner,
    open_checkpoint,
    parse_cosignature_vkey,
    sign_checkpoint,
    verify_cosignatures,
)
from ledger.core.event import (
    EventBody,
    parse_record,
    sign_event,
    signing_message,
    verify_event_hash,
    verify_signatures,
)
from ledger.core.hashing import EventHash, Hash
from ledger.core.note import Ed25519NoteSigner, parse_ed25519_vkey
from ledger.core.signing import Signer
from tests.vectors import generate

HOSO_NAMES = frozenset(
    name
    for name, value in globals().items()
    if getattr(value, "__module__", "").startswith(("ledger", "tests.vectors"))
    or getattr(value, "__name__", "").startswith(("ledger", "tests.vectors"))
)

VECTORS = Path(__file__).parent.parent / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


EVENTS = _load("events.json")
CHECKPOINTS = _load("checkpoints.json")
EVENT_IDS = [f"n={e['body']['n']} {e['body']['type']}" for e in EVENTS["events"]]
CHECKPOINT_IDS = [f"size={c['size']}" for c in CHECKPOINTS["checkpoints"]]


def test_vectors_cover_the_brief() -> None:
    events = EVENTS["events"]
    assert EVENTS["origin"] == "hoso.example/hanoi"
    assert EVENTS["stream"] == "000.00.10.H26-260101-0001"
    assert [e["body"]["n"] for e in events] == [1, 2, 3]
    assert [len(e["signatures"]) for e in events] == [1, 1, 2]
    assert "Cấp giấy khai sinh" in json.dumps(events[0]["body"]["payload"], ensure_ascii=False)
    assert [c["size"] for c in CHECKPOINTS["checkpoints"]] == [0, 1, 3]


# --- (a) hoso's code reproduces every byte -------------------------------------------


def test_files_are_what_the_generator_writes() -> None:

    for path, text in generate.rendered_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run python -m tests.vectors.generate --write"
        )


def test_generator_refuses_to_overwrite_without_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    events, checkpoints = tmp_path / "events.json", tmp_path / "checkpoints.json"
    events.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(generate, "EVENTS_PATH", events)
    monkeypatch.setattr(generate, "CHECKPOINTS_PATH", checkpoints)
    monkeypatch.setattr(generate, "PRIVACY_PATH", tmp_path / "privacy.json")
    monkeypatch.setattr(generate, "BUNDLE_PATH", tmp_path / "bundle.json")
    monkeypatch.setattr(generate, "SEAL_PATH", tmp_path / "seal.json")
    monkeypatch.setattr(generate, "STATUS_LIST_PATH", tmp_path / "status_list.json")
    monkeypatch.setattr(generate, "INDEX_PATH", tmp_path / "index.json")
    monkeypatch.setattr(generate, "TILES_PATH", tmp_path / "tiles.json")
    assert generate.main([]) == 1
    out = capsys.readouterr().out
    assert "differs" in out
    assert "missing" in out
    assert "-{}" in out
    assert events.read_text(encoding="utf-8") == "{}\n"
    assert not checkpoints.exists()
    assert generate.main(["--write"]) == 0
    assert generate.main([]) == 0
    assert capsys.readouterr().out.count("unchanged") == 8
    assert events.read_text(encoding="utf-8") == (VECTORS / "events.json").read_text("utf-8")


@pytest.mark.parametrize("vector", EVENTS["events"], ids=EVENT_IDS)
def test_hoso_rebuilds_event(vector: dict[str, Any]) -> None:

    fields = vector["body"]
    body = EventBody(
        version=fields["v"],
        origin=fields["origin"],
        stream=fields["stream"],
        n=fields["n"],
        prev=EventHash(bytes.fromhex(fields["prev_hex"])),
        type=fields["type"],
        actor=fields["actor"],
        time_us=fields["time"],
        payload=fields["payload"],
    )
    signers = [Signer(bytes.fromhex(s["seed_hex"])) for s in vector["signers"]]
    for signer, entry in zip(signers, vector["signers"], strict=True):
        assert signer.public_key.hex() == entry["public_key_hex"]
        assert signer.key_id.hex() == entry["key_id_hex"]
    event = sign_event(body, signers)
    assert event.body_bytes.hex() == vector["body_hex"]
    assert event.event_hash.hex() == vector["event_hash_hex"]
    assert signing_message(body).hex() == vector["signing_message_hex"]
    assert [(s.key_id.hex(), s.signature.hex()) for s in event.signatures] == [
        (s["key_id_hex"], s["signature_hex"]) for s in vector["signatures"]
    ]
    assert event.record.hex() == vector["record_hex"]
    assert event.leaf_hash.hex() == vector["leaf_hash_hex"]
    parsed = parse_record(bytes.fromhex(vector["record_hex"]))
    assert parsed == event
    verify_event_hash(parsed, claimed=bytes.fromhex(vector["event_hash_hex"]))
    verify_signatures(parsed, {s.key_id: s.public_key for s in signers})


def test_hoso_links_the_chain() -> None:

    events = [parse_record(bytes.fromhex(v["record_hex"])) for v in EVENTS["events"]]
    for before, event in zip([None, *events], events, strict=False):
        verify_link(event, before)


@pytest.mark.parametrize("vector", CHECKPOINTS["checkpoints"], ids=CHECKPOINT_IDS)
def test_hoso_rebuilds_checkpoint(vector: dict[str, Any]) -> None:

    log_info, witness_info = CHECKPOINTS["log"], CHECKPOINTS["witness"]
    log = Ed25519NoteSigner(log_info["origin"], Signer(bytes.fromhex(log_info["seed_hex"])))
    witness = Cosigner(witness_info["name"], Signer(bytes.fromhex(witness_info["seed_hex"])))
    assert log.verifier.vkey == log_info["vkey"]
    assert witness.verifier.vkey == witness_info["vkey"]
    checkpoint = Checkpoint(
        origin=log_info["origin"], size=vector["size"], root=Hash(bytes.fromhex(vector["root_hex"]))
    )
    assert checkpoint.text() == vector["note_text"]
    signed = sign_checkpoint(checkpoint, log)
    assert signed.serialise() == vector["signed_note"].encode()
    cosig = witness.cosign(checkpoint, timestamp=vector["witness_timestamp"])
    assert signed.with_signatures([cosig]).serialise() == vector["cosigned_note"].encode()
    opened, note = open_checkpoint(
        vector["cosigned_note"].encode(),
        origin=log_info["origin"],
        log_keys=[parse_ed25519_vkey(log_info["vkey"])],
    )
    assert opened == checkpoint
    witnesses = [parse_cosignature_vkey(witness_info["vkey"])]
    assert verify_cosignatures(note, witnesses) == {
        witness_info["name"]: vector["witness_timestamp"]
    }


# --- (b) independent re-derivation: hashlib, nacl.signing, msgpack.unpackb ---------

EVENT_PREFIX = b"hoso/event/v1\x00"
SIGNATURE_CONTEXT = b"hoso/event-signature/v1\x00"
GENESIS = hashlib.sha256(b"hoso/genesis/v1\x00").digest()
KEY_ID_CONTEXT = b"hoso/key-id/v1\x00"
BODY_FIELDS = {"v", "origin", "stream", "n", "prev", "type", "actor", "time", "payload"}


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _ordered_pairs(data: bytes) -> Any:
    """Decode msgpack keeping every map as its list of (key, value) pairs, in wire order."""
    return msgpack.unpackb(data, raw=False, object_pairs_hook=list, strict_map_key=False)


def _assert_canonical_maps(value: Any) -> None:
    """Map keys are str, unique and sorted by UTF-8 bytes, at every level."""
    if isinstance(value, list) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        keys = [k for k, _ in value]
        assert all(isinstance(k, str) for k in keys)
        raw = [k.encode("utf-8") for k in keys]
        assert raw == sorted(set(raw))
        for _, item in value:
            _assert_canonical_maps(item)
    elif isinstance(value, list):
        for item in value:
            _assert_canonical_maps(item)


def _independent_event(vector: dict[str, Any], expected_prev: bytes) -> bytes:
    """Check one event vector from first principles; return its event hash."""
    record = bytes.fromhex(vector["record_hex"])
    _assert_canonical_maps(_ordered_pairs(record))
    outer = msgpack.unpackb(record, raw=False)
    assert set(outer) == {"body", "sigs"}
    body_bytes = outer["body"]
    assert isinstance(body_bytes, bytes)
    assert body_bytes.hex() == vector["body_hex"]

    # The body: a canonical map of exactly the nine fields, matching the JSON.
    _assert_canonical_maps(_ordered_pairs(body_bytes))
    body = msgpack.unpackb(body_bytes, raw=False)
    assert set(body) == BODY_FIELDS
    fields = vector["body"]
    assert body["v"] == fields["v"] == 1
    for name in ("origin", "stream", "n", "type", "actor", "time", "payload"):
        assert body[name] == fields[name], name
    assert body["prev"] == bytes.fromhex(fields["prev_hex"]) == expected_prev

    # Event hash and the message every signer signs.
    digest = _sha256(EVENT_PREFIX + body_bytes)
    assert digest.hex() == vector["event_hash_hex"]
    message = SIGNATURE_CONTEXT + digest
    assert message.hex() == vector["signing_message_hex"]

    # Signatures: {kid, sig}, sorted by key id, each valid for its signer's key.
    sigs = outer["sigs"]
    assert [set(s) for s in sigs] == [{"kid", "sig"}] * len(sigs)
    assert [s["kid"] for s in sigs] == sorted({s["kid"] for s in sigs})
    by_kid = {}
    for entry in vector["signers"]:
        signing_key = nacl.signing.SigningKey(bytes.fromhex(entry["seed_hex"]))
        public = bytes(signing_key.verify_key)
        assert public.hex() == entry["public_key_hex"]
        kid = _sha256(KEY_ID_CONTEXT + b"\x01" + public)[:16]
        assert kid.hex() == entry["key_id_hex"]
        by_kid[kid] = public
    assert set(by_kid) == {s["kid"] for s in sigs}
    for sig, listed in zip(sigs, vector["signatures"], strict=True):
        assert len(sig["sig"]) == 64
        nacl.signing.VerifyKey(by_kid[sig["kid"]]).verify(message, sig["sig"])
        assert (sig["kid"].hex(), sig["sig"].hex()) == (
            listed["key_id_hex"],
            listed["signature_hex"],
        )

    # RFC 9162 leaf hash of the record bytes.
    assert _sha256(b"\x00" + record).hex() == vector["leaf_hash_hex"]
    return digest


def test_independent_event_chain() -> None:
    assert EVENTS["genesis_prev_hex"] == GENESIS.hex()
    prev = GENESIS
    first = EVENTS["events"][0]["body"]
    for n, vector in enumerate(EVENTS["events"], start=1):
        assert vector["body"]["n"] == n
        assert (vector["body"]["origin"], vector["body"]["stream"]) == (
            first["origin"],
            first["stream"],
        )
        prev = _independent_event(vector, prev)


def test_independent_path_rejects_tampering() -> None:
    """The independent path is not vacuous: one changed byte anywhere makes it fail."""
    original = EVENTS["events"][1]
    prev = bytes.fromhex(original["body"]["prev_hex"])
    record = bytes.fromhex(original["record_hex"])
    payload_at = record.index("hợp lệ".encode())
    cases: list[tuple[int, type[Exception]]] = [
        (len(record) - 1, nacl.exceptions.BadSignatureError),  # last signature byte
        (record.index(bytes.fromhex(original["signatures"][0]["key_id_hex"])), AssertionError),
        (payload_at, AssertionError),  # a payload byte: body differs from the JSON
    ]
    for index, error in cases:
        tampered = bytearray(record)
        tampered[index] ^= 0x01
        with pytest.raises(error):
            _independent_event(original | {"record_hex": tampered.hex()}, prev)
    # With the JSON "updated" to match a tampered body, the signature still fails.
    tampered = bytearray(record)
    tampered[payload_at] ^= 0x01
    body = msgpack.unpackb(bytes(tampered), raw=False)["body"]
    forged = original | {
        "record_hex": tampered.hex(),
        "body_hex": body.hex(),
        "body": original["body"] | {"payload": msgpack.unpackb(body, raw=False)["payload"]},
        "event_hash_hex": _sha256(EVENT_PREFIX + body).hex(),
        "signing_message_hex": (SIGNATURE_CONTEXT + _sha256(EVENT_PREFIX + body)).hex(),
    }
    with pytest.raises(nacl.exceptions.BadSignatureError):
        _independent_event(forged, prev)


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 Merkle tree hash of the given leaf hashes."""
    if not leaves:
        return _sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _note_key_id(name: str, sig_type: int, public: bytes) -> bytes:
    return _sha256(name.encode() + b"\n" + bytes([sig_type]) + public)[:4]


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """C2SP signed note: text, blank line, then lines '— <name> <base64>'."""
    cut = note.rindex("\n\n")
    text, block = note[: cut + 1], note[cut + 2 :]
    assert block.endswith("\n")
    lines = []
    for line in block[:-1].split("\n"):
        assert line.startswith("\u2014 ")
        name, blob = line[2:].split(" ")
        lines.append((name, base64.b64decode(blob, validate=True)))
    return text, lines


@pytest.mark.parametrize("vector", CHECKPOINTS["checkpoints"], ids=CHECKPOINT_IDS)
def test_independent_checkpoint(vector: dict[str, Any]) -> None:
    log_info, witness_info = CHECKPOINTS["log"], CHECKPOINTS["witness"]
    origin = log_info["origin"]
    assert origin == EVENTS["origin"]

    # The tree: leaves are the event records' RFC 9162 leaf hashes, in order.
    records = [bytes.fromhex(e["record_hex"]) for e in EVENTS["events"]]
    leaves = [_sha256(b"\x00" + r) for r in records][: vector["size"]]
    assert [leaf.hex() for leaf in leaves] == vector["leaf_hashes_hex"]
    root = _mth(leaves)
    assert root.hex() == vector["root_hex"]

    # tlog-checkpoint text: origin, decimal size, base64 root, each newline-terminated.
    text = f"{origin}\n{vector['size']}\n{base64.b64encode(root).decode()}\n"
    assert vector["note_text"] == text

    # The log's vkey and its Ed25519 note signature (type 0x01).
    log_public = bytes(nacl.signing.SigningKey(bytes.fromhex(log_info["seed_hex"])).verify_key)
    assert log_public.hex() == log_info["public_key_hex"]
    log_kid = _note_key_id(origin, 0x01, log_public)
    assert log_info["vkey"] == (
        f"{origin}+{log_kid.hex()}+{base64.b64encode(bytes([1]) + log_public).decode()}"
    )
    signed_text, signed_lines = _split_note(vector["signed_note"])
    assert signed_text == text
    assert [(name, raw[:4]) for name, raw in signed_lines] == [(origin, log_kid)]
    nacl.signing.VerifyKey(log_public).verify(text.encode(), signed_lines[0][1][4:])

    # The witness cosignature (type 0x04): u64 timestamp || Ed25519 over the v1 message.
    witness_public = bytes(
        nacl.signing.SigningKey(bytes.fromhex(witness_info["seed_hex"])).verify_key
    )
    name = witness_info["name"]
    witness_kid = _note_key_id(name, 0x04, witness_public)
    assert witness_info["vkey"] == (
        f"{name}+{witness_kid.hex()}+{base64.b64encode(bytes([4]) + witness_public).decode()}"
    )
    cosigned_text, cosigned_lines = _split_note(vector["cosigned_note"])
    assert cosigned_text == text
    assert cosigned_lines[0] == signed_lines[0]
    assert vector["cosigned_note"].startswith(vector["signed_note"])
    ((witness_name, raw),) = cosigned_lines[1:]
    assert (witness_name, raw[:4]) == (name, witness_kid)
    assert len(raw) == 4 + 8 + 64
    timestamp = int.from_bytes(raw[4:12], "big")
    assert timestamp == vector["witness_timestamp"]
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
    nacl.signing.VerifyKey(witness_public).verify(message, raw[12:])


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


INDEPENDENT = [
    _sha256,
    _ordered_pairs,
    _assert_canonical_maps,
    _independent_event,
    test_independent_event_chain,
    test_independent_path_rejects_tampering,
    _mth,
    _note_key_id,
    _split_note,
    test_independent_checkpoint,
]


@pytest.mark.parametrize("function", INDEPENDENT, ids=[f.__name__ for f in INDEPENDENT])
def test_independent_path_is_independent(function: Callable[..., Any]) -> None:
    """Part (b) references nothing from ledger (nor the generator, which uses ledger)."""
    assert {"generate", "Signer", "EventBody", "parse_record"} <= HOSO_NAMES
    assert not _names_used(function.__code__) & HOSO_NAMES
