"""A checkpoint signer that can't be made to fork (ledger.storage.signer_state): it
remembers the last checkpoint it signed outside the database and refuses
(``checkpoint.fork_refused``) any tree not proven consistent with it, on SQLite and
PostgreSQL, after the database was copied back to an earlier state, truncated, or
rebuilt with another history."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.core.checkpoint import open_checkpoint
from ledger.core.note import Ed25519NoteSigner
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.database import Backend, open_backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.signer_state import ForkRefused, MalformedSignerState, SignerMemory
from ledger.storage.store import EventStore
from tests.storage.test_storage_contract import ORIGIN, World, seed
from tests.support.databases import reset_postgres

pytestmark = pytest.mark.integration

NOW_US = 1_767_225_600_000_000
LOG_KEY = Ed25519NoteSigner(ORIGIN, seed("log"))


@dataclass
class Signing:
    backend: Backend
    world: World
    checkpoints: Checkpoints

    def append(self, stream: str, events: int, *, step: str = "Step") -> None:
        for _ in range(events):
            record = self.world.event(stream, step, "officer:1", [seed("officer")]).record
            self.world.store.append([record])

    def sign(self) -> int:
        self.checkpoints.log.integrate()
        note = self.checkpoints.sign(now_us=NOW_US)
        checkpoint, _ = open_checkpoint(
            note.serialise(), origin=ORIGIN, log_keys=[LOG_KEY.verifier]
        )
        return checkpoint.size


def opened(url: str, memory: Path) -> Signing:
    backend = open_backend(url)
    authority = seed("authority")
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={authority.key_id: authority.public_key},
        log_keys={LOG_KEY.signer.key_id: LOG_KEY.signer.public_key},
    )
    world = World(store)
    if store.head("system/keys") is None:
        world.register(seed("officer"), "officer:1", {"reception", "handler"})
    log = MerkleLog(backend)
    checkpoints = Checkpoints(
        log,
        signer=LOG_KEY,
        commits=IndexCommits(store, log),
        memory=SignerMemory(memory, LOG_KEY.verifier),
    )
    return Signing(backend, world, checkpoints)


def test_the_state_file_is_the_last_signed_checkpoint(tmp_path: Path) -> None:
    signing = opened(f"sqlite:///{tmp_path / 'a.sqlite'}", tmp_path / "signer.note")
    size = signing.sign()
    stored = signing.checkpoints.stored_note(size)
    assert (tmp_path / "signer.note").read_bytes() == stored.serialise()
    signing.append("A-1", 3)
    bigger = signing.sign()
    assert bigger > size
    assert (tmp_path / "signer.note").read_bytes() == signing.checkpoints.stored_note(
        bigger
    ).serialise()
    # a file not signed by this log key is refused, never trusted
    (tmp_path / "signer.note").write_bytes(stored.serialise().replace(b"\n\n", b"\n\n\n"))
    with pytest.raises(MalformedSignerState):
        signing.sign()
    other = Ed25519NoteSigner(ORIGIN, seed("another key"))
    text = stored.text
    (tmp_path / "signer.note").write_text(f"{text}\n{other.sign(text).line()}")
    with pytest.raises(MalformedSignerState):
        signing.sign()
    signing.backend.close()


def test_a_database_copied_back_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    memory = tmp_path / "signer.note"
    signing = opened(f"sqlite:///{path}", memory)
    signing.append("A-1", 2)
    first = signing.sign()
    backup = tmp_path / "backup.sqlite"
    with sqlite3.connect(path) as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    signing.append("A-1", 4)
    second = signing.sign()
    assert second > first
    signing.backend.close()
    # the operator (or an attacker) puts the earlier copy back
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, path)
    restored = opened(f"sqlite:///{path}", memory)
    with pytest.raises(ForkRefused) as smaller:
        restored.sign()  # even with nothing new: the tree is smaller than what was signed
    assert smaller.value.check == "checkpoint.fork_refused"
    assert (smaller.value.expected, smaller.value.found) == (second, first)
    restored.append("A-2", 9, step="Other")  # another history, larger than the signed one
    with pytest.raises(ForkRefused, match="not consistent"):
        restored.sign()
    assert memory.read_bytes().split(b"\n")[1] == str(second).encode()  # unchanged
    latest = restored.checkpoints.latest()
    assert latest is not None
    assert latest[0].size == first  # nothing new was signed into the database either
    restored.backend.close()


def test_a_rebuilt_database_must_replay_the_same_history(backend_url: str, tmp_path: Path) -> None:
    memory = tmp_path / "signer.note"
    signing = opened(backend_url, memory)
    signing.append("A-1", 3)
    signed = signing.sign()
    records = [signing.checkpoints.log.leaf_record(i) for i in range(signed)]
    signing.backend.close()

    def rebuilt() -> Signing:
        if backend_url.startswith("postgresql"):
            reset_postgres(backend_url)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(backend_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return opened(backend_url, memory)

    # truncated to nothing: refused
    empty = rebuilt()
    with pytest.raises(ForkRefused, match="smaller"):
        empty.sign()
    empty.backend.close()
    # another history of the same length: refused
    other = rebuilt()
    other.append("B-1", 4)  # as many leaves as the signed tree (its index commit included)
    with pytest.raises(ForkRefused, match="not consistent"):
        other.sign()
    other.backend.close()
    # the same history restored (every signed record, the index commit too), then more:
    # consistent, signed
    same = rebuilt()
    for record in records:
        same.world.store.append([record])
    assert same.sign() == signed
    same.world.heads.clear()
    same.append("A-1", 2)
    assert same.sign() > signed
    same.backend.close()
