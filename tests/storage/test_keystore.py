"""The encrypted keystore (ledger/storage/keystore.py, docs/keystore.md).

Tests use the MIN Argon2id limits (8 KiB, one pass) so key derivation is
instant; the docs example uses INTERACTIVE, as documented.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import pickle
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.pwhash
import nacl.secret
import pytest

from ledger.core.encoding import Value, encode
from ledger.core.errors import (
    HosoError,
    MalformedError,
    MalformedKey,
    NotFoundError,
    VerificationError,
)
from ledger.core.signing import Signer, key_id, verify_signature
from ledger.storage.keystore import Keystore
from ledger.storage.keystore_format import (
    FORMAT,
    INTERACTIVE,
    MIN,
    MODERATE,
    SENSITIVE,
    KdfLimits,
    KeystoreDuplicateKey,
    KeystoreError,
    KeystoreFormatError,
    KeystoreLocked,
    KeystoreNameInvalid,
    KeystorePassphraseInvalid,
    KeystoreUnknownKey,
    format_envelope,
)

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "keystore.md"

PASSPHRASE = "Mật khẩu rất-bí-mật 7421"  # noqa: S105 - a test passphrase
SEED = bytes(range(100, 132))
CLOCK_US = 1767225600000000


def counter_random(start: int = 0) -> Callable[[int], bytes]:
    """``random(n)``: the next n bytes of ``start, start+1, … ff 00 01 …``."""
    stream = itertools.cycle(range(256))
    for _ in range(start):
        next(stream)

    def draw(size: int) -> bytes:
        return bytes(next(stream) for _ in range(size))

    return draw


def fixed_clock() -> int:
    return CLOCK_US


def make(path: Path, passphrase: str | bytes = PASSPHRASE) -> Keystore:
    return Keystore.create(path, passphrase, limits=MIN, clock=fixed_clock)


def envelope(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def derive(passphrase: bytes, salt: bytes, limits: KdfLimits) -> bytes:
    key: bytes = nacl.pwhash.argon2id.kdf(
        32, passphrase, salt, opslimit=limits.opslimit, memlimit=limits.memlimit
    )
    return key


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


# --- round trip ----------------------------------------------------------------


def test_round_trip(path: Path) -> None:
    store = make(path)
    a = store.add("officer:hn-0001")
    b = store.add("officer:hn-0002")
    c = store.add("seal:agency-hn", seed=SEED)
    assert c.public_key == Signer(SEED).public_key
    assert c.key_id == key_id(c.public_key)
    store.save()

    again = Keystore.open(path, PASSPHRASE)
    assert again.names() == ["officer:hn-0001", "officer:hn-0002", "seal:agency-hn"]
    assert list(again) == again.names()
    assert len(again) == 3
    assert "seal:agency-hn" in again
    assert "officer:hn-9999" not in again
    assert again.public_keys() == {
        "officer:hn-0001": a,
        "officer:hn-0002": b,
        "seal:agency-hn": c,
    }
    assert again.public_key("officer:hn-0002") == b
    assert again.created_us("officer:hn-0001") == CLOCK_US
    assert again.limits == MIN
    for name, (kid, public_key) in again.public_keys().items():
        signer = again.signer(name)
        assert signer.key_id == kid
        assert signer.public_key == public_key
        message = f"hoso test message for {name}".encode()
        verify_signature(public_key, message, signer.sign(message))
        # the same key before and after the round trip
        assert signer.sign(message) == store.signer(name).sign(message)


def test_create_writes_an_empty_keystore(path: Path) -> None:
    make(path)
    assert envelope(path)["format"] == FORMAT
    assert Keystore.open(path, PASSPHRASE).names() == []


def test_create_refuses_an_existing_file(path: Path) -> None:
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        make(path)
    assert path.read_bytes() == b"precious"
    assert os.listdir(path.parent) == ["keys.json"]


def test_new_seeds_come_from_the_random_source(path: Path) -> None:
    draws = counter_random(7)
    store = Keystore.create(path, PASSPHRASE, limits=MIN, random=draws, clock=fixed_clock)
    # create drew the salt (16) and its first nonce (24): the seed is next
    info = store.add("officer:hn-0001")
    expected = bytes((7 + 40 + i) % 256 for i in range(32))
    assert info.public_key == Signer(expected).public_key


def test_remove(path: Path) -> None:
    store = make(path)
    store.add("officer:hn-0001")
    store.add("officer:hn-0002")
    store.remove("officer:hn-0001")
    assert store.names() == ["officer:hn-0002"]
    store.save()
    assert Keystore.open(path, PASSPHRASE).names() == ["officer:hn-0002"]


def test_str_passphrase_is_nfc_utf8_and_equals_its_bytes(path: Path) -> None:
    composed = "caf\u00e9 pass"
    make(path, composed).save()
    Keystore.open(path, composed.encode("utf-8"))
    Keystore.open(path, "cafe\u0301 pass")  # decomposed form, same passphrase
    with pytest.raises(KeystoreLocked):
        Keystore.open(path, "cafe\u0301 pass".encode())  # bytes are taken as given


def test_limit_presets() -> None:
    assert MODERATE == (3, 256 * 1024 * 1024)
    assert SENSITIVE == (4, 1024 * 1024 * 1024)
    assert INTERACTIVE == (2, 64 * 1024 * 1024)
    assert MIN == (1, 8192)


def test_default_limits_are_moderate() -> None:
    defaults = Keystore.create.__kwdefaults__
    assert defaults is not None
    assert defaults["limits"] == MODERATE


@pytest.mark.parametrize(
    ("limits", "where"),
    [
        (KdfLimits(0, MIN.memlimit), "limits.opslimit"),
        (KdfLimits(5, MIN.memlimit), "limits.opslimit"),
        (KdfLimits(1, 8191), "limits.memlimit"),
        (KdfLimits(1, 2 * 1024**3), "limits.memlimit"),
    ],
)
def test_create_refuses_limits_out_of_range(path: Path, limits: KdfLimits, where: str) -> None:
    with pytest.raises(KeystoreFormatError) as caught:
        Keystore.create(path, PASSPHRASE, limits=limits)
    assert caught.value.where == where
    assert not path.exists()


# --- wrong passphrase and tampering ----------------------------------------------


def test_wrong_passphrase(path: Path) -> None:
    make(path).save()
    with pytest.raises(KeystoreLocked) as caught:
        Keystore.open(path, PASSPHRASE + "x")
    err = caught.value
    assert isinstance(err, VerificationError)
    assert isinstance(err, KeystoreError)
    assert err.check == "keystore.decrypt"
    assert "wrong passphrase or damaged file" in str(err)
    assert err.__cause__ is None
    assert err.__suppress_context__


@pytest.mark.parametrize("field", ["salt", "nonce", "ciphertext"])
def test_any_flipped_byte_locks(path: Path, field: str) -> None:
    store = make(path)
    store.add("officer:hn-0001", seed=SEED)
    store.save()
    original = envelope(path)
    raw = base64.b64decode(original[field])
    tampered_path = path.with_name("tampered.json")
    for i in range(len(raw)):
        for mask in (0x01, 0x80):
            flipped = bytearray(raw)
            flipped[i] ^= mask
            tampered = dict(original, **{field: base64.b64encode(bytes(flipped)).decode()})
            tampered_path.write_text(json.dumps(tampered), encoding="utf-8")
            with pytest.raises(KeystoreLocked):
                Keystore.open(tampered_path, PASSPHRASE)


@pytest.mark.parametrize(("field", "value"), [("opslimit", 2), ("memlimit", 16384)])
def test_changed_limits_lock(path: Path, field: str, value: int) -> None:
    make(path).save()
    tampered = dict(envelope(path), **{field: value})
    path.write_text(json.dumps(tampered), encoding="utf-8")
    with pytest.raises(KeystoreLocked):
        Keystore.open(path, PASSPHRASE)


# --- malformed files ---------------------------------------------------------------

GOOD = json.loads(
    format_envelope(MIN, bytes(16), bytes(24), bytes(40)).decode("ascii")
)  # well-formed; does not decrypt


def _edit(**changes: Any) -> bytes:
    return json.dumps(dict(GOOD, **changes)).encode()


def _drop(field: str) -> bytes:
    return json.dumps({k: v for k, v in GOOD.items() if k != field}).encode()


MALFORMED: list[tuple[str, bytes, str]] = [
    ("not json", b"hoso keystore", "file"),
    ("empty", b"", "file"),
    ("not utf-8", b'{"format": "\xff"}', "file"),
    ("array", b"[]", "file"),
    ("NaN", json.dumps(dict(GOOD, opslimit=float("nan"))).encode(), "file"),
    ("no format", _drop("format"), "format"),
    ("future format", _edit(format="hoso-keystore/v2"), "format"),
    ("format not str", _edit(format=1), "format"),
    ("other kdf", _edit(kdf="scrypt"), "kdf"),
    ("no kdf", _drop("kdf"), "kdf"),
    ("no salt", _drop("salt"), "salt"),
    ("no ciphertext", _drop("ciphertext"), "ciphertext"),
    ("extra field", _edit(comment="hi"), "'comment'"),
    (
        "repeated field",
        json.dumps(GOOD)
        .replace('"kdf": "argon2id"', '"kdf": "argon2id", "kdf": "argon2id"')
        .encode(),
        "'kdf'",
    ),
    ("opslimit str", _edit(opslimit="1"), "opslimit"),
    ("opslimit bool", _edit(opslimit=True), "opslimit"),
    ("opslimit float", _edit(opslimit=1.0), "opslimit"),
    ("opslimit zero", _edit(opslimit=0), "opslimit"),
    ("opslimit huge", _edit(opslimit=2**40), "opslimit"),
    ("memlimit small", _edit(memlimit=1024), "memlimit"),
    ("memlimit huge", _edit(memlimit=2**40), "memlimit"),
    ("memlimit null", _edit(memlimit=None), "memlimit"),
    ("salt not str", _edit(salt=[1, 2]), "salt"),
    ("salt bad base64", _edit(salt="!!!!"), "salt"),
    ("salt url-safe base64", _edit(salt="-_-_" * 5 + "-_=="), "salt"),
    ("salt unpadded", _edit(salt=base64.b64encode(bytes(16)).decode().rstrip("=")), "salt"),
    ("salt non-canonical", _edit(salt="AAAAAAAAAAAAAAAAAAAAAB=="), "salt"),
    ("salt non-ascii", _edit(salt="ÄAAAAAAAAAAAAAAAAAAAAA=="), "salt"),
    ("salt short", _edit(salt=base64.b64encode(bytes(15)).decode()), "salt"),
    ("nonce long", _edit(nonce=base64.b64encode(bytes(25)).decode()), "nonce"),
    ("ciphertext tag only", _edit(ciphertext=base64.b64encode(bytes(16)).decode()), "ciphertext"),
    ("ciphertext int", _edit(ciphertext=7), "ciphertext"),
]


@pytest.mark.parametrize(
    ("data", "where"), [(d, w) for _, d, w in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_files(path: Path, data: bytes, where: str) -> None:
    path.write_bytes(data)
    with pytest.raises(KeystoreFormatError) as caught:
        Keystore.open(path, PASSPHRASE)
    err = caught.value
    assert isinstance(err, MalformedError)
    assert isinstance(err, KeystoreError)
    assert err.check == "keystore.format"
    assert err.where == where
    assert f"at {where}" in str(err)


def test_oversized_file_is_refused_unparsed(path: Path) -> None:
    path.write_bytes(b" " * (16 * 1024 * 1024 + 1))
    with pytest.raises(KeystoreFormatError, match="larger than") as caught:
        Keystore.open(path, PASSPHRASE)
    assert caught.value.where == "file"


def _sealed(path: Path, plaintext: bytes) -> None:
    """Write a correctly encrypted file around an arbitrary plaintext."""
    salt, nonce = bytes(range(16)), bytes(range(24))
    key = derive(PASSPHRASE.encode(), salt, MIN)
    ciphertext = nacl.secret.SecretBox(key).encrypt(plaintext, nonce).ciphertext
    path.write_bytes(format_envelope(MIN, salt, nonce, ciphertext))


def _entry(
    name: Value = "officer:hn-0001", seed: Value = SEED, created_us: Value = 1
) -> dict[str, Value]:
    return {"name": name, "seed": seed, "created_us": created_us}


BAD_PLAINTEXTS: list[tuple[str, bytes, str]] = [
    ("not msgpack", b"\xc1", "ciphertext"),
    ("non-canonical", b"\xdc\x00\x00", "ciphertext"),
    ("map", encode({"entries": []}), "entries"),
    ("entry not a map", encode(["officer:hn-0001"]), "entries[0]"),
    ("entry missing seed", encode([{"name": "a", "created_us": 1}]), "entries[0]"),
    ("entry extra key", encode([dict(_entry(), note="x")]), "entries[0]"),
    ("name not str", encode([_entry(name=b"a")]), "entries[0].name"),
    ("name invalid", encode([_entry(name="officer hn")]), "entries[0].name"),
    ("seed short", encode([_entry(seed=SEED[:31])]), "entries[0].seed"),
    ("seed str", encode([_entry(seed=SEED.hex())]), "entries[0].seed"),
    ("created_us negative", encode([_entry(created_us=-1)]), "entries[0].created_us"),
    ("created_us bool", encode([_entry(created_us=True)]), "entries[0].created_us"),
    ("unsorted", encode([_entry(name="b", seed=bytes(32)), _entry(name="a")]), "entries[1].name"),
    (
        "duplicate name",
        encode([_entry(name="a", seed=bytes(32)), _entry(name="a")]),
        "entries[1].name",
    ),
    ("duplicate key", encode([_entry(name="a"), _entry(name="b")]), "entries[1].seed"),
]


@pytest.mark.parametrize(
    ("plaintext", "where"),
    [(p, w) for _, p, w in BAD_PLAINTEXTS],
    ids=[b[0] for b in BAD_PLAINTEXTS],
)
def test_malformed_plaintext(path: Path, plaintext: bytes, where: str) -> None:
    _sealed(path, plaintext)
    with pytest.raises(KeystoreFormatError) as caught:
        Keystore.open(path, PASSPHRASE)
    assert caught.value.where == where
    assert caught.value.__cause__ is None


def test_a_hand_sealed_plaintext_opens(path: Path) -> None:
    _sealed(path, encode([_entry(name="a", seed=bytes(32)), _entry(name="b", created_us=9)]))
    store = Keystore.open(path, PASSPHRASE)
    assert store.names() == ["a", "b"]
    assert store.public_key("b").public_key == Signer(SEED).public_key
    assert store.created_us("b") == 9


# --- API errors -------------------------------------------------------------------


@pytest.mark.parametrize("passphrase", ["", b""])
def test_empty_passphrase_refused(path: Path, passphrase: str | bytes) -> None:
    with pytest.raises(KeystorePassphraseInvalid, match="empty"):
        Keystore.create(path, passphrase, limits=MIN)
    assert not path.exists()
    make(path).save()
    with pytest.raises(KeystorePassphraseInvalid):
        Keystore.open(path, passphrase)
    store = Keystore.open(path, PASSPHRASE)
    with pytest.raises(KeystorePassphraseInvalid):
        store.change_passphrase(passphrase)


def test_passphrase_of_wrong_type_refused(path: Path) -> None:
    with pytest.raises(KeystorePassphraseInvalid, match="not bytearray"):
        Keystore.create(path, bytearray(b"secret"), limits=MIN)  # type: ignore[arg-type]


def test_unknown_key(path: Path) -> None:
    store = make(path)
    store.add("officer:hn-0001")
    for call in (store.signer, store.remove, store.public_key, store.created_us):
        with pytest.raises(KeystoreUnknownKey) as caught:
            call("officer:hn-0404")
        assert caught.value.check == "keystore.unknown_key"
        assert isinstance(caught.value, NotFoundError)
        assert "'officer:hn-0404'" in str(caught.value)
    assert store.names() == ["officer:hn-0001"]


def test_duplicate_name(path: Path) -> None:
    store = make(path)
    first = store.add("officer:hn-0001", seed=SEED)
    with pytest.raises(KeystoreDuplicateKey, match="'officer:hn-0001'") as caught:
        store.add("officer:hn-0001")
    assert caught.value.check == "keystore.duplicate_key"
    assert store.public_keys() == {"officer:hn-0001": first}


def test_duplicate_key_under_another_name(path: Path) -> None:
    store = make(path)
    first = store.add("officer:hn-0001", seed=SEED)
    with pytest.raises(KeystoreDuplicateKey, match="already stored as 'officer:hn-0001'"):
        store.add("officer:hn-0002", seed=SEED)
    assert store.public_keys() == {"officer:hn-0001": first}


@pytest.mark.parametrize(
    "name", ["", " officer", "officer hn", ":officer", "officer\n", "cán-bộ", "x" * 129]
)
def test_invalid_names(path: Path, name: str) -> None:
    store = make(path)
    with pytest.raises(KeystoreNameInvalid) as caught:
        store.add(name)
    assert caught.value.check == "keystore.name"
    assert len(store) == 0


def test_valid_names(path: Path) -> None:
    store = make(path)
    for name in ("a", "officer:hn-0001", "seal:agency/hn", "x.y_z@b+c", "9" * 128):
        store.add(name)
    store.save()
    assert len(Keystore.open(path, PASSPHRASE)) == 5


def test_bad_seed_length(path: Path) -> None:
    store = make(path)
    with pytest.raises(MalformedKey):
        store.add("officer:hn-0001", seed=SEED[:31])
    assert len(store) == 0


def test_not_picklable(path: Path) -> None:
    store = make(path)
    store.add("officer:hn-0001", seed=SEED)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(store)


# --- files on disk ------------------------------------------------------------------


def test_file_mode_is_0600_whatever_the_umask(path: Path) -> None:
    old = os.umask(0)
    try:
        store = make(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        store.add("officer:hn-0001")
        store.save()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        path.chmod(0o644)
        store.save()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_save_replaces_the_file_and_leaves_no_temporary(path: Path) -> None:
    store = make(path)
    inode = path.stat().st_ino
    store.add("officer:hn-0001")
    store.save()
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert os.listdir(path.parent) == ["keys.json"]
    first_nonce = envelope(path)["nonce"]
    store.save()
    assert envelope(path)["nonce"] != first_nonce  # fresh nonce on every save


def test_nothing_is_written_until_save(path: Path) -> None:
    store = make(path)
    store.add("officer:hn-0001")
    store.save()
    before = path.read_bytes()
    store.add("officer:hn-0002")
    store.remove("officer:hn-0001")
    store.change_passphrase("a new passphrase")
    with pytest.raises(KeystoreDuplicateKey):
        store.add("officer:hn-0002")
    assert path.read_bytes() == before
    assert Keystore.open(path, PASSPHRASE).names() == ["officer:hn-0001"]


FAILING_WRITE = """
import errno, resource, signal, sys
from pathlib import Path
from ledger.storage.keystore import Keystore
from ledger.storage.keystore_format import MIN
path, passphrase, op, limit = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
if op == "save":
    store = Keystore.open(path, passphrase)
    for i in range(50):
        store.add(f"officer:hn-{i:04d}")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    if op == "save":
        store.save()
    else:
        Keystore.create(path, passphrase, limits=MIN)
