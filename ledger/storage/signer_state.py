"""The checkpoint signer's memory: the last checkpoint the log key signed, in a file
outside the ledger's database (docs/formats.md §Checkpoint signer state).

The file holds exactly that signed note (C2SP tlog-checkpoint, with the log's
signature), so it needs no format of its own and proves itself: it is read back only
if the log key's signature on it verifies and its origin is the log's. It is written
durably (:func:`ledger.storage.durable.write_durably`) *before* the new checkpoint is
stored or shown to anyone, under the file's lock, so a checkpoint the world may have
seen is always remembered, and a restored, rolled-back or rewritten database cannot
make the signer forget it (:class:`ForkRefused`, from
:meth:`ledger.storage.checkpoints.Checkpoints.sign`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.core.checkpoint import Checkpoint, open_checkpoint
from ledger.core.errors import HosoError, MalformedError, StateConflict
from ledger.core.note import Ed25519Verifier, Note
from ledger.storage.durable import locked, write_durably


class MalformedSignerState(MalformedError):
    """The signer state file is not a checkpoint signed by this log's key."""

    check = "checkpoint.signer_state"


class ForkRefused(StateConflict):
    """The tree to sign is not proven consistent with the last checkpoint the log key
    signed (the database was rolled back, truncated or rewritten)."""

    check = "checkpoint.fork_refused"


class SignerMemory:
    def __init__(self, path: Path, key: Ed25519Verifier) -> None:
        self.path = path
        self.key = key

    @contextmanager
    def step(self) -> Iterator[None]:
        """Hold the file's lock over one read-check-sign-write step."""
        with locked(self.path):
            yield

    def last(self) -> Checkpoint | None:
        """The last checkpoint signed (None before the first)."""
        if not self.path.exists():
            return None
        data = self.path.read_bytes()
        try:
            checkpoint, _ = open_checkpoint(data, origin=self.key.name, log_keys=[self.key])
        except HosoError as err:
            raise MalformedSignerState(
                f"not a checkpoint signed by this log key: {err}", where=str(self.path)
            ) from err
        return checkpoint

    def remember(self, note: Note) -> None:
        write_durably(self.path, note.serialise())
