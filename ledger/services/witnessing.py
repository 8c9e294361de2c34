"""The ledger as a C2SP tlog-witness client: after a checkpoint, POST ``add-checkpoint``
to every configured witness and store the cosignatures they answer with.

For each witness (:class:`WitnessClient`): the old size is what the witness last
cosigned, as far as the ledger knows (its last stored cosignature, else 0); the body is
``old N``, the consistency proof from N to the checkpoint out of the stored tree, an
empty line, and the checkpoint as the log signed it. A 409 answer gives the witness's
size (``text/x.tlog.size``): the client resends once from there (a size past the
ledger's own means the ledger lost history, :class:`WitnessAhead`). A 200 answer's
cosignature lines by the configured key go through
:meth:`~ledger.storage.checkpoints.Checkpoints.add_cosignature`, which verifies each
and its consistency with that witness's earlier cosignature. Lines by other keys are
ignored (the spec's rule).

:class:`WitnessPool` runs one daemon thread per witness: :meth:`WitnessPool.notify`
after a checkpoint never waits, each thread sends the latest checkpoint when it can and
backs off exponentially on failure, so a slow or absent witness delays only its own
cosignature, never an append, a checkpoint, or another witness.
HTTP keep-alive is used (one connection per witness, reopened on error).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ledger.core.checkpoint import AnyCosignatureVerifier, parse_checkpoint_text
from ledger.core.errors import (
    HosoError,
    MalformedError,
    OutOfServiceError,
    StateConflict,
    VerificationError,
)
from ledger.core.note import Note, NoteSignature, parse_note
from ledger.core.witness import SIZE_CONTENT_TYPE, format_add_checkpoint, parse_size
from ledger.storage.checkpoints import Checkpoints

DEFAULT_TIMEOUT_S: Final = 10.0
BACKOFF_FIRST_S: Final = 1.0
BACKOFF_MAX_S: Final = 300.0
RESENDS: Final = 2
"""How many times one submission follows a 409 to the witness's size."""


class WitnessUnreachable(OutOfServiceError):
    """The witness did not answer (connection refused, timeout, broken response)."""

    check = "witness.unreachable"


class WitnessRefused(VerificationError):
    """The witness answered with an error status (``status`` and its first line)."""

    check = "witness.refused"

    def __init__(self, detail: str, *, where: str, status: int) -> None:
        self.status = status
        super().__init__(detail, where=where, found=status)


class WitnessAhead(StateConflict):
    """The witness holds a larger tree than this ledger: history was lost (a restore or a
    rollback) or the witness follows another log under this origin."""

    check = "witness.ahead"


class MalformedWitnessUrl(MalformedError):
    """A witness URL is not ``http(s)://host[:port][/prefix]``."""

    check = "witness.url"


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    """A witness the ledger submits to: its submission prefix and its cosignature key."""

    url: str
    key: AnyCosignatureVerifier

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise MalformedWitnessUrl(
                "a witness URL is http(s)://host[:port][/prefix]", found=self.url
            )


