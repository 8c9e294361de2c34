"""Canonical msgpack (ledger.core.encoding): round trips, pinned bytes, canonical rejection.

The reference encoder ``_Loose`` below is written from the MessagePack spec
(github.com/msgpack/msgpack/blob/master/spec.md), independently of msgpack-python:
with every header in its shortest form it must reproduce :func:`encode` byte for
byte, and with any one header widened :func:`decode` must reject the bytes.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

import msgpack
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.core.encoding import INT_MAX, INT_MIN, MAX_DEPTH, Value, decode, encode
from ledger.core.errors import MalformedEncoding, MalformedError

CHECK = "encoding.canonical"

scalars: st.SearchStrategy[Value] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=INT_MIN, max_value=INT_MAX),
    st.text(max_size=40),
    st.binary(max_size=40),
)


def _extend(children: st.SearchStrategy[Value]) -> st.SearchStrategy[Value]:
    return st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.text(max_size=10), children, max_size=6),
    )


values: st.SearchStrategy[Value] = st.recursive(scalars, _extend, max_leaves=24)


def _same(a: object, b: object) -> bool:
    """Structural equality that also compares types (so True is not 1, b"" is not "")."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _rejects(data: bytes) -> MalformedEncoding:
    """Assert ``decode`` raises exactly MalformedEncoding (check encoding.canonical)."""
    with pytest.raises(MalformedEncoding) as info:
        decode(data)
    err = info.value
    assert type(err) is MalformedEncoding
    assert err.check == CHECK
    assert str(err).startswith(f"[{CHECK}]")
    return err


def _rejects_encode(value: object) -> MalformedEncoding:
    with pytest.raises(MalformedEncoding) as info:
        encode(value)  # type: ignore[arg-type]
    err = info.value
    assert type(err) is MalformedEncoding
    assert err.check == CHECK
    return err


# --- an independent msgpack encoder that can emit every header form ---------


def _int_forms(v: int) -> list[bytes]:
    """Every msgpack encoding of int ``v``, the shortest (canonical) one first."""
    forms: list[bytes] = []
    if 0 <= v <= 0x7F:
        forms.append(bytes([v]))
    if -32 <= v < 0:
        forms.append(struct.pack(">b", v))
    if v >= 0:
        for code, fmt, hi in ((0xCC, ">B", 2**8), (0xCD, ">H", 2**16)):
            if v < hi:
                forms.append(bytes([code]) + struct.pack(fmt, v))
        for code, fmt, hi in ((0xCE, ">I", 2**32), (0xCF, ">Q", 2**64)):
            if v < hi:
                forms.append(bytes([code]) + struct.pack(fmt, v))
    for code, fmt, bits in ((0xD0, ">b", 8), (0xD1, ">h", 16), (0xD2, ">i", 32), (0xD3, ">q", 64)):
        if -(2 ** (bits - 1)) <= v < 2 ** (bits - 1):
            forms.append(bytes([code]) + struct.pack(fmt, v))
    return forms


def _len_forms(n: int, fix: tuple[int, int] | None, codes: tuple[int, ...]) -> list[bytes]:
    """Length headers for ``n`` items: fix form (base, limit) if any, then 8/16/32-bit forms."""
    forms: list[bytes] = []
    if fix is not None and n < fix[1]:
        forms.append(bytes([fix[0] | n]))
    widths = (">B", ">H", ">I") if len(codes) == 3 else (">H", ">I")
    for code, fmt in zip(codes, widths, strict=True):
        if n < 2 ** (8 * struct.calcsize(fmt)):
            forms.append(bytes([code]) + struct.pack(fmt, n))
    return forms


