"""A generated ledger per test, on SQLite and PostgreSQL, with raw SQL access to tamper
(the ``tamperable`` fixture of the verifier and CLI suites)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.core.event import EventBody, SignedEvent, parse_record, sign_event
from ledger.core.hashing import EventHash
from ledger.demo.generate import GeneratedLedger, generate_ledger
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.services.verify_source import DatabaseSource
from tests.support.databases import private_postgres_url
from verify.run import Report, verify_ledger
from verify.trust import parse_trust

NOW_US = 1_780_000_000_000_000  # 2026-05-28: after every generated dossier finished


class Raw:
    """Plain SQL on the ledger's database, bypassing every check (the attacker's view)."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgresql")
        self.order = "notification_id" if self.postgres else "rowid"
        self.last_query = f"SELECT MAX({self.order}) FROM hoso_events"  # noqa: S608
        self.truncate_query = f"DELETE FROM hoso_events WHERE {self.order} > %s"  # noqa: S608
        self.conn: Any = (
            psycopg.connect(url, autocommit=True)
            if self.postgres
            else sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        )

    def run(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        if not self.postgres:
            query = query.replace("%s", "?")
        cursor = self.conn.execute(query, tuple(params))
        return list(cursor.fetchall()) if cursor.description else []

    def record(self, stream: str, n: int) -> bytes:
        rows = self.run(
            "SELECT state FROM hoso_events WHERE originator_id = %s AND originator_version = %s",
            [stream, n],
        )
        return bytes(rows[0][0])

    def head(self, stream: str) -> SignedEvent:
        rows = self.run(
            "SELECT state FROM hoso_events WHERE originator_id = %s"
            " ORDER BY originator_version DESC LIMIT 1",
            [stream],
        )
        return parse_record(bytes(rows[0][0]))

    def set_record(self, stream: str, n: int, record: bytes) -> None:
        self.run(
            "UPDATE hoso_events SET state = %s"
            " WHERE originator_id = %s AND originator_version = %s",
            [record, stream, n],
        )

    def insert(
        self, event: SignedEvent, *, stream: str | None = None, n: int | None = None
    ) -> None:
        self.run(
            "INSERT INTO hoso_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, %s, %s, %s)",
            [stream or event.body.stream, n or event.body.n, event.body.type, event.record],
        )

    def close(self) -> None:
        self.conn.close()


def continue_stream(
    head: SignedEvent,
    *,
    kind: str,
    actor: str,
    signers: Sequence[Any],
    time_us: int | None = None,
    payload: dict[str, Any] | None = None,
) -> SignedEvent:
    body = EventBody(
        origin=head.body.origin,
        stream=head.body.stream,
        n=head.body.n + 1,
        prev=EventHash(head.event_hash),
        type=kind,
        actor=actor,
        time_us=head.body.time_us + 60_000_000 if time_us is None else time_us,
        payload=payload or {},
    )
    return sign_event(body, signers)


@dataclass
class Tamperable:
    url: str
    ledger: GeneratedLedger
    raw: Raw
    extra_notes: list[bytes]

    def verify(self, *, workers: int = 1) -> Report:
        return verify_ledger(
            DatabaseSource(self.url, extra_notes=self.extra_notes),
            parse_trust(self.ledger.trust_lines()),
            catalogue=load_catalogue(),
            calendar=load_calendar(),
            now_us=NOW_US,
            workers=workers,
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return private_postgres_url("verify_tamper")


@pytest.fixture
def tamperable(ledger_url: str) -> Iterator[Tamperable]:
    generated = generate_ledger(ledger_url, dossiers=18, seed=7, mix="scenarios")
    raw = Raw(ledger_url)
    yield Tamperable(ledger_url, generated, raw, [])
    raw.close()