except OSError as err:
    print(errno.errorcode[err.errno])
else:
    print("written")
"""


def _write_under_size_limit(path: Path, op: str, limit: int) -> str:
    """Run ``op`` (save or create) in a child process whose files can't exceed ``limit`` bytes."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", FAILING_WRITE, str(path), PASSPHRASE, op, str(limit)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    )
    return result.stdout.strip()


def test_a_save_that_fails_mid_write_leaves_the_old_file(path: Path) -> None:
    # A real failure, no mocks: the file-size limit stops the write part-way (EFBIG).
    store = make(path)
    store.add("officer:hn-9999", seed=SEED)
    store.save()
    before = path.read_bytes()
    assert len(before) < 600
    assert _write_under_size_limit(path, "save", 600) == "EFBIG"
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["keys.json"]
    assert Keystore.open(path, PASSPHRASE).names() == ["officer:hn-9999"]


def test_a_create_that_fails_leaves_no_file(path: Path) -> None:
    assert _write_under_size_limit(path, "create", 100) == "EFBIG"
    assert os.listdir(path.parent) == []


def test_change_passphrase(path: Path) -> None:
    store = make(path)
    info = store.add("officer:hn-0001", seed=SEED)
    store.save()
    old_salt = envelope(path)["salt"]
    store.change_passphrase(b"new passphrase bytes", limits=INTERACTIVE)
    store.save()
    assert envelope(path)["salt"] != old_salt
    assert (envelope(path)["opslimit"], envelope(path)["memlimit"]) == INTERACTIVE
    with pytest.raises(KeystoreLocked):
        Keystore.open(path, PASSPHRASE)
    again = Keystore.open(path, b"new passphrase bytes")
    assert again.public_keys() == {"officer:hn-0001": info}
    assert again.limits == INTERACTIVE