def _forms(value: object) -> list[bytes]:
    """The header alternatives (with the payload, for scalars) of one node."""
    if value is None or isinstance(value, bool):
        return [{None: b"\xc0", False: b"\xc2", True: b"\xc3"}[value]]
    if isinstance(value, int):
        return _int_forms(value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return [h + raw for h in _len_forms(len(raw), (0xA0, 32), (0xD9, 0xDA, 0xDB))]
    if isinstance(value, bytes):
        return [h + value for h in _len_forms(len(value), None, (0xC4, 0xC5, 0xC6))]
    if isinstance(value, list):
        return _len_forms(len(value), (0x90, 16), (0xDC, 0xDD))
    if isinstance(value, dict):
        return _len_forms(len(value), (0x80, 16), (0xDE, 0xDF))
    raise AssertionError(f"unexpected {value!r}")


class _Loose:
    """Encode a value, choosing each node's header with ``pick(node index, forms)``."""

    def __init__(self, pick: Callable[[int, list[bytes]], bytes]) -> None:
        self.pick = pick
        self.count = 0
        self.choices: list[int] = []

    def encode(self, value: object) -> bytes:
        forms = _forms(value)
        self.choices.append(len(forms))
        out = self.pick(self.count, forms)
        self.count += 1
        if isinstance(value, list):
            out += b"".join(self.encode(item) for item in value)
        elif isinstance(value, dict):
            for key in sorted(value, key=lambda k: k.encode("utf-8")):
                out += self.encode(key) + self.encode(value[key])
        return out


def _shortest(value: object) -> bytes:
    return _Loose(lambda _i, forms: forms[0]).encode(value)


def _nested(depth: int, leaf: Value) -> Value:
    """``depth`` nested single-item arrays around ``leaf`` (leaf at depth ``depth``)."""
    out = leaf
    for _ in range(depth):
        out = [out]
    return out


# --- round trips ---------------------------------------------------------------


@given(values)
def test_round_trip(value: Value) -> None:
    data = encode(value)
    back = decode(data)
    assert _same(back, value)
    assert encode(back) == data


@given(values)
def test_reference_encoder_agrees(value: Value) -> None:
    """The spec-derived shortest-form encoder reproduces encode() byte for byte."""
    assert encode(value) == _shortest(value)


@given(values, st.randoms(use_true_random=False))
def test_encode_ignores_dict_insertion_order(value: Value, rnd: random.Random) -> None:
    def shuffled(v: Value) -> Value:
        if isinstance(v, list):
            return [shuffled(x) for x in v]
        if isinstance(v, dict):
            keys = list(v)
            rnd.shuffle(keys)
            return {k: shuffled(v[k]) for k in keys}
        return v

    assert encode(shuffled(value)) == encode(value)


def test_tuples_encode_as_arrays_and_decode_as_lists() -> None:
    assert encode((1, "a", (b"x",))) == encode([1, "a", [b"x"]]) == b"\x93\x01\xa1a\x91\xc4\x01x"
    assert decode(encode((1, 2))) == [1, 2]


# --- pinned bytes (hand-computed from the msgpack spec) -----------------------

PINNED: list[tuple[Value, str]] = [
    (None, "c0"),
    (False, "c2"),
    (True, "c3"),
    (0, "00"),
    (127, "7f"),
    (128, "cc80"),
    (255, "ccff"),
    (256, "cd0100"),
    (65535, "cdffff"),
    (65536, "ce00010000"),
    (2**32 - 1, "ceffffffff"),
    (2**32, "cf0000000100000000"),
    (2**64 - 1, "cfffffffffffffffff"),
    (-1, "ff"),
    (-32, "e0"),
    (-33, "d0df"),
    (-128, "d080"),
    (-129, "d1ff7f"),
    (-32768, "d18000"),
    (-32769, "d2ffff7fff"),
    (-(2**31), "d280000000"),
    (-(2**31) - 1, "d3ffffffff7fffffff"),
    (-(2**63), "d38000000000000000"),
    ("", "a0"),
    ("a", "a161"),
    ("x" * 31, "bf" + "78" * 31),
    ("x" * 32, "d920" + "78" * 32),
    ("x" * 255, "d9ff" + "78" * 255),
    ("x" * 256, "da0100" + "78" * 256),
    ("ấ", "a3e1baa5"),  # U+1EA5, three UTF-8 bytes
    ("Cấp", "a543e1baa570"),
    (b"", "c400"),
    (b"\x01", "c40101"),
    (b"\x00" * 256, "c50100" + "00" * 256),
    ([], "90"),
    ([1, 2], "920102"),
    (list(range(15)), "9f" + "".join(f"{i:02x}" for i in range(15))),
    (list(range(16)), "dc0010" + "".join(f"{i:02x}" for i in range(16))),
    ({}, "80"),
    ({"b": 1, "a": 2}, "82a16102a16201"),
    # sorted by UTF-8 bytes: "a" < "aa" < "z" < "é" (c3 a9)
    ({"é": 1, "z": 0, "aa": 3, "a": 2}, "84a16102a2616103a17a00a2c3a901"),
    # the example of docs/formats.md §1
    ({"b": 1, "a": [1, -1, b"x", "s", None, True]}, "82a16196" + "01ffc40178a173c0c3" + "a16201"),
    (
        {"body": b"\xff", "sigs": [{"kid": b"", "sig": None}]},
        "82a4626f6479c401ffa4736967739182a36b6964c400a3736967c0",
    ),
]


@pytest.mark.parametrize(("value", "hex_bytes"), PINNED)
def test_pinned_bytes(value: Value, hex_bytes: str) -> None:
    data = bytes.fromhex(hex_bytes)
    assert encode(value) == data
    assert _same(decode(data), value)


def test_pinned_map16() -> None:
    value: dict[str, Value] = {str(i): None for i in range(16)}
    keys = sorted(value)
    expected = b"\xde\x00\x10" + b"".join(
        bytes([0xA0 | len(k)]) + k.encode() + b"\xc0" for k in keys
    )
    assert encode(value) == expected
    assert keys[:3] == ["0", "1", "10"]  # byte order, not numeric order


# --- canonical rejection: widened headers --------------------------------------


@given(values, st.data())
def test_any_widened_header_is_rejected(value: Value, data: st.DataObject) -> None:
    probe = _Loose(lambda _i, forms: forms[0])
    probe.encode(value)
    widenable = [i for i, n in enumerate(probe.choices) if n > 1]
    assume(widenable)
    node = data.draw(st.sampled_from(widenable), label="node")
    alt = data.draw(st.integers(1, probe.choices[node] - 1), label="alternative form")
    loose = _Loose(lambda i, forms: forms[alt] if i == node else forms[0]).encode(value)
    assert loose != encode(value)
    # msgpack itself reads the widened bytes as the same value...
    assert _same(msgpack.unpackb(loose, raw=False, strict_map_key=False), value)
    # ...but hoso only accepts the shortest form, and says where it differs.
    err = _rejects(loose)
    assert err.where is not None
    assert err.where.startswith("byte ")


@pytest.mark.parametrize(
    ("hex_bytes", "where"),
    [
        ("cc05", "byte 0"),  # uint8 for a fixint
        ("cd0080", "byte 0"),  # uint16 for a uint8
        ("ce0000ffff", "byte 0"),  # uint32 for a uint16
        ("cf00000000ffffffff", "byte 0"),  # uint64 for a uint32
        ("d005", "byte 0"),  # int8 for a positive fixint
        ("d0ff", "byte 0"),  # int8 for a negative fixint
        ("d1ff80", "byte 0"),  # int16 for an int8
        ("d3ffffffffffffffff", "byte 0"),  # int64 for -1
        ("d90161", "byte 0"),  # str8 for a fixstr
        ("da000161", "byte 0"),  # str16
        ("db0000000161", "byte 0"),  # str32
        ("c5000101", "byte 0"),  # bin16 for a bin8
        ("c600000000", "byte 0"),  # bin32 for an empty bin
        ("dc0000", "byte 0"),  # array16 for an empty array
        ("dd0000000101", "byte 0"),  # array32 for a fixarray
        ("de0000", "byte 0"),  # map16 for an empty map
        ("df00000001a16101", "byte 0"),  # map32
        ("9201cc02", "byte 2"),  # a widened int inside an array
        ("81a161d90162", "byte 3"),  # a widened str value inside a map
    ],
)
def test_non_shortest_headers_rejected(hex_bytes: str, where: str) -> None:
    err = _rejects(bytes.fromhex(hex_bytes))
    assert err.where == where
    assert "shortest" in err.detail


# --- canonical rejection: everything else ----------------------------------------


@pytest.mark.parametrize(
    ("hex_bytes", "words"),
    [
        ("82a16201a16102", "out of order"),  # {"b":1, "a":2}
        ("82a2616101a16102", "out of order"),  # "aa" before "a"
        ("82a2c3a901a17a00", "out of order"),  # "é" before "z"
        ("82a16101a16102", "duplicate"),  # {"a":1, "a":2}
        ("81c4016101", "not str"),  # bin key
        ("8101a161", "map key"),  # int key
        ("81c0a161", "map key"),  # nil key
        ("81c3a161", "map key"),  # bool key
        ("819101a161", "map key"),  # array key
    ],
)
def test_map_key_rules(hex_bytes: str, words: str) -> None:
    err = _rejects(bytes.fromhex(hex_bytes))
    assert words in str(err)


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "ca3f800000",  # float32 1.0
        "cb3ff0000000000000",  # float64 1.0
        "cb0000000000000000",  # float64 0.0
        "9201ca00000000",  # a float inside an array
        "81a161cb3ff0000000000000",  # a float inside a map
    ],
)
def test_floats_rejected(hex_bytes: str) -> None:
    err = _rejects(bytes.fromhex(hex_bytes))
    assert "float" in err.detail
    assert "microseconds" in err.detail


