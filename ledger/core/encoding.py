"""Canonical msgpack: the one byte form of every hashed or signed structure.

Follows the MessagePack specification (github.com/msgpack/msgpack/blob/master/spec.md)
restricted to a canonical subset, specified in docs/formats.md §1:

* types: nil, bool, int, str (UTF-8), bin, array, map — no float, no ext
  (so no msgpack timestamps: times are integer microseconds UTC);
* ints in [-2**63, 2**64 - 1], always in the shortest format (non-negative
  ints as positive fixint/uint*, negative ints as negative fixint/int*);
* str, bin, array and map lengths in the shortest format;
* map keys are str, unique, sorted by their UTF-8 bytes;
* at most :data:`MAX_DEPTH` nested arrays/maps; no bytes after the value.

:func:`encode` produces that form; :func:`decode` accepts only bytes that
:func:`encode` would produce, so ``encode(decode(b)) == b`` for every accepted
``b``. Anything else raises :class:`~ledger.core.errors.MalformedEncoding`
saying where.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgpack

from ledger.core.errors import MalformedEncoding

Value: TypeAlias = (
    bool | int | str | bytes | list["Value"] | tuple["Value", ...] | dict[str, "Value"] | None
)
"""A value the canonical encoding can carry (tuples encode as arrays, decode as lists)."""

MAX_DEPTH = 32
INT_MIN = -(2**63)
INT_MAX = 2**64 - 1


def encode(value: Value) -> bytes:
    """Encode ``value`` canonically; raise MalformedEncoding for values outside the subset."""
    return _pack(_normalise(value, "$", 0))


def encode_sorted(value: Value) -> bytes:
    """Encode a value already inside the subset with every map's keys inserted in sorted
    order — built field by field from typed values, as :class:`ledger.core.index.StreamState`
    does — without :func:`encode`'s checking walk. For such values the bytes are the same
    (a test holds the two together); for anything else use :func:`encode`."""
    return _pack(value)


def decode(data: bytes) -> Value:
    """Decode canonical bytes; raise MalformedEncoding unless they are exactly canonical."""
    if not isinstance(data, bytes):
        raise MalformedEncoding(f"expected bytes, got {type(data).__name__}")
    # Fast path for the common case, canonical bytes: a plain unpack, one walk that
    # finds no float, ext value, non-str or unsorted key and no deeper nesting than
    # allowed, and a re-pack that gives the same bytes (so no duplicate key collapsed
    # and every header was the shortest). Such bytes pass _decode_checked with this
    # same value; anything else goes there, which finds and names the fault.
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True, timestamp=0)
    except Exception:  # whatever it is, _decode_checked raises the typed error for it
        return _decode_checked(data)
    if _in_subset(value) and _pack(value) == data:
        return value  # type: ignore[no-any-return]
    return _decode_checked(data)


def _decode_checked(data: bytes) -> Value:
    """decode, checking each rule as it goes: the authority on which bytes are canonical."""
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            object_pairs_hook=_canonical_map,
            timestamp=0,
        )
    except MalformedEncoding:
        raise
    except msgpack.ExtraData as err:
        end = len(data) - len(err.args[1])
        raise MalformedEncoding(
            f"{end} bytes of value followed by {len(data) - end} extra bytes", where=f"byte {end}"
        ) from err
    except UnicodeDecodeError as err:
        raise MalformedEncoding(f"str is not valid UTF-8: {err.reason}") from err
    except (ValueError, TypeError, msgpack.UnpackException) as err:
        raise MalformedEncoding(f"not valid msgpack: {err}") from err
    again = _pack(_normalise(value, "$", 0))
    if again != data:
        offset = next(
            (i for i, (a, b) in enumerate(zip(again, data, strict=False)) if a != b),
            min(len(again), len(data)),
        )
        raise MalformedEncoding(
            "not the shortest msgpack encoding of its value",
            where=f"byte {offset}",
        )
    return value  # type: ignore[no-any-return]


def _pack(value: Value) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True, strict_types=False)
    return packed


_SCALARS = frozenset({str, bytes, int, bool, type(None)})


def _in_subset(value: object) -> bool:
    """Whether a plainly unpacked value is one decode accepts, up to its byte form:
    no float or ext value, map keys str and ascending (a decoded str has no lone
    surrogate, so code point order is UTF-8 byte order), at most MAX_DEPTH nested."""
    kind = type(value)
    if kind is list or kind is dict:
        return _items_in_subset(value, 1)  # type: ignore[arg-type]
    return kind in _SCALARS


def _items_in_subset(container: list[Any] | dict[Any, Any], depth: int) -> bool:
    """_in_subset for the items of a list or map nested ``depth`` deep (1: outermost)."""
    if type(container) is dict:
        previous = None
        for key in container:
            if type(key) is not str or (previous is not None and key <= previous):
                return False
            previous = key
        container = list(container.values())
    for item in container:
        kind = type(item)
        if kind is list or kind is dict:
            if depth >= MAX_DEPTH or not _items_in_subset(item, depth + 1):
                return False
        elif kind not in _SCALARS:
            return False
    return True


def _canonical_map(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    previous: bytes | None = None
    for key, item in pairs:
        if not isinstance(key, str):
            raise MalformedEncoding(f"map key {key!r} is {type(key).__name__}, not str")
        raw = key.encode("utf-8")
        if previous is not None and raw <= previous:
            what = "duplicate" if raw == previous else "out of order"
            raise MalformedEncoding(
                f"map key {key!r} is {what} (keys must be unique and sorted by UTF-8 bytes)"
            )
        previous = raw
        out[key] = item
    return out


def _normalise(value: object, path: str, depth: int) -> Value:
    """Check ``value`` is in the subset and return it with every map in canonical key order."""
    # ``depth`` counts the arrays/maps around ``value``: at most MAX_DEPTH may nest.
    if depth >= MAX_DEPTH and (type(value) in (list, tuple) or isinstance(value, dict)):
        raise MalformedEncoding(f"more than {MAX_DEPTH} nested arrays/maps", where=path)
    if isinstance(value, str):
        _check_utf8(value, path)
        return value
    if value is None or isinstance(value, bool | bytes):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise MalformedEncoding(f"int {value} is outside 64 bits", where=path)
        return value
    # Exact types: msgpack's ExtType is a namedtuple and must not pass as an array.
    if isinstance(value, list | tuple) and type(value) in (list, tuple):
        return [_normalise(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise MalformedEncoding(
                    f"map key {key!r} is {type(key).__name__}, not str", where=path
                )
            _check_utf8(key, path)
        return {
            key: _normalise(value[key], f"{path}.{key}", depth + 1)
            for key in sorted(value, key=lambda k: k.encode("utf-8"))
        }
    kind = type(value).__name__
    hint = " (times are integer microseconds UTC)" if isinstance(value, float) else ""
    raise MalformedEncoding(f"{kind} is not allowed in canonical msgpack{hint}", where=path)


def _check_utf8(text: str, path: str) -> None:
    """Reject str values with lone surrogates: they have no UTF-8 encoding."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise MalformedEncoding(
            f"str is not encodable as UTF-8: {err.reason} at index {err.start}", where=path
        ) from err
