"""tests/vectors/tiles.json (docs/formats.md §14), checked three ways: (a) hoso's code reads
the files back (each bundle's entries hash to the level-0 tile, the root from the tiles
alone is the vector's); (b) an independent re-derivation from the C2SP text with hashlib
only (nothing from ``ledger``) rebuilds every file and root; (c) §14 quotes the roots."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core import merkle, tiles
from tests.vectors.index_vector import build_log
from tests.vectors.tiles_vector import synthetic_entries

ROOT = Path(__file__).resolve().parents[2]
VECTORS: dict[str, Any] = json.loads((ROOT / "tests/vectors/tiles.json").read_text())


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1 over already-hashed leaves (split at the largest power of two < n)."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


def _path(n: int) -> str:
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if not n:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _independent(entries: list[bytes]) -> tuple[bytes, dict[str, bytes]]:
    leaves = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    size, files = len(entries), {}
    level = 0
    while size // 256**level:
        count = size // 256**level
        for n in range((count + 255) // 256):
            width = min(256, count - n * 256)
            span = 256**level
            body = b"".join(
                _mth(leaves[(n * 256 + i) * span : (n * 256 + i + 1) * span]) for i in range(width)
            )
            files[f"tile/{level}/{_path(n)}" + ("" if width == 256 else f".p/{width}")] = body
        level += 1
    for n in range((size + 255) // 256):
        chunk = entries[n * 256 : n * 256 + 256]
        body = b"".join(len(e).to_bytes(2, "big") + e for e in chunk)
        suffix = "" if len(chunk) == 256 else f".p/{len(chunk)}"
        files[f"tile/entries/{_path(n)}{suffix}"] = body
    return _mth(leaves), files


def test_records_vector_independently() -> None:
    vector = VECTORS["records"]
    root, files = _independent([e.record for e in build_log()])
    assert root.hex() == vector["root_hex"]
    assert {p: b.hex() for p, b in files.items()} == vector["files"]


def test_synthetic_vector_independently() -> None:
    vector = VECTORS["synthetic"]
    root, files = _independent(synthetic_entries())
    assert root.hex() == vector["root_hex"]
    assert {
        p: {"length": len(b), "sha256_hex": hashlib.sha256(b).hexdigest()} for p, b in files.items()
    } == vector["files"]


@pytest.mark.parametrize("name", ["records", "synthetic"])
def test_hoso_reads_the_vector_files(name: str) -> None:
    vector = VECTORS[name]
    size = vector["size"]
    entries = [e.record for e in build_log()] if name == "records" else synthetic_entries()
    _, files = _independent(entries)
    nodes = tiles.TileNodes(size, lambda t: files[t.path()])
    assert merkle.root_at(size=size, get_nodes=nodes).hex() == vector["root_hex"]
    for bundle in tiles.bundles_of(size):
        got = tiles.decode_bundle(files[bundle.path()], bundle)
        tiles.check_bundle(got, nodes.tile(0, bundle.index), bundle)
        assert got == entries[bundle.index * 256 : bundle.index * 256 + bundle.width]
    assert sorted(files) == sorted(
        [t.path() for t in tiles.tiles_of(size)] + [b.path() for b in tiles.bundles_of(size)]
    )


def test_formats_md_quotes_the_roots() -> None:
    text = (ROOT / "docs/formats.md").read_text()
    section = text[text.index("## 14. Tiles") :]
    for name in ("records", "synthetic"):
        assert VECTORS[name]["root_hex"] in section
