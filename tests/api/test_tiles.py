"""The C2SP tlog-tiles read API and the static export over a real ledger: the root,
inclusion and consistency proofs recomputed from the served tiles alone equal the
signed checkpoint's and the proof API's; each served entry hashes to its level-0 tile
hash and is the stored record; answers are immutable (ETag, 304); the export's files
are the served bytes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.core import merkle, tiles
from ledger.core.checkpoint import parse_checkpoint_text
from ledger.core.note import parse_note
from ledger.demo.office import WARD
from ledger.services import tiles as tile_service
from tests.api.api_world import World, bearer

pytestmark = pytest.mark.integration


def served(client: TestClient, world: World) -> tuple[int, bytes, tiles.TileNodes]:
    note = client.get("/checkpoint")
    assert note.status_code == 200
    assert note.headers["content-type"] == "text/plain; charset=utf-8"
    assert "immutable" not in note.headers["cache-control"]
    checkpoint = parse_checkpoint_text(parse_note(note.content).text)

    def fetch(tile: tiles.Tile) -> bytes:
        got = client.get(f"/{tile.path()}")
        assert got.status_code == 200, tile.path()
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
        return bytes(got.content)

    return checkpoint.size, checkpoint.root, tiles.TileNodes(checkpoint.size, fetch)


def test_proofs_from_served_tiles_alone(world: World, client: TestClient) -> None:
    latest = world.ledger.checkpoints.latest()
    assert latest is not None
    first = latest[0].size
    for n in range(3):
        code = f"{world.codes['ward_open'][:-4]}{n + 7:04d}"
        world.office.open(code, "1.001193", WARD, "x", at=world.clock.now + n)
    second = world.checkpoint()
    size, root, nodes = served(client, world)
    assert size == second > first
    assert merkle.root_at(size=size, get_nodes=nodes) == root
    for index in (0, size // 2, size - 1):
        api = client.get("/v1/proofs/inclusion", params={"index": index, "size": size}).json()
        mine = merkle.inclusion_proof(index=index, size=size, get_nodes=nodes)
        assert [base64.b64encode(h).decode() for h in mine] == api["proof"]
    api = client.get("/v1/proofs/consistency", params={"from": first, "to": size}).json()
    mine = merkle.consistency_proof(size1=first, size2=size, get_nodes=nodes)
    assert [base64.b64encode(h).decode() for h in mine] == api["proof"]


def test_entry_bundles_hold_the_signed_records(world: World, client: TestClient) -> None:
    size, _, nodes = served(client, world)
    headers = bearer(world, "inspector")
    for bundle in tiles.bundles_of(size):
        got = client.get(f"/{bundle.path()}", headers=headers)
        assert got.status_code == 200
        records = tiles.decode_bundle(got.content, bundle)
        tiles.check_bundle(records, nodes.tile(0, bundle.index), bundle)
        for leaf, record in zip(bundle.leaves(), records, strict=True):
            assert record == world.ledger.log.leaf_record(leaf)
    assert client.get(f"/{bundle.path()}").status_code == 401
    assert client.get(f"/{bundle.path()}", headers=bearer(world, "officer_a")).status_code == 403


def test_immutable_answers_and_what_is_not_served(world: World, client: TestClient) -> None:
    size, _, _ = served(client, world)
    path = tiles.tile_for(0, 0, size).path()  # type: ignore[union-attr]
    first = client.get(f"/{path}")
    again = client.get(f"/{path}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    world.ledger.log.integrate()  # unsigned leaves beyond the checkpoint are not served
    beyond = tiles.Tile(0, 0, size + 1) if size < 255 else tiles.Tile(0, size // 256 + 1, 1)
    missing = client.get(f"/{beyond.path()}")
    assert missing.status_code == 404
    assert missing.json()["check"] == "tiles.unknown"
    assert client.get("/tile/0/x000/000").status_code == 400
    assert client.get("/tile/64/000").status_code in (400, 422)


def test_export_writes_the_served_bytes(world: World, client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "mirror"
    report = tile_service.export(world.ledger.log, world.ledger.checkpoints, out)
    size = report.size
    assert report.written == len(list(tiles.tiles_of(size))) + len(list(tiles.bundles_of(size)))
    assert (out / "checkpoint").read_bytes() == client.get("/checkpoint").content
    headers = bearer(world, "inspector")
    items: list[tiles.Tile | tiles.Bundle] = [*tiles.tiles_of(size), *tiles.bundles_of(size)]
    for item in items:
        assert (out / item.path()).read_bytes() == client.get(
            f"/{item.path()}", headers=headers
        ).content
    again = tile_service.export(world.ledger.log, world.ledger.checkpoints, out)
    assert (again.written, again.kept) == (0, report.written)
    public = tile_service.export(
        world.ledger.log, world.ledger.checkpoints, tmp_path / "public", entries=False
    )
    assert not (tmp_path / "public" / "tile" / "entries").exists()
    assert public.written == len(list(tiles.tiles_of(size)))
