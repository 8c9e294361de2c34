"""A log in memory for witness tests: leaves, a log key, signed checkpoints and the
add-checkpoint bodies a log would send (written with the core's note code; the witness
side under test reads them)."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ledger.core.checkpoint import Checkpoint, Cosigner, sign_checkpoint
from ledger.core.hashing import Hash, leaf_hash
from ledger.core.note import Ed25519NoteSigner, Note
from ledger.core.signing import Signer
from tests.support.memory_tree import MemoryTree

ORIGIN = "log.test/toy"


def signer(name: str) -> Signer:
    return Signer(hashlib.sha256(name.encode()).digest())


def cosigner(name: str = "witness.test/w1") -> Cosigner:
    return Cosigner(name, signer(name))


class ToyLog:
    def __init__(self, origin: str = ORIGIN, *, key: str = "log key") -> None:
        self.key = Ed25519NoteSigner(origin, signer(key))
        self.tree = MemoryTree()

    @property
    def origin(self) -> str:
        return self.key.name

    def grow(self, size: int) -> None:
        while self.tree.size < size:
            self.tree.append(leaf_hash(f"leaf {self.tree.size}".encode()))

    def checkpoint(self, size: int) -> Checkpoint:
        self.grow(size)
        return Checkpoint(origin=self.origin, size=size, root=self.tree.root(size))

    def note(self, size: int) -> Note:
        return sign_checkpoint(self.checkpoint(size), self.key)

    def proof(self, old: int, size: int) -> list[Hash]:
        if old in (0, size):
            return []
        return self.tree.consistency_proof(size1=old, size2=size)

    def body(self, old: int, size: int, *, note: Note | None = None) -> bytes:
        note = self.note(size) if note is None else note
        lines = [f"old {old}\n", *(b64(h) + "\n" for h in self.proof(old, size))]
        return "".join(lines).encode() + b"\n" + note.serialise()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
