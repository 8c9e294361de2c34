"""Base45 (RFC 9285): bytes as QR alphanumeric-mode characters.

Each two bytes ``a, b`` become ``n = a * 256 + b`` written as three characters
``c d e`` with ``n = c + d * 45 + e * 45**2``; a final single byte becomes two
characters ``c d``. The alphabet is the 45 characters of the QR code's
alphanumeric mode. Decoding is strict: a character outside the alphabet, a
length of 1 modulo 3, or a group whose value overflows (over 65535 for three
characters, over 255 for two) is :class:`MalformedBase45`.
"""

from __future__ import annotations

from typing import Final

from ledger.core.errors import MalformedError

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE: Final = {ch: i for i, ch in enumerate(ALPHABET)}


class MalformedBase45(MalformedError):
    """Text that is not RFC 9285 Base45."""

    check = "base45.syntax"


def b45encode(data: bytes) -> str:
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, rest = divmod(n, 45 * 45)
        d, c = divmod(rest, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise MalformedBase45(f"Base45 length {len(text)} is 1 modulo 3")
    values: list[int] = []
    for i, ch in enumerate(text):
        value = _VALUE.get(ch)
        if value is None:
            raise MalformedBase45(f"{ch!r} is not a Base45 character", where=f"char {i}")
        values.append(value)
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 0xFFFF:
                raise MalformedBase45(f"group value {n} is over 65535", where=f"char {i}")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise MalformedBase45(f"final group value {n} is over 255", where=f"char {i}")
            out.append(n)
    return bytes(out)
