"""Small state files written durably, and held by one process at a time.

:func:`write_durably` writes a temporary file in the same directory, fsyncs it, renames
it over the target (:func:`os.replace`, atomic on POSIX) and fsyncs the directory, so
after it returns the new bytes survive a crash, and before it returns the old ones are
still there whole. :func:`hold_lock` takes an exclusive ``flock`` on ``<path>.lock`` for
as long as the caller keeps it (a server), :func:`locked` waits for it over one
read-check-write step (a signer), so two processes never interleave on one state file.

The witness's state (:mod:`ledger.witness.state`) and the checkpoint signer's memory
(:mod:`ledger.storage.signer_state`) use both.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ledger.core.errors import OutOfServiceError


class StateFileLocked(OutOfServiceError):
    """Another process holds the state file's lock."""

    check = "state_file.locked"


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path``'s contents with ``data`` atomically and durably (mode 0o600)."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def hold_lock(path: Path) -> IO[bytes]:
    """Take the exclusive lock of ``path`` (``<path>.lock``); close the handle to release it.

    Raises StateFileLocked at once if another process holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = (path.parent / f"{path.name}.lock").open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StateFileLocked("another process holds this state file", where=str(path)) from None
    return handle


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (``<path>.lock``) for one step, waiting for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f"{path.name}.lock").open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
