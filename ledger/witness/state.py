"""The witness's memory: per log origin, the size and root it last cosigned and that
checkpoint (the log's verified signatures and the witness's own), in one JSON file
(docs/formats.md §Witness state).

The file is held by one process (an exclusive lock on ``<file>.lock`` from open to
close) and rewritten whole by :func:`ledger.storage.durable.write_durably` before the
new state is used, so a witness answers only after its state is on disk, and a failed
write leaves both the file and the state in memory as they were.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ledger.core.errors import HosoError, MalformedError
from ledger.core.hashing import Hash
from ledger.core.note import check_key_name, parse_note
from ledger.core.witness import TreeHead, checkpoint_of
from ledger.storage.durable import hold_lock, write_durably

FORMAT: Final = "hoso-witness-state/v1"


class MalformedWitnessState(MalformedError):
    """The witness state file is not a hoso-witness-state/v1 document."""

    check = "witness.state_file"


@dataclass(frozen=True, slots=True)
class Witnessed:
    """What the witness last cosigned for one log."""

    head: TreeHead
    note: bytes
    """The checkpoint note with the log signatures it verified and its cosignature(s)."""


class WitnessState:
    """The state file, opened and locked for this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = hold_lock(path)
        try:
            self._logs = decode_state(path.read_bytes()) if path.exists() else {}
        except BaseException:
            self._lock.close()
            raise

    def get(self, origin: str) -> Witnessed | None:
        return self._logs.get(origin)

    def origins(self) -> list[str]:
        return sorted(self._logs)

    def record(self, origin: str, witnessed: Witnessed) -> None:
        """Write the state with ``origin`` at ``witnessed``, durably; then use it."""
        logs = {**self._logs, origin: witnessed}
        write_durably(self.path, encode_state(logs))
        self._logs = logs

    def close(self) -> None:
        self._lock.close()


def encode_state(logs: Mapping[str, Witnessed]) -> bytes:
    doc = {
        "format": FORMAT,
        "logs": {
            origin: {
                "size": w.head.size,
                "root": base64.b64encode(w.head.root).decode("ascii"),
                "checkpoint": w.note.decode("utf-8"),
            }
            for origin, w in sorted(logs.items())
        },
    }
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def decode_state(data: bytes) -> dict[str, Witnessed]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MalformedWitnessState(f"not UTF-8 JSON: {err}") from err
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or not isinstance(doc.get("logs"), dict)
    ):
        raise MalformedWitnessState(f"not a {FORMAT} document")
    return {origin: _entry(origin, entry) for origin, entry in doc["logs"].items()}


def _entry(origin: str, entry: Any) -> Witnessed:
    where = f"log {origin!r}"
    try:
        check_key_name(origin)
        size, root, note = entry["size"], entry["root"], entry["checkpoint"].encode()
        if type(size) is not int:
            raise MalformedWitnessState("size is not an integer", where=where)
        head = TreeHead(size=size, root=Hash(base64.b64decode(root, validate=True)))
        checkpoint = checkpoint_of(parse_note(note).text)
    except (KeyError, TypeError, AttributeError, binascii.Error) as err:
        raise MalformedWitnessState(
            f"entry lacks size, root or checkpoint: {err}", where=where
        ) from err
    except HosoError as err:
        if isinstance(err, MalformedWitnessState):
            raise
        raise MalformedWitnessState(err.detail, where=where) from err
    if (checkpoint.origin, checkpoint.size, checkpoint.root) != (origin, head.size, head.root):
        raise MalformedWitnessState("the checkpoint is not the recorded tree head", where=where)
    return Witnessed(head, note)
