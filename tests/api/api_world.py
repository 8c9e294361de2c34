"""A real ledger behind the API for the tests: keystore-held officials' keys registered by
an authority, the demo's lifecycles with personal data in the vault, the Merkle log
integrated and checkpointed, the projections caught up, and a token per principal kind."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.tokens import Kind, TokenStore
from ledger.bootstrap import Ledger, bootstrap
from ledger.core.checkpoint import Cosigner
from ledger.core.note import format_vkey
from ledger.core.signing import Signer
from ledger.demo.office import JUSTICE, MINUTE, POLICE, WARD, Office, SimClock, cast, monday_morning
from ledger.demo.scenarios import birth_on_time, residence_with_supplement
from ledger.services.status_lists import assign_entry, publish
from ledger.settings import Settings
from ledger.storage.keystore import Keystore
from ledger.storage.keystore_format import MIN
from projections.engine import Engine
from projections.runner import Follower, select_views
from tests.projections.ledger_kit import drop_views
from tests.storage.registry import registry_records
from tests.support.databases import private_postgres_url

ORIGIN = "api.hoso.example/hanoi"
PASSPHRASE = "api test passphrase"  # noqa: S105 (a test keystore)
WITNESS = "witness.api.hoso.example/so-tttt"
START = monday_morning(0)


def witness_cosigner() -> Cosigner:
    return Cosigner(WITNESS, Signer(hashlib.sha256(b"api test witness").digest()))


@dataclass
class World:
    ledger: Ledger
    office: Office
    clock: SimClock
    keystore: Keystore
    tokens: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # role in the tests → dossier code

    def project(self) -> None:
        """Bring every view up to the log (the API reads them)."""
        engine = Engine(
            self.ledger.backend,
            book=self.ledger.catalogue,
            calendar=self.ledger.calendar,
            clock_us=self.clock,
        )
        Follower(engine, select_views(None)).catch_up()

    def checkpoint(self) -> int:
        self.ledger.log.integrate()
        note = self.ledger.checkpoints.sign(now_us=self.clock())
        return int(note.text.split("\n")[1])

    def person(self, code: str) -> str:
        return self.office.applicants[code].id_number


def settings_for(url: str, tmp: Path) -> Settings:
    return Settings(
        database_url=url,
        origin=ORIGIN,
        keystore_path=tmp / "keystore.json",
        authority_keys=[],
        witness_keys=[witness_cosigner().verifier.vkey],
        access_key_name="access",
        api_public_rate=0,
    )


def build_world(url: str, tmp: Path) -> World:
    people = cast()
    keystore = Keystore.create(tmp / "keystore.json", PASSPHRASE, limits=MIN)
    for name in (*people, "authority", "ledger-log"):
        keystore.add(name)
    keystore.save()
    authority = keystore.signer("authority")
    settings = settings_for(url, tmp).model_copy(
        update={"authority_keys": [format_vkey(f"{ORIGIN}/authority", 0x01, authority.public_key)]}
    )
    clock = SimClock(START)
    ledger = bootstrap(settings, keystore=keystore, clock_us=clock)
    actors = {n: (o.actor, set(o.roles), o.agency) for n, o in people.items()}
    ledger.store.append(registry_records(ORIGIN, authority, actors, keystore.signer))
    office = Office(ledger.dossiers, people, ledger.privacy, clock)
    world = World(ledger, office, clock, keystore)
    world.codes["ward_done"] = f"{WARD}-260302-0001"
    birth_on_time(office, world.codes["ward_done"], START + 17 * MINUTE)
    world.codes["police_done"] = f"{POLICE}-260302-0002"
    residence_with_supplement(office, world.codes["police_done"], START + 34 * MINUTE)
    world.codes["ward_open"] = f"{WARD}-260302-0003"
    office.open(
        world.codes["ward_open"], "1.001193", WARD, "open applicant", at=START + 51 * MINUTE
    )
    clock.now = START + 30 * 86_400_000_000
    ledger.privacy.access.flush()
    world.checkpoint()
    publish_status_list(world)
    world.project()
    world.tokens = issue_tokens(ledger, world)
    return world


def publish_status_list(world: World) -> None:
    """The ward's signed status list (docs/formats.md §13), its one result drawn."""
    code = world.codes["ward_done"]
    state = world.ledger.dossiers.state(code)
    assert state is not None
    for number in state.results:
        assign_entry(world.ledger.store, WARD, code, number)
    seal = world.keystore.signer("ward.seal")
    publish(
        world.ledger.store, world.ledger.log, world.ledger.keys, WARD, seal, now_us=world.clock()
    )


def issue_tokens(ledger: Ledger, world: World) -> dict[str, str]:
    store = TokenStore(ledger.backend.sql, clock_us=world.clock)
    store.create_table()
    vault = ledger.privacy.vault

    def issue(kind: Kind, actor: str, agency: str, **extra: object) -> str:
        return store.issue(kind=kind, actor=actor, agency=agency, **extra).token  # type: ignore[arg-type]

    def subject(code: str) -> bytes:
        found = vault.lookup(world.person(code))
        assert found is not None
        return found

    return {
        "officer_a": issue("officer", "ward:tiepnhan-01", WARD, key_name="ward.reception"),
        "leader_a": issue("officer", "ward:lanhdao-01", WARD, key_name="ward.leader"),
        "officer_b": issue("officer", "police:tiepnhan-01", POLICE, key_name="police.reception"),
        "system_a": issue("system", "system:thanhtoan-phuong", WARD, key_name="ward.payments"),
        "inspector": issue("inspector", "inspector:thanhtra-01", "H26.THANHTRA"),
        "citizen_x": issue("citizen", "citizen", "", subject=subject(world.codes["ward_done"])),
        "citizen_y": issue("citizen", "citizen", "", subject=subject(world.codes["police_done"])),
        "witness": issue("witness", WITNESS, "H26.STTTT"),
        "justice": issue("officer", "justice:tiepnhan-01", JUSTICE, key_name="justice.reception"),
    }


def fresh_url(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'ledger.sqlite'}"
    url = private_postgres_url("api")
    drop_views(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    built = build_world(fresh_url(request.param, tmp_path), tmp_path)
    yield built
    built.ledger.close()


def make_app(world: World, ledger: Ledger | None = None) -> FastAPI:
    """The app over the world's ledger (or another ledger on the same database)."""
    return create_app(world.ledger.settings, ledger=ledger or world.ledger, clock_us=world.clock)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(make_app(world)) as c:
        yield c


def bearer(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}
