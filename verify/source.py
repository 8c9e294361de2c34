"""What the verifier reads: raw stored bytes, through a small protocol.

A :class:`Source` hands out the log's records in log order (each with what the
store's own columns and index claim about it, so those can be cross-checked),
every stored signed checkpoint note, and each dossier's records in stream
order. The database adapter at the edge (``ledger.services.verify_source``) reads them
with plain SELECTs; :class:`MemorySource` holds them in lists (tests, bundles).
Nothing the source says is trusted: every value is re-derived from the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


class LogEntry(NamedTuple):
    """One stored record in log order, and what storage claims about it."""

    record: bytes
    stream: str | None = None  # the row's stream column
    n: int | None = None  # the row's position column
    claimed_hash: bytes | None = None  # the event hash the store's leaf index holds
    leaf: int | None = None  # the record's leaf index, where it is not its place in the sequence


class Source(Protocol):
    def log(self) -> Iterable[LogEntry]:
        """Every record, in log (leaf) order."""
        ...

    def log_size(self) -> int | None:
        """How many records ``log()`` will yield, if cheaply known (for progress)."""
        ...

    def checkpoints(self) -> Iterable[bytes]:
        """Every stored signed checkpoint note, with its witness cosignature lines."""
        ...

    def dossiers(self) -> Iterable[tuple[str, Sequence[bytes]]]:
        """Each dossier stream (every stream outside ``system/``) with its records in n order."""
        ...

    def stream(self, name: str) -> Iterable[bytes]:
        """One stream's records in n order (``system/access``, ``system/privacy``)."""
        ...


@dataclass
class MemorySource:
    """A source over lists held in memory."""

    entries: list[LogEntry]
    notes: list[bytes] = field(default_factory=list)

    def log(self) -> Iterator[LogEntry]:
        return iter(self.entries)

    def log_size(self) -> int | None:
        return len(self.entries)

    def checkpoints(self) -> Iterator[bytes]:
        return iter(self.notes)

    def stream(self, name: str) -> Iterator[bytes]:
        from ledger.core.errors import MalformedError  # noqa: PLC0415
        from ledger.core.event import parse_record  # noqa: PLC0415

        found: list[tuple[int, bytes]] = []
        for entry in self.entries:
            try:
                body = parse_record(entry.record).body
            except MalformedError:
                continue
            if body.stream == name:
                found.append((body.n, entry.record))
        return iter([record for _, record in sorted(found)])

    def dossiers(self) -> Iterator[tuple[str, Sequence[bytes]]]:
        from ledger.core.errors import MalformedError  # noqa: PLC0415
        from ledger.core.event import parse_record  # noqa: PLC0415 (only this method needs it)

        streams: dict[str, list[tuple[int, bytes]]] = {}
        for entry in self.entries:
            try:
                body = parse_record(entry.record).body
            except MalformedError:
                continue
            if not body.stream.startswith("system/"):
                streams.setdefault(body.stream, []).append((body.n, entry.record))
        for stream in sorted(streams):
            yield stream, [record for _, record in sorted(streams[stream])]
