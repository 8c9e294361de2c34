"""Riding out a database outage: the daemons (``hoso integrate --follow``, the projections
follower) log, back off and try again, instead of exiting.

Each round of a daemon is one or more transactions with exactly-once tracking (the
Merkle log's integration, a view's position): a round cut by an outage commits
nothing, so the next round after reconnecting starts where the last committed one
ended, and nothing is integrated or projected twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import suppress

from ledger.storage.database import Backend
from ledger.storage.errors import store_unavailable


class Backoff:
    """Waits between tries: ``first_s``, doubling up to ``max_s``, ±10 % jitter; reset on
    success. The sleep and the randomness are passed in (tests give their own)."""

    def __init__(
        self,
        *,
        first_s: float = 0.5,
        max_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.sleep = sleep
        self.jitter = jitter
        self.failures = 0

    def next_s(self) -> float:
        base: float = min(self.max_s, self.first_s * 2.0 ** min(self.failures, 30))
        return base * (1 + 0.2 * (self.jitter() - 0.5))

    def wait(self) -> float:
        """Sleep after one more failure; return the seconds slept."""
        seconds = self.next_s()
        self.failures += 1
        self.sleep(seconds)
        return seconds

    def succeeded(self) -> None:
        self.failures = 0


def ride_out(
    err: BaseException,
    backoff: Backoff,
    log: logging.Logger,
    what: str,
    backend: Backend | None = None,
) -> None:
    """Back off after ``err`` if it is an outage (logged, without the driver's text), then
    drop ``backend``'s broken pooled connections; re-raise anything else."""
    outage = store_unavailable(err)
    if outage is None:
        raise err
    seconds = backoff.next_s()
    log.warning(
        "%s: the database is unavailable (%s); try %d again in %.1f s",
        what,
        outage.detail,
        backoff.failures + 1,
        seconds,
    )
    backoff.wait()
    if backend is not None:
        with suppress(Exception):  # still down: the next round finds out
            backend.drop_broken_connections()