class WitnessClient:
    """Submits checkpoints to one witness."""

    def __init__(
        self,
        endpoint: WitnessEndpoint,
        checkpoints: Checkpoints,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.endpoint = endpoint
        self.checkpoints = checkpoints
        self.timeout_s = timeout_s
        self.known_size: int | None = None
        """The size the witness last answered with (None: ask the database)."""
        parts = urlsplit(endpoint.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path.rstrip("/") + "/add-checkpoint"
        self._conn: http.client.HTTPConnection | None = None

    @property
    def name(self) -> str:
        return self.endpoint.key.name

    def sync(self) -> int | None:
        """Submit the latest checkpoint unless the witness already cosigned it; return the
        size now cosigned (None: the ledger has no checkpoint yet)."""
        latest = self.checkpoints.latest()
        if latest is None:
            return None
        size = latest[0].size
        if self._old_size() == size and self._has_cosignature(size):
            return size
        self.submit(size)
        return size

    def submit(self, size: int) -> Note:
        """Have the witness cosign the stored checkpoint at ``size``; return the note with
        the cosignature stored."""
        note = self._as_signed(size)
        where = f"witness {self.name} at {self.endpoint.url}"
        old = self._old_size()
        for _ in range(RESENDS + 1):
            if old > size:
                raise WitnessAhead(
                    "the witness cosigned a larger tree than this ledger's checkpoint",
                    where=where,
                    expected=size,
                    found=old,
                )
            proof = (
                []
                if old in (0, size)
                else self.checkpoints.log.consistency_proof(size1=old, size2=size)
            )
            body = format_add_checkpoint(old_size=old, proof=proof, note=note)
            status, content_type, answer = self._post(body, where=where)
            if status == 409 and content_type.split(";")[0].strip() == SIZE_CONTENT_TYPE:
                old = self.known_size = parse_size(answer)
                continue
            if status != 200:
                first = answer.decode("utf-8", "replace").split("\n", 1)[0][:300]
                raise WitnessRefused(f"HTTP {status}: {first}", where=where, status=status)
            return self._store(size, note, answer, where=where)
        raise WitnessRefused(
            f"the witness's size kept changing over {RESENDS + 1} tries", where=where, status=409
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _old_size(self) -> int:
        if self.known_size is None:
            self.known_size = self.checkpoints.last_cosigned(self.name)
        return self.known_size

    def _has_cosignature(self, size: int) -> bool:
        note = self.checkpoints.note_at(size)
        key = (self.name, self.endpoint.key.key_id)
        return note is not None and any((s.name, s.key_id) == key for s in note.signatures)

    def _as_signed(self, size: int) -> Note:
        """The checkpoint with the log's signature only (the witness ignores the rest)."""
        note = self.checkpoints.stored_note(size)
        origin = parse_checkpoint_text(note.text).origin
        return Note(note.text, tuple(s for s in note.signatures if s.name == origin))

    def _store(self, size: int, note: Note, answer: bytes, *, where: str) -> Note:
        try:
            lines = parse_note(note.text.encode() + b"\n" + answer).signatures
        except HosoError as err:
            raise WitnessRefused(
                f"the 200 answer is not cosignature lines: {err}", where=where, status=200
            ) from err
        key = (self.name, self.endpoint.key.key_id)
        mine: list[NoteSignature] = [s for s in lines if (s.name, s.key_id) == key]
        if not mine:
            raise WitnessRefused(
                "the answer holds no cosignature by the configured key", where=where, status=200
            )
        stored = note
        for signature in mine:
            stored = self.checkpoints.add_cosignature(size=size, signature=signature)
        self.known_size = size
        return stored

    def _post(self, body: bytes, *, where: str) -> tuple[int, str, bytes]:
        """POST over the kept-alive connection (reopened once if it went stale)."""
        for attempt in range(2):
            conn = self._conn or self._connect()
            try:
                conn.request("POST", self._path, body=body)
                response = conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError) as err:
                self.close()
                if attempt:
                    raise WitnessUnreachable(f"no answer: {err}", where=where) from err
                continue
            if response.will_close:
                self.close()
            return response.status, response.getheader("Content-Type", ""), data
        raise WitnessUnreachable("no answer", where=where)  # pragma: no cover (loop returns)

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        self._conn = cls(self._host, self._port, timeout=self.timeout_s)
        return self._conn


@dataclass(frozen=True, slots=True)
class Outcome:
    """One witness's result: the size it cosigned, or the error."""

    witness: str
    size: int | None = None
    error: HosoError | None = None


Report = Callable[[Outcome], None]


def witness_once(clients: Sequence[WitnessClient]) -> list[Outcome]:
    """Bring every witness up to the latest checkpoint, one after the other."""
    outcomes = []
    for client in clients:
        try:
            outcomes.append(Outcome(client.name, size=client.sync()))
        except HosoError as err:
            outcomes.append(Outcome(client.name, error=err))
    return outcomes


class WitnessPool:
    """One thread per witness, each bringing its witness up to the latest checkpoint."""

    def __init__(
        self,
        clients: Sequence[WitnessClient],
        *,
        report: Report = lambda outcome: None,
        backoff_first_s: float = BACKOFF_FIRST_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self.clients = list(clients)
        self.report = report
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self._wake = [threading.Event() for _ in self.clients]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"witness {c.name}", daemon=True)
            for i, c in enumerate(self.clients)
        ]

    def start(self) -> WitnessPool:
        for thread in self._threads:
            thread.start()
        return self

    def notify(self) -> None:
        """A new checkpoint exists: wake every witness's thread (never blocks)."""
        for wake in self._wake:
            wake.set()

    def stop(self, *, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self.notify()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        for client in self.clients:
            client.close()

    def _run(self, i: int) -> None:
        client, wake = self.clients[i], self._wake[i]
        delay = 0.0
        while not self._stop.is_set():
            if delay:
                self._stop.wait(delay)  # back off (a new checkpoint does not cut it short)
            else:
                wake.wait()
            if self._stop.is_set():
                return
            wake.clear()
            try:
                outcome = Outcome(client.name, size=client.sync())
                delay = 0.0
            except HosoError as err:
                outcome = Outcome(client.name, error=err)
                delay = min(self.backoff_max_s, max(self.backoff_first_s, delay * 2))
                wake.set()  # try again after the back-off
            except Exception as err:  # a thread must not die silently (a database error)
                outcome = Outcome(client.name, error=WitnessUnreachable(repr(err)))
                delay = min(self.backoff_max_s, max(self.backoff_first_s, delay * 2))
                wake.set()
            self.report(outcome)
