"""The tlog-tiles vector (tests/vectors/tiles.json; docs/formats.md §14).

Two trees: (a) the ten signed records of the stream-index vector (index_vector.build_log),
whose one partial tile and one partial entry bundle are given in full; (b) 600 synthetic
entries (``hoso tiles vector entry <i>``), whose every tile and bundle is given by path,
length and SHA-256, with the tree's root.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.core import merkle, tiles
from ledger.core.hashing import leaf_hash
from tests.vectors.index_vector import build_log

SYNTHETIC = 600


def _files(entries: list[bytes]) -> dict[str, bytes]:
    size = len(entries)
    leaves = [leaf_hash(e) for e in entries]
    files: dict[str, bytes] = {}
    for tile in tiles.tiles_of(size):
        span = 256**tile.level
        hashes = []
        for i in range(tile.width):
            first = (tile.index * 256 + i) * span
            hashes.append(merkle.root_from_leaves(leaves[first : first + span]))
        files[tile.path()] = tiles.encode_tile(hashes)
    for bundle in tiles.bundles_of(size):
        first = bundle.index * 256
        files[bundle.path()] = tiles.encode_bundle(entries[first : first + bundle.width])
    return files


def synthetic_entries() -> list[bytes]:
    return [f"hoso tiles vector entry {i}".encode() for i in range(SYNTHETIC)]


def tiles_vectors() -> dict[str, Any]:
    records = [e.record for e in build_log()]
    small = _files(records)
    big_entries = synthetic_entries()
    big = _files(big_entries)
    return {
        "records": {
            "size": len(records),
            "root_hex": merkle.root_from_leaves([leaf_hash(r) for r in records]).hex(),
            "files": {path: data.hex() for path, data in small.items()},
        },
        "synthetic": {
            "entry": "hoso tiles vector entry <i>, UTF-8, i = 0..599",
            "size": SYNTHETIC,
            "root_hex": merkle.root_from_leaves([leaf_hash(e) for e in big_entries]).hex(),
            "files": {
                path: {"length": len(data), "sha256_hex": hashlib.sha256(data).hexdigest()}
                for path, data in big.items()
            },
        },
    }