# --- secrets ----------------------------------------------------------------------


def _renderings(obj: object) -> list[str]:
    out = [str(obj), repr(obj)]
    if isinstance(obj, HosoError):
        out.append(json.dumps(obj.as_dict()))
        out.append(repr(obj.args))
    if isinstance(obj, BaseException):
        for linked in (obj.__cause__, obj.__context__):
            if linked is not None:
                out.extend(_renderings(linked))
    return out


def test_secrets_never_appear_in_messages_or_reprs(path: Path) -> None:
    new_passphrase = "second secret passphrase 5310"  # noqa: S105 - a test passphrase
    store = make(path)
    store.add("officer:hn-0001", seed=SEED)
    store.save()
    salt = base64.b64decode(envelope(path)["salt"])
    derived = derive(PASSPHRASE.encode(), salt, MIN)

    caught: list[BaseException] = []

    def expect(call: Callable[[], object]) -> None:
        try:
            call()
        except (HosoError, OSError) as err:
            caught.append(err)
        else:
            pytest.fail("expected an error")

    opened = Keystore.open(path, PASSPHRASE)
    expect(lambda: Keystore.open(path, "wrong " + PASSPHRASE))
    expect(lambda: Keystore.open(path, ""))
    expect(lambda: Keystore.create(path, PASSPHRASE, limits=MIN))  # exists
    expect(lambda: opened.add("officer:hn-0001", seed=SEED))  # duplicate name
    expect(lambda: opened.add("officer:hn-0002", seed=SEED))  # duplicate key
    expect(lambda: opened.add("officer hn", seed=SEED))  # invalid name
    expect(lambda: opened.add("officer:hn-0003", seed=SEED[:31]))
    expect(lambda: opened.add("officer:hn-0003", seed=SEED + b"\x00"))
    expect(lambda: opened.signer("officer:hn-0404"))
    expect(lambda: opened.remove("officer:hn-0404"))
    expect(lambda: opened.change_passphrase(b""))

    tampered = envelope(path)
    raw = bytearray(base64.b64decode(tampered["ciphertext"]))
    raw[-1] ^= 1
    tampered["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    bad = path.with_name("tampered.json")
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    expect(lambda: Keystore.open(bad, PASSPHRASE))
    bad.write_text(json.dumps(dict(tampered, salt="!!")), encoding="utf-8")
    expect(lambda: Keystore.open(bad, PASSPHRASE))
    for plaintext in (
        encode([_entry(name="b"), _entry(name="a", seed=bytes(32))]),
        encode([_entry(seed=SEED + SEED)]),
        encode([_entry(name="officer hn")]),
        encode([_entry(name="a"), _entry(name="b")]),
        encode(SEED),
        SEED,
    ):
        _sealed(bad, plaintext)
        expect(lambda: Keystore.open(bad, PASSPHRASE))

    opened.change_passphrase(new_passphrase)
    opened.save()
    expect(lambda: Keystore.open(path, PASSPHRASE))
    expect(lambda: Keystore.open(path, new_passphrase + "!"))
    reopened = Keystore.open(path, new_passphrase)

    objects: list[object] = [
        *caught,
        store,
        opened,
        reopened,
        reopened.signer("officer:hn-0001"),
        reopened.public_keys(),
        reopened.public_key("officer:hn-0001"),
        reopened.names(),
    ]
    forbidden: list[str] = []
    for secret in (SEED, derived):
        forbidden += [
            secret.hex(),
            secret.hex().upper(),
            base64.b64encode(secret).decode(),
            base64.urlsafe_b64encode(secret).decode(),
            repr(secret)[2:-1],
            secret[:8].hex(),  # no fragment either
        ]
    for phrase in (PASSPHRASE, new_passphrase):
        forbidden += [phrase, repr(phrase.encode())[2:-1], phrase.encode().hex()]
    for obj in objects:
        for text in _renderings(obj):
            for secret_text in forbidden:
                assert secret_text not in text, (type(obj).__name__, text)
    # the file on disk holds nothing in the clear either
    file_text = path.read_text(encoding="utf-8")
    for secret_text in forbidden:
        assert secret_text not in file_text


# --- the docs example -------------------------------------------------------------

DOC_PASSPHRASE = "correct horse battery staple"  # noqa: S105 - the documented example
DOC_KEYS = {
    "officer:hn-0001": (
        bytes([0x11]) * 32,
        "7182952bdcf209b9dcd183b6f47b0743",
        "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737",
    ),
    "seal:agency-hn": (
        bytes([0x22]) * 32,
        "0d90d70c7c41fa80ed1e553adf702a23",
        "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0",
    ),
}


def _doc_blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_docs_example_is_what_the_code_writes(tmp_path: Path) -> None:
    doc = DOC.read_text(encoding="utf-8")
    (example,) = _doc_blocks("json")
    target = tmp_path / "keys.json"
    store = Keystore.create(
        target, DOC_PASSPHRASE, limits=INTERACTIVE, random=counter_random(), clock=lambda: CLOCK_US
    )
    for name, (seed, kid, public_key) in DOC_KEYS.items():
        info = store.add(name, seed=seed)
        assert (info.key_id.hex(), info.public_key.hex()) == (kid, public_key)
        assert f"| `{name}` | `{kid}` | `{public_key}` |" in doc
    store.save()
    assert target.read_bytes() == example.encode("utf-8")
    assert f"passphrase `{DOC_PASSPHRASE}`" in doc
    assert str(CLOCK_US) in doc


def test_docs_example_decrypts(tmp_path: Path) -> None:
    (example,) = _doc_blocks("json")
    key_hex, plaintext_hex = ("".join(block.split()) for block in _doc_blocks("hex"))
    target = tmp_path / "keys.json"
    target.write_text(example, encoding="utf-8")

    store = Keystore.open(target, DOC_PASSPHRASE)
    assert store.limits == INTERACTIVE
    assert store.public_keys() == {
        name: (bytes.fromhex(kid), bytes.fromhex(pk)) for name, (_, kid, pk) in DOC_KEYS.items()
    }
    for name, (seed, _, _) in DOC_KEYS.items():
        assert store.signer(name).export_seed() == seed
        assert store.created_us(name) == CLOCK_US

    # independently, with PyNaCl alone, as the document describes
    fields = json.loads(example)
    key = derive(DOC_PASSPHRASE.encode(), base64.b64decode(fields["salt"]), INTERACTIVE)
    assert key.hex() == key_hex
    plaintext = nacl.secret.SecretBox(key).decrypt(
        base64.b64decode(fields["ciphertext"]), base64.b64decode(fields["nonce"])
    )
    assert plaintext.hex() == plaintext_hex
    assert len(plaintext) == 162
    assert plaintext == encode(
        [
            {"created_us": CLOCK_US, "name": name, "seed": seed}
            for name, (seed, _, _) in DOC_KEYS.items()
        ]
    )