@pytest.mark.parametrize(
    ("hex_bytes", "words"),
    [
        ("d40100", "ExtType"),  # fixext1
        ("d5010000", "ExtType"),  # fixext2
        ("d60100000000", "ExtType"),  # fixext4
        ("d7010000000000000000", "ExtType"),  # fixext8
        ("d801" + "00" * 16, "ExtType"),  # fixext16
        ("c7010100", "ExtType"),  # ext8
        ("c800010100", "ExtType"),  # ext16
        ("c9000000010100", "ExtType"),  # ext32
        ("d6ff00000000", "Timestamp"),  # timestamp32
        ("d7ff0000000000000000", "Timestamp"),  # timestamp64
        ("c70cff" + "00" * 12, "Timestamp"),  # timestamp96
        ("c705ff" + "00" * 5, "timestamp"),  # a timestamp of an invalid length
        ("9201d6ff00000000", "Timestamp"),  # a timestamp inside an array
    ],
)
def test_ext_types_and_timestamps_rejected(hex_bytes: str, words: str) -> None:
    err = _rejects(bytes.fromhex(hex_bytes))
    assert words in err.detail


def test_nested_ext_names_its_path() -> None:
    assert _rejects(bytes.fromhex("9201d6ff00000000")).where == "$[1]"
    assert _rejects(bytes.fromhex("81a161d40100")).where == "$.a"


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "a1ff",  # not UTF-8 at all
        "a1c3",  # truncated two-byte sequence
        "a2c080",  # overlong encoding of NUL
        "a3eda080",  # an encoded surrogate (U+D800)
        "a4f4908080",  # beyond U+10FFFF
        "81a1ff01",  # invalid UTF-8 in a map key
    ],
)
def test_invalid_utf8_rejected(hex_bytes: str) -> None:
    err = _rejects(bytes.fromhex(hex_bytes))
    assert "UTF-8" in err.detail


