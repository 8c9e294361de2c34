"""``hoso verify --peer``: a real ledger's transfer to an agency on another log names that
log's entry; the other log is a static tlog-tiles mirror directory. The reference checks
out, and a reference to an entry the other log does not hold fails ``transfer.reference``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.core import tiles
from ledger.demo.office import DAY, HOUR, POLICE
from ledger.domain import commands as cmd
from tests.api.api_world import World
from tests.api.test_monitor import trust_text
from tests.verify.test_peers import OTHER, OTHER_LOG, authority_line, other_log, peer

pytestmark = pytest.mark.integration


def mirror_dir(tmp_path: Path, size: int) -> Path:
    events = other_log(size)
    files = peer(events).fetch
    root = tmp_path / "province-b"
    paths = ["checkpoint"] + [t.path() for t in tiles.tiles_of(size)]
    paths += [b.path() for b in tiles.bundles_of(size)]
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(files(path))
    return root


def transfer(world: World, code: str, reference: tuple[str, int, bytes]) -> None:
    office, t = world.office, world.clock.now
    office.open(code, "3.000333", POLICE, f"{code} applicant", at=t)
    office.receive(code, at=t + HOUR)
    office.assign(code, department="LLTP", at=t + 2 * HOUR)
    draft = cmd.transfer_to_agency(
        office.state(code),
        to_agency="000.11.22.H27",
        step="tra cứu",
        allowance_hours=40,
        reference=reference,
    )
    office.do(code, draft, "police.handler", at=t + 3 * HOUR)
    world.clock.now = t + DAY
    world.checkpoint()


def test_verify_checks_references_against_the_other_log(world: World, tmp_path: Path) -> None:
    events = other_log(40)
    root = mirror_dir(tmp_path, 40)
    transfer(world, f"{POLICE}-260302-0031", (OTHER, 7, events[7].event_hash))
    trust = tmp_path / "all.txt"
    trust.write_text(
        trust_text(world) + f"origin {OTHER}\nlog {OTHER_LOG.verifier.vkey}\n{authority_line()}\n"
    )
    args = [
        "verify",
        "--db",
        world.ledger.settings.database_url,
        "--trust",
        str(trust),
        "--origin",
        world.ledger.settings.origin,
        "--peer",
        f"{OTHER}={root}",
        "--json",
        "--no-rules",
        "--workers",
        "1",
    ]
    good = CliRunner().invoke(app, args)
    body = json.loads(good.stdout)
    assert good.exit_code == 0, body["counts"]
    assert body["references"] == {"checked": 1, "unchecked": {}}
    assert "transfer.reference" not in body["counts"]["by_check"]
    transfer(world, f"{POLICE}-260302-0032", (OTHER, 8, events[9].event_hash))
    bad = CliRunner().invoke(app, args)
    body = json.loads(bad.stdout)
    assert bad.exit_code == 1
    assert body["references"]["checked"] == 2
    assert body["counts"]["by_check"]["transfer.reference"] == 1
    several = CliRunner().invoke(app, [a for a in args if a not in ("--origin",)][: -0 or None])
    assert several.exit_code != 0
