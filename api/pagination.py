"""Opaque keyset cursors: a page's ``next`` (a tuple of ints and strings) as base64url JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from projections.queries import MalformedQuery


def encode_cursor(key: tuple[Any, ...] | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps([v.hex() if isinstance(v, bytes) else v for v in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, length: int) -> tuple[Any, ...] | None:
    """The key a cursor holds; ``query.parameter`` (400) if it is not one of ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise MalformedQuery("after is not a cursor from a previous page", where="after") from None
    ok = (
        isinstance(value, list)
        and len(value) == length
        and all(
            (isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63)
            or (isinstance(v, str) and len(v) <= 300)
            for v in value
        )
    )
    if not ok:
        raise MalformedQuery("after is not a cursor from a previous page", where="after")
    return tuple(value)