@pytest.mark.parametrize("hex_bytes", ["c1", "91c1"])  # 0xc1 is "never used"
def test_reserved_byte_rejected(hex_bytes: str) -> None:
    _rejects(bytes.fromhex(hex_bytes))


@given(values, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_rejected(value: Value, extra: bytes) -> None:
    data = encode(value)
    err = _rejects(data + extra)
    assert err.where == f"byte {len(data)}"
    assert f"{len(extra)} extra bytes" in err.detail


@given(values)
def test_every_truncation_rejected(value: Value) -> None:
    data = encode(value)
    for end in range(len(data)):
        _rejects(data[:end])


def test_empty_input_and_non_bytes_rejected() -> None:
    _rejects(b"")
    with pytest.raises(MalformedEncoding) as info:
        decode(bytearray(b"\xc0"))  # type: ignore[arg-type]
    assert info.value.check == CHECK
    assert "bytearray" in info.value.detail


# --- nesting depth ---------------------------------------------------------------


def test_depth_limit_on_encode() -> None:
    """At most MAX_DEPTH (32) nested arrays/maps (docs/formats.md §1), whatever is inside."""
    assert decode(encode(_nested(MAX_DEPTH, 1))) == _nested(MAX_DEPTH, 1)
    assert encode(_nested(MAX_DEPTH - 1, [])) == b"\x91" * (MAX_DEPTH - 1) + b"\x90"
    leaves: list[Value] = [1, [], {}]
    for leaf in leaves:
        err = _rejects_encode(_nested(MAX_DEPTH + 1, leaf))
        assert err.where == "$" + "[0]" * MAX_DEPTH
        assert f"more than {MAX_DEPTH} nested" in err.detail
    err = _rejects_encode(_nested(MAX_DEPTH, []))  # 33 arrays, the innermost empty
    assert err.where == "$" + "[0]" * MAX_DEPTH
    deep_map: Value = 1
    for _ in range(MAX_DEPTH + 1):
        deep_map = {"k": deep_map}
    err = _rejects_encode(deep_map)
    assert err.where == "$" + ".k" * MAX_DEPTH


def test_depth_limit_on_decode() -> None:
    assert decode(b"\x91" * MAX_DEPTH + b"\x01") == _nested(MAX_DEPTH, 1)
    assert decode(b"\x91" * (MAX_DEPTH - 1) + b"\x90") == _nested(MAX_DEPTH - 1, [])
    err = _rejects(b"\x91" * (MAX_DEPTH + 1) + b"\x01")
    assert str(MAX_DEPTH) in err.detail
    _rejects(b"\x91" * MAX_DEPTH + b"\x90")
    _rejects(b"\x91" * MAX_DEPTH + b"\x80")
    _rejects(b"\x81\xa1k" * (MAX_DEPTH + 1) + b"\xc0")
    _rejects(b"\x81\xa1k" * MAX_DEPTH + b"\x80")
    deep_map: Value = None
    for _ in range(MAX_DEPTH):
        deep_map = {"k": deep_map}
    assert decode(b"\x81\xa1k" * MAX_DEPTH + b"\xc0") == deep_map
    # Far deeper than msgpack's own stack: still a typed error, not a crash.
    _rejects(b"\x91" * 5000 + b"\xc0")


def test_self_referencing_value_rejected() -> None:
    loop: list[Value] = []
    loop.append(loop)
    _rejects_encode(loop)


# --- values outside the subset on encode -----------------------------------------


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (2**64, "$"),
        (-(2**63) - 1, "$"),
        ([0, 2**70], "$[1]"),
        ({"a": {"b": -(2**64)}}, "$.a.b"),
    ],
)
def test_ints_outside_64_bits_rejected(value: Value, where: str) -> None:
    err = _rejects_encode(value)
    assert err.where == where
    assert "outside 64 bits" in err.detail


