"""C2SP tlog-tiles, pure: paths (the spec's and transparency-dev/tessera's examples), which
tiles a tree has (the spec's 70,000 example), tiles built from the spec's MTH formula,
and roots and proofs recomputed from tiles alone equal the reference tree's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core import merkle, tiles
from ledger.core.hashing import Hash, leaf_hash
from tests.support.memory_tree import MemoryTree


def entries(size: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(size)]


def spec_tile(leaves: list[Hash], tile: tiles.Tile) -> bytes:
    """The tile as c2sp.org/tlog-tiles defines it: MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l])."""
    span = 256**tile.level
    out = b""
    for i in range(tile.width):
        first = (tile.index * 256 + i) * span
        out += merkle.root_from_leaves(leaves[first : first + span])
    return out


def spec_files(size: int) -> dict[str, bytes]:
    data = entries(size)
    leaves = [leaf_hash(e) for e in data]
    files = {t.path(): spec_tile(leaves, t) for t in tiles.tiles_of(size)}
    for b in tiles.bundles_of(size):
        files[b.path()] = tiles.encode_bundle(data[b.index * 256 : b.index * 256 + b.width])
    return files


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "000"), (67, "067"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_paths(n: int, text: str) -> None:
    assert tiles.encode_index(n) == text
    assert tiles.parse_tile_path(f"tile/3/{text}") == tiles.Tile(3, n)


def test_tessera_layout_examples() -> None:
    """transparency-dev/tessera api/layout's examples (TilePath, EntriesPath, Parse…)."""
    size = 315921160
    assert tiles.tile_for(0, 1234067, size) == tiles.Tile(0, 1234067, 8)
    assert tiles.Tile(0, 1234067, 8).path() == "tile/0/x001/x234/067.p/8"
    assert tiles.bundle_for(1234067, size) == tiles.Bundle(1234067, 8)
    assert tiles.Bundle(1234067, 8).path() == "tile/entries/x001/x234/067.p/8"
    assert tiles.parse_tile_path("tile/0/x001/x234/067.p/8") == tiles.Tile(0, 1234067, 8)
    assert tiles.bundle_for(0, 256).path() == "tile/entries/000"  # type: ignore[union-attr]
    assert tiles.bundle_for(1, 257).path() == "tile/entries/001.p/1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad",
    [
        "tile/64/000",  # level above 63
        "tile/01/000",  # a leading zero in L
        "tile/0/00",  # not three digits
        "tile/0/1/000",  # an element without x
        "tile/0/x000/001",  # a leading x000
        "tile/0/000.p/0",  # width 0
        "tile/0/000.p/256",  # width 256 is a full tile
        "tile/0/000.p/007",  # a leading zero in W
        "tile/0/000/",
        "tile/entries/000.p/",
        "tiles/0/000",
    ],
)
def test_paths_the_spec_does_not_allow(bad: str) -> None:
    with pytest.raises(tiles.MalformedTile):
        tiles.parse_tile_path(bad)


def test_the_specs_70000_example() -> None:
    """273 full level-0 tiles, a partial of 112, a full level-1 tile, a partial of 17 and
    a partial level-2 tile of width 1; a tree of 256 has a full tile and a level-1 partial."""
    found = list(tiles.tiles_of(70_000))
    level0 = [t for t in found if t.level == 0]
    assert sum(t.full for t in level0) == 273
    assert [t.width for t in level0 if not t.full] == [112]
    assert [(t.index, t.width) for t in found if t.level == 1] == [(0, 256), (1, 17)]
    assert [(t.index, t.width) for t in found if t.level == 2] == [(0, 1)]
    assert len(found) == 273 + 1 + 2 + 1
    assert list(tiles.tiles_of(256)) == [tiles.Tile(0, 0), tiles.Tile(1, 0, 1)]
    assert list(tiles.tiles_of(0)) == []


def test_incremental_listing_names_only_what_changed() -> None:
    new = set(tiles.tiles_of(70_000, full_from=69_000))
    assert tiles.Tile(0, 0) not in new
    assert tiles.Tile(0, 273, 112) in new
    assert tiles.Tile(0, 272) in new
    assert new <= set(tiles.tiles_of(70_000))


def test_bundle_round_trip_and_refusals() -> None:
    data = [b"", b"a", bytes(65535)]
    bundle = tiles.Bundle(0, 3)
    encoded = tiles.encode_bundle(data)
    assert encoded[:5] == b"\x00\x00\x00\x01a"
    assert tiles.decode_bundle(encoded, bundle) == data
    with pytest.raises(tiles.MalformedTile):
        tiles.encode_bundle([bytes(65536)])
    with pytest.raises(tiles.MalformedTile):
        tiles.decode_bundle(encoded[:-1], bundle)
    with pytest.raises(tiles.MalformedTile):
        tiles.decode_bundle(encoded, tiles.Bundle(0, 4))
    with pytest.raises(tiles.MalformedTile):
        tiles.decode_tile(bytes(31), tiles.Tile(0, 0, 1))


@given(size=st.integers(1, 70_000), data=st.data())
def test_proofs_from_tiles_alone_equal_the_reference(size: int, data: st.DataObject) -> None:
    """Roots and proofs recomputed from tiles built by the spec's formula (not from hoso's
    node store) equal those of the reference tree."""
    tree = MemoryTree(leaf_hash(e) for e in entries(size))
    leaves = [leaf_hash(e) for e in entries(size)]
    fetched: list[str] = []

    def fetch(tile: tiles.Tile) -> bytes:
        fetched.append(tile.path())
        return spec_tile(leaves, tile)

    nodes = tiles.TileNodes(size, fetch)
    assert merkle.root_at(size=size, get_nodes=nodes) == tree.root(size)
    index = data.draw(st.integers(0, size - 1))
    assert merkle.inclusion_proof(index=index, size=size, get_nodes=nodes) == tree.inclusion_proof(
        index=index, size=size
    )
    old = data.draw(st.integers(1, size))
    assert merkle.consistency_proof(
        size1=old, size2=size, get_nodes=nodes
    ) == tree.consistency_proof(size1=old, size2=size)
    assert len(fetched) == len(set(fetched))  # each tile read once
    tiles.check_tile_links(nodes)


def test_a_tampered_tile_is_caught() -> None:
    size = 256 * 3 + 5
    files = spec_files(size)
    bad = bytearray(files["tile/0/001"])
    bad[0] ^= 1
    files["tile/0/001"] = bytes(bad)
    nodes = tiles.TileNodes(size, lambda t: files[t.path()])
    nodes.tile(1, 0)
    nodes.tile(0, 1)
    with pytest.raises(tiles.TileMismatch):
        tiles.check_tile_links(nodes)
    entries_0 = tiles.decode_bundle(files["tile/entries/000"], tiles.Bundle(0))
    entries_0[3] = b"forged"
    level0 = tiles.decode_tile(files["tile/0/000"], tiles.Tile(0, 0))
    with pytest.raises(tiles.TileMismatch) as caught:
        tiles.check_bundle(entries_0, level0, tiles.Bundle(0))
    assert caught.value.where == "leaf 3"
