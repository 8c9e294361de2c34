"""Answers kept in the worker: immutable ones by key (LRU), and HTTP caching headers.

What never changes once it exists — an inclusion proof for (index, size), a
consistency proof for (from, to) — is kept as its response bytes and marked
``Cache-Control: immutable`` with a strong ``ETag``; ``If-None-Match`` answers 304.
What may move (the latest signed size a default proof is cut at) is re-read at most
every ``fresh_s`` seconds (docs/api.md §Caching).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from fastapi import Request, Response

T = TypeVar("T")
IMMUTABLE = "public, max-age=31536000, immutable"


class Lru(Generic[T]):
    """A bounded, thread-safe map; the least recently used entry goes first."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


class Fresh(Generic[T]):
    """A value read again once it is older than ``fresh_s`` seconds (0: every time)."""

    def __init__(
        self, read: Callable[[], T], *, fresh_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.read = read
        self.fresh_s = fresh_s
        self.clock = clock
        self._value: tuple[float, T] | None = None

    def peek(self) -> tuple[bool, T | None]:
        """(True, value) while fresh; (False, None) when it must be read (blocking)."""
        held = self._value
        if held is not None and self.clock() - held[0] < self.fresh_s:
            return True, held[1]
        return False, None

    def get(self) -> T:
        fresh, value = self.peek()
        if fresh:
            return value  # type: ignore[return-value]
        now = self.clock()
        value = self.read()
        self._value = (now, value)
        return value


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cached(request: Request, body: bytes, *, media_type: str, cache_control: str) -> Response:
    """``body`` with its ETag and ``cache_control``; 304 when the client holds it already."""
    tag = etag(body)
    headers = {"ETag": tag, "Cache-Control": cache_control}
    held = request.headers.get("if-none-match")
    if held is not None and tag in {t.strip() for t in held.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
