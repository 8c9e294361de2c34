"""A real ledger for projection tests: registered keys, the checked store, the dossier
service, the demo's lifecycles, and signed system events (access log, erasure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import sign_event
from ledger.demo.office import JUSTICE, POLICE, WARD, Office, Official, cast, monday_morning
from ledger.demo.run import ORIGIN
from ledger.demo.scenarios import Scenario
from ledger.domain import commands as cmd
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.services.dossiers import DossierPolicy, DossierService
from ledger.storage.database import Backend, open_backend
from ledger.storage.store import EventStore
from projections.engine import Engine
from tests.support.databases import private_postgres_url
from tests.support.demo_kit import DemoKeys, registry_events

CATALOGUE = load_catalogue()
CALENDAR = load_calendar()
MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
DPO = Official("system:privacy", frozenset({"system"}), "H26.DPO")


def drop_views(url: str) -> None:
    """Drop every projection table (the storage suite's reset drops only its own)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND (tablename LIKE 'hoso_v_%' OR tablename = 'hoso_projection_tracking')"
        ).fetchall()
        for (table,) in rows:
            conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')


def fresh_url(kind: str, tmp: str, name: str = "projections") -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/ledger.sqlite"
    url = private_postgres_url(name)
    drop_views(url)
    return url


def agency_of(scenario: Scenario) -> str:
    police = {"residence_with_supplement", "criminal_record_interagency"}
    police |= {"permanent_residence_late", "paper_copy_without_basis"}
    justice = {"marriage_refused"}
    name = scenario.__name__
    return POLICE if name in police else JUSTICE if name in justice else WARD


@dataclass
class Kit:
    backend: Backend
    store: EventStore
    service: DossierService
    office: Office
    keys: DemoKeys
    engine: Engine
    counter: int = 0

    def scenario(self, scenario: Scenario, *, week: int = 0) -> str:
        self.counter += 1
        code = f"{agency_of(scenario)}-260302-{self.counter:04d}"
        scenario(self.office, code, monday_morning(week) + self.counter * 17 * MINUTE)
        return code

    def system_event(self, stream: str, kind: str, payload: dict[str, Value], at: int) -> int:
        head = self.store.head(stream)
        body = next_body(
            head,
            origin=ORIGIN,
            stream=stream,
            event_type=kind,
            actor=DPO.actor,
            time_us=at,
            payload=payload,
        )
        self.store.append([sign_event(body, [self.keys.people["privacy"]]).record])
        return int(self.backend.recorder.max_notification_id())

    def submit(self, code: str, *, applicant: bytes, procedure: str, agency: str, at: int) -> None:
        draft = cmd.submit_dossier(
            procedure=procedure, agency=agency, channel="online", applicant=applicant
        )
        self.office.do(code, draft, "portal", at=at)

    def last_position(self) -> int:
        return int(self.backend.recorder.max_notification_id() or 0)

    def close(self) -> None:
        self.backend.close()


def open_kit(url: str) -> Kit:
    people = {**cast(), "privacy": DPO}
    keys = DemoKeys.generate(people)
    backend = open_backend(url, pool_size=2)
    store = EventStore(
        backend, origin=ORIGIN, authorities=keys.authorities(), policy=DossierPolicy(CATALOGUE)
    )
    store.append([e.record for e in registry_events(keys, people)])
    service = DossierService(
        store,
        catalogue=CATALOGUE,
        calendar=CALENDAR,
        signer_for=keys.people.__getitem__,
        clock_us=lambda: monday_morning(0),
    )
    engine = Engine(backend, book=CATALOGUE, calendar=CALENDAR, clock_us=lambda: 1)
    return Kit(backend, store, service, Office(service, people), keys, engine)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kit(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Kit]:
    opened = open_kit(fresh_url(request.param, str(tmp_path)))
    yield opened
    opened.close()


def table_rows(backend: Backend, table: str, order: str) -> list[dict[str, Any]]:
    rows = backend.sql.rows(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608
    return [{k: bytes(v) if isinstance(v, memoryview) else v for k, v in r.items()} for r in rows]
