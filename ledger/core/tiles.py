"""The C2SP tlog-tiles layout of the Merkle log (c2sp.org/tlog-tiles), pure.

A hash tile ``(L, N, W)`` holds the W hashes ``MTH(D[(N·256+i)·256^L : (N·256+i+1)·256^L])``
for i < W: the stored perfect nodes at tree level ``8·L``, indices ``N·256 … N·256+W-1``.
A full tile has W = 256; the rightmost tiles of a tree of size s are partial, with
``floor(s / 256^L) mod 256`` hashes. An entry bundle ``N`` holds the leaves
``N·256 …`` (the signed records), each prefixed by its length as a big-endian uint16.

The other way round, :class:`TileNodes` answers any perfect node of a tree of a given
size from tiles alone (a level-8L node is read, a node between two tile levels is
hashed up from the tile below), so :func:`ledger.core.merkle.root_at`,
``inclusion_proof`` and ``consistency_proof`` run unchanged over a mirror's files.
Path grammar and sizes: docs/formats.md §14.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from ledger.core import merkle
from ledger.core.errors import MalformedError, MalformedProof, VerificationError
from ledger.core.hashing import HASH_SIZE, Hash, leaf_hash, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, 8,192 bytes
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF  # an entry bundle's uint16 length prefix


class MalformedTile(MalformedError):
    """A tile path, tile or entry bundle that the C2SP tlog-tiles text does not allow."""

    check = "tiles.malformed"


class TileMismatch(VerificationError):
    """A tile or entry bundle that does not hash to what the tree (or the tile above) says."""

    check = "tiles.mismatch"


class Tile(NamedTuple):
    """Hash tile ``level`` (0‥63) number ``index`` of ``width`` hashes (1‥256)."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, on purpose
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` (no leading slash)."""
        return f"tile/{self.level}/{encode_index(self.index)}{_partial(self.width)}"

    def nodes(self) -> list[merkle.NodeID]:
        """The stored perfect nodes this tile holds, left to right."""
        first = self.index * TILE_WIDTH
        return [merkle.NodeID(TILE_HEIGHT * self.level, first + i) for i in range(self.width)]


class Bundle(NamedTuple):
    """Entry bundle number ``index`` of ``width`` entries."""

    index: int  # type: ignore[assignment]
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    def path(self) -> str:
        return f"tile/entries/{encode_index(self.index)}{_partial(self.width)}"

    def leaves(self) -> range:
        first = self.index * TILE_WIDTH
        return range(first, first + self.width)


def _partial(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


# --- paths -------------------------------------------------------------------


def encode_index(n: int) -> str:
    """``N`` in zero-padded 3-digit path elements, all but the last with an ``x``."""
    if n < 0:
        raise MalformedTile(f"negative tile index {n}")
    text = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        text = f"x{n % 1000:03d}/{text}"
    return text


_INDEX = r"(?P<n>(?:x\d{3}/)*\d{3})"
_WIDTH = r"(?:\.p/(?P<w>[1-9]\d{0,2}))?"
_TILE_PATH = re.compile(rf"tile/(?P<l>0|[1-9]\d?)/{_INDEX}{_WIDTH}")
_BUNDLE_PATH = re.compile(rf"tile/entries/{_INDEX}{_WIDTH}")


def _parse_index(text: str, where: str) -> int:
    parts = text.split("/")
    if len(parts) > 1 and parts[0] == "x000":
        raise MalformedTile("a tile index has no leading x000 element", where=where)
    return int("".join(p.removeprefix("x") for p in parts))


def _parse_width(text: str | None, where: str) -> int:
    if text is None:
        return TILE_WIDTH
    width = int(text)
    if not 1 <= width < TILE_WIDTH:
        raise MalformedTile(f"partial width {width} outside 1..255", where=where)
    return width


def parse_tile_path(path: str) -> Tile | Bundle:
    """The tile or entry bundle a path (``tile/...``, no leading slash) names."""
    where = path[:80]
    bundle = _BUNDLE_PATH.fullmatch(path)
    if bundle is not None:
        return Bundle(_parse_index(bundle["n"], where), _parse_width(bundle["w"], where))
    tile = _TILE_PATH.fullmatch(path)
    if tile is None:
        raise MalformedTile("not a tlog-tiles path", where=where)
    level = int(tile["l"])
    if level > MAX_LEVEL:
        raise MalformedTile(f"tile level {level} outside 0..63", where=where)
    return Tile(level, _parse_index(tile["n"], where), _parse_width(tile["w"], where))


# --- which tiles a tree has ----------------------------------------------------


def tile_for(level: int, index: int, size: int) -> Tile | None:
    """Tile (level, index) as a tree of ``size`` has it: full, partial, or None (empty)."""
    count = size >> (TILE_HEIGHT * level)  # hashes at this tile level
    first = index * TILE_WIDTH
    if count <= first:
        return None
    return Tile(level, index, min(TILE_WIDTH, count - first))


def bundle_for(index: int, size: int) -> Bundle | None:
    first = index * TILE_WIDTH
    if size <= first:
        return None
    return Bundle(index, min(TILE_WIDTH, size - first))


def tiles_of(size: int, *, full_from: int = 0) -> Iterator[Tile]:
    """Every non-empty tile of a tree of ``size``, level by level; with ``full_from``,
    only the tiles that are partial at ``size`` or became full after ``full_from``."""
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)
        before = full_from >> (TILE_HEIGHT * level)
        for index in range(before // TILE_WIDTH, -(-count // TILE_WIDTH)):
            tile = tile_for(level, index, size)
            if tile is not None:
                yield tile
        level += 1


def bundles_of(size: int, *, start: int = 0) -> Iterator[Bundle]:
    """The entry bundles of a tree of ``size`` holding leaves at or after ``start``."""
    for index in range(start // TILE_WIDTH, -(-size // TILE_WIDTH)):
        bundle = bundle_for(index, size)
        if bundle is not None:
            yield bundle


# --- bytes ----------------------------------------------------------------------


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    if not 1 <= len(hashes) <= TILE_WIDTH or any(len(h) != HASH_SIZE for h in hashes):
        raise MalformedTile(f"a tile holds 1..256 hashes of 32 bytes, not {len(hashes)}")
    return b"".join(hashes)


def decode_tile(data: bytes, tile: Tile) -> list[Hash]:
    if len(data) != tile.width * HASH_SIZE:
        raise MalformedTile(
            "tile has the wrong length",
            where=tile.path(),
            expected=tile.width * HASH_SIZE,
            found=len(data),
        )
    return [Hash(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise MalformedTile(f"an entry bundle holds 1..256 entries, not {len(entries)}")
    out = bytearray()
    for number, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY:
            raise MalformedTile(
                "an entry is longer than a uint16 length can say",
                where=f"entry {number}",
                expected=f"<= {MAX_ENTRY} bytes",
                found=len(entry),
            )
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes, bundle: Bundle) -> list[bytes]:
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise MalformedTile("a truncated length prefix", where=f"{bundle.path()} byte {at}")
        length = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + length > len(data):
            raise MalformedTile("a truncated entry", where=f"{bundle.path()} byte {at}")
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    if len(entries) != bundle.width:
        raise MalformedTile(
            "entry bundle holds the wrong number of entries",
            where=bundle.path(),
            expected=bundle.width,
            found=len(entries),
        )
    return entries


def check_bundle(entries: Sequence[bytes], level0: Sequence[bytes], bundle: Bundle) -> None:
    """Each entry hashes to the level-0 tile's hash at its place (TileMismatch if not)."""
    first = bundle.index * TILE_WIDTH
    for offset, entry in enumerate(entries):
        found = leaf_hash(entry)
        if found != level0[offset]:
            raise TileMismatch(
                "an entry does not hash to its level-0 tile hash",
                where=f"leaf {first + offset}",
                expected=bytes(level0[offset]),
                found=found,
            )


# --- proofs from tiles ------------------------------------------------------------

FetchTile = Callable[[Tile], bytes]
"""Read one tile's bytes (from a mirror's files or over HTTP)."""


class TileNodes:
    """Perfect nodes of the tree of ``size``, answered from its tiles (a ``GetNodes``).

    Each tile is fetched once and checked for its length; a node between tile levels
    is hashed up from the tile below. Nothing is trusted: the caller compares the
    root these nodes give with a signed checkpoint's.
    """

    def __init__(self, size: int, fetch: FetchTile) -> None:
        self.size = size
        self.fetch = fetch
        self.tiles: dict[tuple[int, int], list[Hash]] = {}

    def tile(self, level: int, index: int) -> list[Hash]:
        key = (level, index)
        found = self.tiles.get(key)
        if found is None:
            tile = tile_for(level, index, self.size)
            if tile is None:
                raise MalformedProof(f"tile {level}/{index} is empty in a tree of size {self.size}")
            found = decode_tile(self.fetch(tile), tile)
            self.tiles[key] = found
        return found

    def node(self, node: merkle.NodeID) -> Hash:
        _, end = node.coverage()
        if end > self.size:
            raise MalformedProof(f"node {tuple(node)} is outside a tree of size {self.size}")
        level, rest = divmod(node.level, TILE_HEIGHT)
        first = node.index << rest  # the first tile-level hash under the node
        hashes = self.tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        row = list(hashes[offset : offset + (1 << rest)])
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]

    def __call__(self, nodes: Sequence[merkle.NodeID]) -> list[Hash]:
        return [self.node(n) for n in nodes]


def check_tile_links(nodes: TileNodes) -> None:
    """Every fetched full tile hashes to its hash in the tile above (when that was fetched)."""
    for (level, index), hashes in nodes.tiles.items():
        above = nodes.tiles.get((level + 1, index // TILE_WIDTH))
        if above is None or len(hashes) != TILE_WIDTH:
            continue
        want = above[index % TILE_WIDTH]
        found = merkle.root_from_leaves(hashes)
        if found != want:
            raise TileMismatch(
                "a full tile does not hash to its hash in the tile above",
                where=Tile(level, index).path(),
                expected=bytes(want),
                found=found,
            )