@given(st.one_of(st.integers(min_value=INT_MAX + 1), st.integers(max_value=INT_MIN - 1)))
def test_any_int_outside_64_bits_rejected(value: int) -> None:
    _rejects_encode(value)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (1.5, "float"),
        ({"t": 0.0}, "float"),
        (bytearray(b"x"), "bytearray"),
        (memoryview(b"x"), "memoryview"),
        ({1, 2}, "set"),
        (msgpack.ExtType(1, b"x"), "ExtType"),
        (msgpack.Timestamp(0), "Timestamp"),
        (object(), "object"),
    ],
)
def test_types_outside_the_subset_rejected(value: object, kind: str) -> None:
    err = _rejects_encode(value)
    assert kind in err.detail


@pytest.mark.parametrize("value", [{1: "a"}, {b"k": 1}, {None: 1}, {"a": {2: 3}}])
def test_non_str_keys_rejected_on_encode(value: object) -> None:
    err = _rejects_encode(value)
    assert "not str" in err.detail


@pytest.mark.parametrize("value", ["\ud800", ["ok", "a\udfffb"], {"\udc80": 1}, {"k": "\ud83d"}])
def test_lone_surrogates_rejected_on_encode(value: object) -> None:
    err = _rejects_encode(value)
    assert "UTF-8" in err.detail


def test_errors_are_malformed_family() -> None:
    err = _rejects(b"\xcc\x05")
    assert isinstance(err, MalformedError)
    assert err.as_dict() == {
        "check": CHECK,
        "where": "byte 0",
        "detail": err.detail,
        "expected": None,
        "found": None,
    }


# --- decode accepts nothing but canonical bytes ----------------------------------


@given(values, st.data())
def test_single_byte_mutation_never_accepted_unless_canonical(
    value: Value, data: st.DataObject
) -> None:
    original = encode(value)
    index = data.draw(st.integers(0, len(original) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != original[index]), label="byte")
    mutated = original[:index] + bytes([byte]) + original[index + 1 :]
    outcome = _decode_or_error(mutated)
    if isinstance(outcome, MalformedEncoding):
        assert outcome.check == CHECK
    else:
        assert encode(outcome) == mutated
        assert not _same(outcome, value)


def _decode_or_error(data: bytes) -> Value | MalformedEncoding:
    try:
        return decode(data)
    except MalformedEncoding as err:
        return err
