"""The C2SP tlog-tiles read side: which tile a path names, its bytes, and a static export.

Tiles and entry bundles are read from the stored perfect nodes and records (one
indexed query each, nothing recomputed); only what lies inside the latest signed
checkpoint is served, so every answer is immutable. ``export`` writes the same files
under a directory any web server or object store can serve as a mirror
(docs/operations.md §Mirrors, docs/formats.md §14).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ledger.core import tiles
from ledger.core.errors import NotFoundError
from ledger.storage.checkpoints import Checkpoints, CheckpointUnknown
from ledger.storage.merkle_log import MerkleLog, bundle_bytes, tile_bytes


class TileUnknown(NotFoundError):
    """The tile or entry bundle a path names is not (yet) in the latest signed tree."""

    check = "tiles.unknown"


def resolve(path: str, size: int) -> tiles.Tile | tiles.Bundle:
    """The tile or bundle ``path`` names, if a tree of ``size`` holds all of it."""
    wanted = tiles.parse_tile_path(path)
    there: tiles.Tile | tiles.Bundle | None
    if isinstance(wanted, tiles.Bundle):
        there = tiles.bundle_for(wanted.index, size)
    else:
        there = tiles.tile_for(wanted.level, wanted.index, size)
    if there is None or there.width < wanted.width:
        raise TileUnknown(
            "not in the latest signed tree",
            where=path[:80],
            expected=f"within size {size}",
            found=wanted.width if there is None else there.width,
        )
    return wanted


def read(log: MerkleLog, wanted: tiles.Tile | tiles.Bundle) -> bytes:
    if isinstance(wanted, tiles.Bundle):
        return bundle_bytes(log, wanted)
    return tile_bytes(log, wanted)


def signed_size(checkpoints: Checkpoints) -> int:
    latest = checkpoints.latest()
    if latest is None:
        raise CheckpointUnknown("the ledger has signed no checkpoint yet")
    return latest[0].size


@dataclass
class ExportReport:
    size: int
    written: int = 0
    kept: int = 0  # already there with the right length (immutable)
    bytes: int = 0


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _wanted(sizes: list[int], latest: int, *, entries: bool) -> Iterator[tiles.Tile | tiles.Bundle]:
    """Every full tile (and bundle) of the latest tree, and each signed size's partial ones."""
    seen: set[tiles.Tile | tiles.Bundle] = set()

    def of(size: int) -> list[tiles.Tile | tiles.Bundle]:
        return [*tiles.tiles_of(size), *(tiles.bundles_of(size) if entries else ())]

    for item in of(latest):
        seen.add(item)
        yield item
    for size in sizes:
        items = of(size)
        for item in items:
            if not item.full and item not in seen:
                seen.add(item)
                yield item


def export(
    log: MerkleLog, checkpoints: Checkpoints, directory: Path, *, entries: bool = True
) -> ExportReport:
    """Write the tiles, bundles (unless ``entries`` is false: a public mirror) and
    ``checkpoint`` of the latest signed tree under ``directory``; files already there
    with their length are kept (they are immutable), the checkpoint is written last so
    a mirror never names a tile it lacks."""
    latest = checkpoints.latest()
    if latest is None:
        raise CheckpointUnknown("the ledger has signed no checkpoint yet")
    checkpoint, _ = latest
    note = checkpoints.stored_note(checkpoint.size)
    rows = checkpoints.sql.rows("SELECT size FROM hoso_checkpoints ORDER BY size")
    sizes = [int(r["size"]) for r in rows if 0 < int(r["size"]) <= checkpoint.size]
    report = ExportReport(checkpoint.size)
    for item in _wanted(sizes, checkpoint.size, entries=entries):
        path = directory / item.path()
        if path.is_file() and (
            isinstance(item, tiles.Bundle) or path.stat().st_size == item.width * 32
        ):
            report.kept += 1
            continue
        data = read(log, item)
        _write(path, data)
        report.written += 1
        report.bytes += len(data)
    _write(directory / "checkpoint", note.serialise())
    return report
