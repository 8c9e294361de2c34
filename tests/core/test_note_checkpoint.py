"""C2SP signed notes, checkpoints and witness cosignatures (ledger.core.note, .checkpoint)."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from ledger.core.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    cosignature_message,
    open_checkpoint,
    parse_checkpoint_text,
    parse_cosignature_vkey,
    sign_checkpoint,
    split_cosignature,
    verify_cosignatures,
)
from ledger.core.errors import (
    CheckpointOriginMismatch,
    CosignatureInvalid,
    HosoError,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    NoteNotSigned,
    NoteSignatureInvalid,
)
from ledger.core.hashing import EMPTY_ROOT, Hash
from ledger.core.note import (
    MAX_NOTE_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Ed25519NoteSigner,
    Ed25519Verifier,
    Note,
    NoteSignature,
    format_vkey,
    note_key_id,
    parse_ed25519_vkey,
    parse_note,
    parse_vkey,
    verify_note,
)
from ledger.core.signing import PublicKey, Signer

C2SP = Path(__file__).parent.parent / "vectors" / "c2sp"
EXAMPLE_NOTE = (C2SP / "signed-note-example.note").read_bytes()
EXAMPLE_VKEY = (C2SP / "signed-note-example.vkey").read_text(encoding="utf-8").strip()

ORIGIN = "hoso.example/hanoi"
LOG = Ed25519NoteSigner(ORIGIN, Signer(hashlib.sha256(b"hoso test seed 3").digest()))
WITNESS = Cosigner("witness.hoso.example/w1", Signer(hashlib.sha256(b"hoso test seed 4").digest()))
OTHER_WITNESS = Cosigner(
    "witness.hoso.example/w2", Signer(hashlib.sha256(b"hoso test seed 5").digest())
)
ROOT = Hash(hashlib.sha256(b"some root").digest())
CHECKPOINT = Checkpoint(origin=ORIGIN, size=3, root=ROOT)
TIMESTAMP = 1_767_229_500


def _raises(kind: type[HosoError], check: str, call: Callable[[], object]) -> Any:
    """Run ``call``; assert it raises exactly ``kind`` with check id ``check``."""
    with pytest.raises(kind) as info:
        call()
    err = info.value
    assert type(err) is kind
    assert err.check == check
    return err


def _note(text: str, *signers: Ed25519NoteSigner) -> Note:
    return Note(text, tuple(s.sign(text) for s in signers))


# --- the C2SP published example --------------------------------------------------


def test_c2sp_example_verifies_and_reserialises() -> None:
    verifier = parse_ed25519_vkey(EXAMPLE_VKEY)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id == bytes.fromhex("530d903a")
    note = parse_note(EXAMPLE_NOTE)
    assert note.text == "This is an example message.\n"
    assert verify_note(note, [verifier]) == (verifier,)
    assert note.serialise() == EXAMPLE_NOTE


@pytest.mark.parametrize("position", range(len(EXAMPLE_NOTE)))
def test_c2sp_example_fails_after_any_bit_flip(position: int) -> None:
    verifier = parse_ed25519_vkey(EXAMPLE_VKEY)
    for bit in range(8):
        data = bytearray(EXAMPLE_NOTE)
        data[position] ^= 1 << bit
        with pytest.raises(HosoError) as info:
            verify_note(parse_note(bytes(data)), [verifier])
        assert type(info.value) in (MalformedNote, NoteSignatureInvalid, NoteNotSigned)


def test_c2sp_example_rejects_non_canonical_base64() -> None:
    """Pad bits must be zero: 'M=' and 'O=' decode to the same bytes; only 'M=' is canonical."""
    assert EXAMPLE_NOTE.endswith(b"M=\n")
    assert base64.b64decode(b"AQM=") == base64.b64decode(b"AQO=")
    mangled = EXAMPLE_NOTE[:-3] + b"O=\n"
    err = _raises(MalformedNote, "note.syntax", lambda: parse_note(mangled))
    assert "canonical base64" in err.detail


# --- vkeys -----------------------------------------------------------------------


def test_vkey_round_trip() -> None:
    name, sig_type, public_key = parse_vkey(EXAMPLE_VKEY)
    assert (name, sig_type) == ("example.com/foo", SIG_ED25519)
    assert format_vkey(name, sig_type, public_key) == EXAMPLE_VKEY
    assert parse_ed25519_vkey(EXAMPLE_VKEY).vkey == EXAMPLE_VKEY
    assert parse_ed25519_vkey(LOG.verifier.vkey) == LOG.verifier
    assert parse_cosignature_vkey(WITNESS.verifier.vkey) == WITNESS.verifier
    assert parse_vkey(EXAMPLE_VKEY + "\n") == (name, sig_type, public_key)


def test_vkey_whose_base64_contains_plus() -> None:
    """Split at the first two '+' only: standard base64 uses '+' too."""
    signer = Signer(hashlib.sha256(b"hoso test seed 2").digest())
    verifier = Ed25519Verifier(ORIGIN, signer.public_key)
    vkey = "hoso.example/hanoi+f18fb8dc+Acij+Z7qZjt6UJfR19kEoxv193MsOMx6+MdgPVxXIOWj"
    assert verifier.vkey == vkey
    assert vkey.count("+") == 4
    assert parse_ed25519_vkey(vkey) == verifier


def _vkey(name: str, sig_type: int, public_key: bytes, *, key_id: bytes | None = None) -> str:
    kid = note_key_id(name, sig_type, public_key) if key_id is None else key_id
    return f"{name}+{kid.hex()}+{base64.b64encode(bytes([sig_type]) + public_key).decode()}"


@pytest.mark.parametrize(
    "vkey",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong id
        "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong name
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong type
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  # bad base64
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=",  # bad padding
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l",  # another key
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYc!nKv3U2k",  # not base64
        "example.com/foo+530d90+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # short id
        "example.com/foo+530d903x+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # not hex
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv",  # short key
        "example.com/foo+530d903a",  # two parts
        "a+b+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # four parts
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # empty name
        "example.com/f\u00a0o+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # space
        "",
    ],
)
def test_bad_vkeys(vkey: str) -> None:
    _raises(MalformedKey, "key.shape", lambda: parse_vkey(vkey))
    _raises(MalformedKey, "key.shape", lambda: parse_ed25519_vkey(vkey))


def test_vkey_of_the_wrong_type() -> None:
    public_key = LOG.signer.public_key
    as_cosigner = _vkey(ORIGIN, SIG_COSIGNATURE_V1, public_key)
    assert parse_vkey(as_cosigner) == (ORIGIN, SIG_COSIGNATURE_V1, public_key)
    err = _raises(MalformedKey, "key.shape", lambda: parse_ed25519_vkey(as_cosigner))
    assert "0x04" in err.detail
    err = _raises(MalformedKey, "key.shape", lambda: parse_cosignature_vkey(LOG.verifier.vkey))
    assert "0x01" in err.detail
    ecdsa = _vkey(ORIGIN, 0x02, public_key)
    _raises(MalformedKey, "key.shape", lambda: parse_ed25519_vkey(ecdsa))
    _raises(MalformedKey, "key.shape", lambda: parse_cosignature_vkey(ecdsa))


def test_key_ids_per_spec() -> None:
    public_key = LOG.signer.public_key
    for sig_type in (SIG_ED25519, SIG_COSIGNATURE_V1):
        expected = hashlib.sha256(ORIGIN.encode() + b"\n" + bytes([sig_type]) + public_key)
        assert note_key_id(ORIGIN, sig_type, public_key) == expected.digest()[:4]


# --- note syntax -----------------------------------------------------------------

SIG_LINE = EXAMPLE_NOTE.split(b"\n\n")[1]


@pytest.mark.parametrize(
    "data",
    [
        b"This is an example message.\n" + SIG_LINE,  # no blank line
        b"This is an example message.\n\n" + SIG_LINE[:-1],  # no final newline
        b"This is an example message.\n\n",  # no signatures
        b"This is an\texample message.\n\n" + SIG_LINE,  # tab
        b"This is an example message.\r\n\n" + SIG_LINE,  # carriage return
        b"This is an example message.\x00\n\n" + SIG_LINE,  # NUL
        b"This is an example message.\n\n" + SIG_LINE + b"\x1b\n",  # ESC in the block
        b"This is an example message.\n\n" + SIG_LINE.replace("—".encode(), b"--"),
        b"This is an example message.\n\n" + SIG_LINE.replace("—".encode(), "–".encode()),
        b"This is an example message.\n\n" + SIG_LINE.replace("— ".encode(), "—".encode()),
        b"This is an example message.\n\n" + SIG_LINE.replace(b"foo ", b"foo"),  # no space
        b"This is an example message.\n\n" + SIG_LINE.replace(b"foo", b"f+o"),  # '+' in name
        b"This is an example message.\n\n" + SIG_LINE.replace(b"/foo", b"/f o"),  # space in name
        b"This is an example message.\n\n" + "— \u3000 AAAAAAA=\n".encode(),  # unicode space
        b"This is an example message.\n\n" + "— ab AAAAAA==\n".encode(),  # 4-byte signature
        b"This is an example message.\n\n" + "— ab \n".encode(),  # empty signature
        b"This is an example message.\n\n" + "—  AAAAAAA=\n".encode(),  # empty name
        b"This is an example message.\n\n" + "— ab AAAAAAA\n".encode(),  # unpadded
        b"This is an example message.\n\n" + "— ab AAAA AAA=\n".encode(),  # space in base64
        b"This is an example message.\n\n" + "— ab AAAAAAF=\n".encode(),  # pad bits set
        b"This is an example message.\n\n" + SIG_LINE + b"\n",  # blank line at the end
        b"This is \xff example message.\n\n" + SIG_LINE,  # not UTF-8
        b"x\n\n" + SIG_LINE * (MAX_NOTE_SIGNATURES + 1),
        b"x" * (64 * 1024) + b"\n\n" + SIG_LINE,
    ],
)
def test_note_syntax_errors(data: bytes) -> None:
    _raises(MalformedNote, "note.syntax", lambda: parse_note(data))


def test_note_syntax_error_positions() -> None:
    err = _raises(MalformedNote, "note.syntax", lambda: parse_note(b"ab\xffc\n\n" + SIG_LINE))
    assert err.where == "byte 2"
    line = "— ab AAAAAA=="
    err = _raises(MalformedNote, "note.syntax", lambda: parse_note(f"x\n\n{line}\n".encode()))
    assert err.where == repr(line)


def test_note_limits_and_text_rules() -> None:
    many = parse_note(b"x\n\n" + SIG_LINE * MAX_NOTE_SIGNATURES)
    assert len(many.signatures) == MAX_NOTE_SIGNATURES
    # The text may hold blank lines; the last blank line separates the signatures.
    text = "line one\n\nline three\n"
    note = parse_note(_note(text, LOG).serialise())
    assert note.text == text
    verify_note(note, [LOG.verifier])
    # Vietnamese text is fine (UTF-8, no control characters).
    vi = "Cấp giấy khai sinh\n"
    assert verify_note(parse_note(_note(vi, LOG).serialise()), [LOG.verifier]) == (LOG.verifier,)


@pytest.mark.parametrize("text", ["a\tb\n", "a\x00\n", "a\ud800\n"])
def test_signing_bad_text_is_refused(text: str) -> None:
    _raises(MalformedNote, "note.syntax", lambda: LOG.sign(text))


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\x01b", "a\u2003b"])
def test_signing_under_a_bad_name_is_refused(name: str) -> None:
    signer = Ed25519NoteSigner(name, LOG.signer)
    _raises(MalformedNote, "note.syntax", lambda: signer.sign("x\n"))


# --- verification rules ----------------------------------------------------------


def test_unknown_signatures_ignored() -> None:
    stranger = Ed25519NoteSigner("other.example/log", Signer(bytes(32)))
    note = _note("hello\n", stranger, LOG)
    # Garbage under an unknown (name, key id) is ignored as well.
    junk = NoteSignature("junk.example", b"\x00\x00\x00\x00", b"\x01" * 7)
    note = note.with_signatures([junk])
    parsed = parse_note(note.serialise())
    assert verify_note(parsed, [LOG.verifier]) == (LOG.verifier,)
    assert verify_note(parsed, [LOG.verifier, stranger.verifier]) == (
        stranger.verifier,
        LOG.verifier,
    )


def test_same_name_or_same_id_alone_is_not_a_match() -> None:
    """C2SP: ignore signatures that share a name or a key id, but not both, with a known key."""
    text = "hello\n"
    good = LOG.sign(text)
    same_name = NoteSignature(good.name, b"\xff\xff\xff\xff", bytes(64))
    same_id = NoteSignature("impostor.example", good.key_id, bytes(64))
    note = Note(text, (same_name, same_id, good))
    assert verify_note(parse_note(note.serialise()), [LOG.verifier]) == (LOG.verifier,)
    err = _raises(
        NoteNotSigned,
        "note.unsigned",
        lambda: verify_note(Note(text, (same_name, same_id)), [LOG.verifier]),
    )
    assert err.expected == f"{ORIGIN}+{good.key_id.hex()}"
    assert f"impostor.example+{good.key_id.hex()}" in err.found


def test_known_failing_signature_rejects_the_note() -> None:
    good = LOG.sign("hello\n")
    other = Ed25519NoteSigner("other.example/log", Signer(bytes(32)))
    forged = Note("hullo\n", (other.sign("hullo\n"), good))
    err = _raises(
        NoteSignatureInvalid,
        "note.signature",
        lambda: verify_note(forged, [LOG.verifier, other.verifier]),
    )
    assert err.where == f"signature by {ORIGIN}+{good.key_id.hex()}"
    # A known signature of the wrong length fails too (it does not get ignored).
    short = Note("hello\n", (NoteSignature(good.name, good.key_id, good.signature[:63]),))
    _raises(NoteSignatureInvalid, "note.signature", lambda: verify_note(short, [LOG.verifier]))


def test_no_known_signature() -> None:
    note = _note("hello\n", LOG)
    _raises(NoteNotSigned, "note.unsigned", lambda: verify_note(note, []))
    err = _raises(
        NoteNotSigned,
        "note.unsigned",
        lambda: verify_note(note, [parse_ed25519_vkey(EXAMPLE_VKEY)]),
    )
    assert "example.com/foo+530d903a" in str(err)
    assert err.expected == "example.com/foo+530d903a"


def test_with_signatures_drops_duplicates() -> None:
    note = _note("hello\n", LOG)
    again = note.with_signatures([LOG.sign("hello\n")])
    assert again == note


# --- checkpoints -----------------------------------------------------------------


def test_checkpoint_text_round_trip() -> None:
    text = CHECKPOINT.text()
    assert text == f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint_text(text) == CHECKPOINT
    empty = Checkpoint(origin=ORIGIN, size=0, root=EMPTY_ROOT)
    assert empty.text() == f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert parse_checkpoint_text(empty.text()) == empty
    biggest = f"{ORIGIN}\n{2**64 - 1}\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint_text(biggest).size == 2**64 - 1


ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFF] * 32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n03\n{ROOT_B64}\n",  # leading zero
        f"{ORIGIN}\n00\n{ROOT_B64}\n",
        f"{ORIGIN}\n-1\n{ROOT_B64}\n",
        f"{ORIGIN}\n+3\n{ROOT_B64}\n",
        f"{ORIGIN}\n 3\n{ROOT_B64}\n",
        f"{ORIGIN}\n3.0\n{ROOT_B64}\n",
        f"{ORIGIN}\n\n{ROOT_B64}\n",
        f"{ORIGIN}\n٣\n{ROOT_B64}\n",  # an Arabic-Indic digit
        f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n",  # over 2^64-1
        f"{ORIGIN}\n3\n{ROOT_B64}\nextension line\n",  # extension lines
        f"{ORIGIN}\n3\n{ROOT_B64}",  # no final newline
        f"{ORIGIN}\n3\n{ROOT_B64}\n\n",
        f"{ORIGIN}\n3\n",
        f"{ORIGIN}\n3\n{ROOT_B64[:-1]}\n",  # bad base64
        f"{ORIGIN}\n3\n{ROOT_B64.replace('=', '')}\n",  # unpadded
        f"{ORIGIN}\n3\n{ROOT_B64[:-2]}{chr(ord(ROOT_B64[-2]) + 1)}=\n",  # pad bits set
        f"{ORIGIN}\n3\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"{ORIGIN}\n3\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33-byte root
        f"{ORIGIN}\n3\n{URLSAFE_ROOT}\n",  # URL-safe alphabet
        f"\n3\n{ROOT_B64}\n",  # empty origin
        f"hoso example\n3\n{ROOT_B64}\n",  # space in origin
        f"hoso+example\n3\n{ROOT_B64}\n",  # '+' in origin
    ],
)
def test_bad_checkpoint_text(text: str) -> None:
    _raises(MalformedCheckpoint, "checkpoint.syntax", lambda: parse_checkpoint_text(text))


def test_pad_bits_case_is_really_non_canonical() -> None:
    bad = ROOT_B64[:-2] + chr(ord(ROOT_B64[-2]) + 1) + "="
    assert base64.b64decode(bad) == ROOT


@pytest.mark.parametrize(
    "changes", [{"size": -1}, {"size": 2**64}, {"root": bytes(31)}, {"root": bytes(33)}]
)
def test_checkpoint_fields(changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"origin": ORIGIN, "size": 1, "root": ROOT} | changes
    _raises(MalformedCheckpoint, "checkpoint.syntax", lambda: Checkpoint(**fields))


def test_open_checkpoint() -> None:
    signed = sign_checkpoint(CHECKPOINT, LOG).serialise()
    checkpoint, note = open_checkpoint(signed, origin=ORIGIN, log_keys=[LOG.verifier])
    assert checkpoint == CHECKPOINT
    assert note.serialise() == signed
    err = _raises(
        CheckpointOriginMismatch,
        "checkpoint.origin",
        lambda: open_checkpoint(signed, origin="hoso.example/hue", log_keys=[LOG.verifier]),
    )
    assert (err.expected, err.found) == ("hoso.example/hue", ORIGIN)
    other_log = Ed25519NoteSigner(ORIGIN, Signer(bytes(32)))
    _raises(
        NoteNotSigned,
        "note.unsigned",
        lambda: open_checkpoint(signed, origin=ORIGIN, log_keys=[other_log.verifier]),
    )
    tampered = sign_checkpoint(CHECKPOINT, LOG).serialise().replace(b"\n3\n", b"\n4\n")
    _raises(
        NoteSignatureInvalid,
        "note.signature",
        lambda: open_checkpoint(tampered, origin=ORIGIN, log_keys=[LOG.verifier]),
    )
    not_a_checkpoint = _note("hello\n", LOG).serialise()
    _raises(
        MalformedCheckpoint,
        "checkpoint.syntax",
        lambda: open_checkpoint(not_a_checkpoint, origin=ORIGIN, log_keys=[LOG.verifier]),
    )


# --- witness cosignatures (tlog-cosignature, cosignature/v1) ----------------------


def _cosigned(*cosigners: Cosigner, timestamp: int = TIMESTAMP) -> Note:
    note = sign_checkpoint(CHECKPOINT, LOG)
    return note.with_signatures([c.cosign(CHECKPOINT, timestamp=timestamp) for c in cosigners])


def test_cosignature_per_spec() -> None:
    sig = WITNESS.cosign(CHECKPOINT, timestamp=TIMESTAMP)
    assert sig.name == WITNESS.name
    assert sig.key_id == note_key_id(WITNESS.name, SIG_COSIGNATURE_V1, WITNESS.signer.public_key)
    assert sig.signature[:8] == struct.pack(">Q", TIMESTAMP)
    message = f"cosignature/v1\ntime {TIMESTAMP}\n{CHECKPOINT.text()}".encode()
    assert cosignature_message(CHECKPOINT.text(), TIMESTAMP) == message
    nacl.signing.VerifyKey(WITNESS.signer.public_key).verify(message, sig.signature[8:])
    assert split_cosignature(sig.signature) == (TIMESTAMP, sig.signature[8:])


def test_verify_cosignatures() -> None:
    note = parse_note(_cosigned(WITNESS, OTHER_WITNESS).serialise())
    open_checkpoint(note.serialise(), origin=ORIGIN, log_keys=[LOG.verifier])
    assert verify_cosignatures(note, [WITNESS.verifier]) == {WITNESS.name: TIMESTAMP}
    assert verify_cosignatures(note, [WITNESS.verifier, OTHER_WITNESS.verifier]) == {
        WITNESS.name: TIMESTAMP,
        OTHER_WITNESS.name: TIMESTAMP,
    }


def test_cosignature_from_unknown_witness_ignored() -> None:
    note = parse_note(_cosigned(OTHER_WITNESS).serialise())
    assert verify_cosignatures(note, [WITNESS.verifier]) == {}
    assert verify_cosignatures(note, []) == {}


def _replace_cosignature(note: Note, signature: bytes) -> Note:
    sigs = tuple(
        NoteSignature(s.name, s.key_id, signature) if s.name == WITNESS.name else s
        for s in note.signatures
    )
    return Note(note.text, sigs)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: struct.pack(">Q", TIMESTAMP + 1) + raw[8:],  # timestamp
        lambda raw: struct.pack(">Q", 0) + raw[8:],
        lambda raw: raw[:8] + bytes([raw[8] ^ 1]) + raw[9:],  # signature R
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 0x40]),  # signature S
    ],
)
def test_tampered_cosignature(mutate: Callable[[bytes], bytes]) -> None:
    note = _cosigned(WITNESS)
    (cosig,) = (s for s in note.signatures if s.name == WITNESS.name)
    bad = parse_note(_replace_cosignature(note, mutate(cosig.signature)).serialise())
    err = _raises(
        CosignatureInvalid,
        "cosignature.invalid",
        lambda: verify_cosignatures(bad, [WITNESS.verifier]),
    )
    assert err.where is not None
    assert WITNESS.name in err.where
    # The log's own signature is untouched, so the checkpoint itself still opens.
    open_checkpoint(bad.serialise(), origin=ORIGIN, log_keys=[LOG.verifier])


def test_cosignature_over_another_checkpoint_fails() -> None:
    sig = WITNESS.cosign(Checkpoint(origin=ORIGIN, size=4, root=ROOT), timestamp=TIMESTAMP)
    note = sign_checkpoint(CHECKPOINT, LOG).with_signatures([sig])
    _raises(
        CosignatureInvalid,
        "cosignature.invalid",
        lambda: verify_cosignatures(note, [WITNESS.verifier]),
    )


@pytest.mark.parametrize(
    "signature",
    [
        struct.pack(">Q", 2**63) + bytes(64),  # timestamp over 2^63-1
        bytes(8 + 63),
        bytes(8 + 65),
        bytes(64),  # a bare Ed25519 signature, no timestamp
    ],
)
def test_malformed_cosignature(signature: bytes) -> None:
    note = _replace_cosignature(_cosigned(WITNESS), signature)
    _raises(
        MalformedCheckpoint,
        "checkpoint.syntax",
        lambda: verify_cosignatures(note, [WITNESS.verifier]),
    )


@pytest.mark.parametrize("timestamp", [-1, 2**63])
def test_cosign_timestamp_range(timestamp: int) -> None:
    _raises(
        MalformedCheckpoint,
        "checkpoint.syntax",
        lambda: WITNESS.cosign(CHECKPOINT, timestamp=timestamp),
    )


def test_cosign_timestamp_bounds() -> None:
    for timestamp in (0, 2**63 - 1):
        note = _cosigned(WITNESS, timestamp=timestamp)
        assert verify_cosignatures(note, [WITNESS.verifier]) == {WITNESS.name: timestamp}


def test_log_signature_is_not_a_cosignature() -> None:
    """The same name and key under type 0x01 and 0x04 have different key ids."""
    log_key = LOG.signer.public_key
    as_witness = CosignatureVerifier(ORIGIN, log_key)
    assert as_witness.key_id != LOG.verifier.key_id
    assert as_witness.key_id == note_key_id(ORIGIN, 0x04, log_key)
    assert LOG.verifier.key_id == note_key_id(ORIGIN, 0x01, log_key)
    note = sign_checkpoint(CHECKPOINT, LOG)
    assert verify_cosignatures(note, [as_witness]) == {}
    # And a cosignature is not taken as the log's signature either.
    witness_as_log = Ed25519Verifier(WITNESS.name, WITNESS.signer.public_key)
    cosig_only = Note(CHECKPOINT.text(), (WITNESS.cosign(CHECKPOINT, timestamp=TIMESTAMP),))
    _raises(NoteNotSigned, "note.unsigned", lambda: verify_note(cosig_only, [witness_as_log]))


def test_log_key_reused_as_witness_key() -> None:
    """A log that also cosigns (same key, same name) yields two distinct lines."""
    same = Cosigner(ORIGIN, LOG.signer)
    note = parse_note(_cosigned(same).serialise())
    assert len(note.signatures) == 2
    assert verify_cosignatures(note, [same.verifier]) == {ORIGIN: TIMESTAMP}
    assert verify_note(note, [LOG.verifier]) == (LOG.verifier,)


def test_cosignature_verifier_from_vkey() -> None:
    vkey = WITNESS.verifier.vkey
    name, sig_type, public_key = parse_vkey(vkey)
    assert (name, sig_type, PublicKey(public_key)) == (
        WITNESS.name,
        SIG_COSIGNATURE_V1,
        WITNESS.signer.public_key,
    )
    note = _cosigned(WITNESS)
    assert verify_cosignatures(note, [parse_cosignature_vkey(vkey)]) == {WITNESS.name: TIMESTAMP}
