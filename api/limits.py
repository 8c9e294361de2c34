"""Request limits as plain ASGI middleware, each answering problem+json:

* the body's size (413 ``request.too_large``) and the time it may take to arrive, each
  chunk within ``body_timeout_s`` (408 ``request.timeout``: a slow client holds no
  worker for long);
* the requests in flight in one worker (429 ``server.busy`` with Retry-After above
  ``max_in_flight``: the server stays responsive instead of queueing without bound);
* per-client-IP token-bucket rate limiting of public requests (429 ``rate.limited``
  with Retry-After).

"Public" means a request without an ``Authorization`` header: proofs, checkpoints and
anything else anyone may ask. Authenticated principals are accountable by token and not
limited here. The buckets live in the process (each uvicorn worker has its own).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from api.problems import PROBLEM_JSON, TYPE_BASE

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
App = Callable[[Scope, Receive, Send], Any]


async def _send_problem(
    send: Send,
    status: int,
    check: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + check,
            "title": check,
            "status": status,
            "detail": detail,
            "check": check,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


class BodyLimit:
    def __init__(self, app: App, *, max_bytes: int, body_timeout_s: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            try:
                message: Message = await asyncio.wait_for(receive(), self.body_timeout_s)
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(send)
        except _TooSlow:
            if not started:
                await _send_problem(
                    send,
                    408,
                    "request.timeout",
                    f"the request body did not arrive within {self.body_timeout_s} s",
                    [(b"connection", b"close")],
                )

    async def _refuse(self, send: Send) -> None:
        await _send_problem(
            send, 413, "request.too_large", f"request bodies are limited to {self.max_bytes} bytes"
        )


class TokenBuckets:
    """``rate`` requests per second per key, bursts up to ``burst``; LRU-bounded."""

    def __init__(
        self, *, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 if a request may go now, else the seconds to wait for the next token."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            self._buckets.move_to_end(key)
            while len(self._buckets) > 100_000:
                self._buckets.popitem(last=False)
        return wait


class InFlightLimit:
    """At most ``max_in_flight`` requests at once in this worker; 429 ``server.busy`` above."""

    def __init__(self, app: App, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await _send_problem(
                send,
                429,
                "server.busy",
                f"this worker is answering {self.in_flight} requests; retry shortly",
                [(b"retry-after", b"1")],
            )
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class PublicRateLimit:
    def __init__(self, app: App, *, buckets: TokenBuckets | None) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or _authorised(scope):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("unknown", 0)
        wait = self.buckets.take(str(client[0]))
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            await _send_problem(
                send,
                429,
                "rate.limited",
                "too many requests without a token from this address; retry later",
                [(b"retry-after", retry.encode())],
            )
            return
        await self.app(scope, receive, send)


def _authorised(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))
