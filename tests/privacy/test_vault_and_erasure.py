"""Personal data on both backends: the vault, logged reads, the access log's exactly-once
flush, erasure that keeps every proof valid and leaves nothing to recover, and a scan of a
whole demo ledger for every personal value used to make it."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from rich.console import Console

from ledger.core import merkle
from ledger.core.chain import verify_link
from ledger.core.event import parse_record, verify_signatures
from ledger.core.hashing import leaf_hash
from ledger.core.note import Ed25519NoteSigner, format_vkey
from ledger.core.signing import Signer
from ledger.demo.people import synthetic_person
from ledger.demo.run import run_demo
from ledger.domain import commands as cmd
from ledger.domain.calendar_data import load_calendar
from ledger.domain.privacy import ACCESS_STREAM, PRIVACY_STREAM, access_entries
from ledger.domain.procedures_data import load_catalogue
from ledger.privacy.access_log import AccessLog
from ledger.privacy.crypto import MasterKey, MasterKeys
from ledger.privacy.records import PersonalRecord
from ledger.privacy.service import AccessRefused, PersonalData, Reader, RetentionApplies
from ledger.privacy.vault import SubjectErased, Vault
from ledger.services.bundles import export_bundle
from ledger.services.dossiers import DossierPolicy, DossierService
from ledger.services.verify_source import DatabaseSource
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.custodian import Custodian
from ledger.storage.database import Backend, open_backend
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from tests.storage.registry import registry_records
from tests.support.databases import private_postgres_url
from verify.run import verify_ledger
from verify.trust import parse_trust

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/privacy"
AGENCY = "H26.50.01"
MONDAY_9AM = 1_767_578_400_000_000  # 2026-01-05 09:00 in Hanoi
DAY = 86_400_000_000
ACTORS = {
    "portal": ("portal:dvc", {"portal"}, "NATIONAL"),
    "reception": ("officer:tn-01", {"reception"}, AGENCY),
    "handler": ("officer:xl-01", {"handler"}, AGENCY),
    "leader": ("leader:pct-01", {"leader"}, AGENCY),
    "seal": (f"agency:{AGENCY}", {"agency_seal"}, AGENCY),
    "stranger": ("officer:other-01", {"reception"}, "H26.99.99"),
    "access": ("system:access-log", {"system"}, AGENCY),
}


def key(name: str) -> Signer:
    return Signer(hashlib.sha256(f"privacy test {name}".encode()).digest())


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY_9AM

    def __call__(self) -> int:
        self.now += 60_000_000
        return self.now


@dataclass
class World:
    backend: Backend
    service: DossierService
    privacy: PersonalData
    log: MerkleLog
    checkpoints: Checkpoints
    clock: Clock

    def reader(self, name: str) -> Reader:
        actor, roles, agency = ACTORS[name]
        return Reader(actor, agency, min(roles))

    def submit(self, code: str, person: PersonalRecord) -> None:
        registered = self.privacy.register(code, person)
        draft = cmd.submit_dossier(
            procedure="1.001193",
            agency=AGENCY,
            channel="online",
            applicant=registered.applicant,
            personal=registered.personal,
        )
        self.service.execute(code, draft, actor=ACTORS["portal"][0], keys=["portal"])

    def refuse(self, code: str) -> None:
        state = self.service.state(code)
        assert state is not None
        draft = cmd.refuse_reception(state, reasons=["thiếu giấy tờ"])
        self.service.execute(code, draft, actor=ACTORS["reception"][0], keys=["reception"])


@pytest.fixture
def world(backend: Backend) -> World:
    authority = key("authority")
    catalogue = load_catalogue()
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={authority.key_id: authority.public_key},
        policy=DossierPolicy(catalogue),
    )
    store.append(registry_records(ORIGIN, authority, ACTORS, key))
    clock = Clock()
    service = DossierService(
        store, catalogue=catalogue, calendar=load_calendar(), signer_for=key, clock_us=clock
    )
    vault = Vault(
        backend.sql,
        keys=MasterKeys(MasterKey(os.urandom(32))),
        index_key=os.urandom(32),
        clock_us=clock,
    )
    access = AccessLog(backend.sql, store, clock_us=clock, signer=key("access"), flush_every=3)
    privacy = PersonalData(
        vault,
        access,
        service,
        clock_us=clock,
        retention_us=DAY,
        custodian=Custodian(store, key, clock_us=clock),
    )
    log = MerkleLog(backend)
    signer = Ed25519NoteSigner(ORIGIN, key("log"))
    return World(backend, service, privacy, log, Checkpoints(log, signer=signer), clock)


ALICE = synthetic_person("privacy test alice")
BOB = synthetic_person("privacy test bob")
CODE_A, CODE_B = "000.00.10.H26-260105-0001", "000.00.10.H26-260105-0002"


def logged(world: World) -> list[tuple[str, str, str]]:
    return [
        (entry.reader, entry.dossier, entry.purpose)
        for event in world.service.store.read_stream(ACCESS_STREAM)
        for entry in access_entries(event.body)
    ]


def test_reads_are_checked_against_the_ledger_and_logged(world: World) -> None:
    world.submit(CODE_A, ALICE)
    world.submit(CODE_B, ALICE)  # the same citizen again: the same subject
    a, b = world.service.state(CODE_A), world.service.state(CODE_B)
    assert a is not None
    assert b is not None
    assert a.applicant == b.applicant
    assert a.personal != b.personal
    record = world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="reception")
    assert record == ALICE
    with pytest.raises(AccessRefused):
        world.privacy.read(world.reader("portal"), dossier=CODE_A, purpose="processing")
    with pytest.raises(AccessRefused):
        world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="audit")
    found = world.privacy.find(world.reader("stranger"), ALICE.id_number)
    assert sorted(s.code for s in found) == [CODE_A, CODE_B]
    assert world.privacy.find(world.reader("reception"), BOB.id_number) == []
    world.privacy.read(world.reader("stranger"), dossier=CODE_B, purpose="processing")
    # flush_every=3: the third logged read flushed the batch; refused reads left no entry
    assert logged(world) == [
        (ACTORS["reception"][0], CODE_A, "reception"),
        (ACTORS["stranger"][0], "", "search"),
        (ACTORS["stranger"][0], CODE_B, "processing"),
    ]
    assert world.privacy.access.pending() == 0
    findings = world.privacy.audit()
    assert [(f.rule, f.found) for f in findings] == [
        ("privacy.access_scope", "H26.99.99"),
        ("privacy.access_scope", "H26.99.99"),
    ]


def test_a_vault_record_that_is_not_the_committed_one_is_refused(world: World) -> None:
    world.submit(CODE_A, ALICE)
    world.submit(CODE_B, BOB)
    inspector = Reader("inspector:1", "H26.THANHTRA", "inspector")
    report = world.privacy.verify_commitments(inspector)
    assert (report.verified, report.failures) == (2, [])
    state = world.service.state(CODE_A)
    assert state is not None
    # Someone swaps the vault's snapshot for another (validly sealed) record of the subject.
    with world.backend.sql.transaction() as curs:
        curs.execute("DELETE FROM hoso_personal WHERE ref = %s", [CODE_A])
    world.privacy.vault.deposit(state.applicant, CODE_A, BOB)
    with pytest.raises(Exception, match=r"privacy\.commitment"):
        world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="reception")
    report = world.privacy.verify_commitments(inspector)
    assert report.verified == 1
    assert [(f.check, f.where) for f in report.failures] == [
        ("privacy.commitment", f"{CODE_A} personal")
    ]
    # only the inspector's two audits were logged, not the refused read
    assert world.privacy.access.pending() + len(logged(world)) == 4


def test_the_access_log_never_logs_a_read_twice(world: World) -> None:
    world.submit(CODE_A, ALICE)
    reader = world.reader("reception")
    log = world.privacy.access
    log.flush_every = 1000
    for _ in range(3):
        world.privacy.read(reader, dossier=CODE_A, purpose="processing")
    # A flush that crashes after its append, before it deletes the queue:
    forget = log._forget
    calls = iter([RuntimeError("killed"), None])

    def crash_once(ids: list[int]) -> None:
        failure = next(calls)
        if failure is not None and ids:
            raise failure
        forget(ids)

    log._forget = crash_once  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="killed"):
        log.flush()
    assert log.pending() == 3
    log._forget = forget  # type: ignore[method-assign]
    world.privacy.read(reader, dossier=CODE_A, purpose="result")
    assert log.flush() == 1
    assert [p for _, _, p in logged(world)] == ["processing"] * 3 + ["result"]
    assert log.pending() == 0


def all_stored_bytes(backend: Backend) -> bytes:
    """Every value of every table, as bytes, plus the database files themselves."""
    sql = backend.sql
    if sql.dialect == "sqlite":
        tables = [r["name"] for r in sql.rows("SELECT name FROM sqlite_master WHERE type='table'")]
    else:
        tables = [
            r["tablename"]
            for r in sql.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    chunks: list[bytes] = []
    for table in tables:
        for row in sql.rows(f"SELECT * FROM {table}"):  # noqa: S608 (names from the catalogue)
            for value in row.values():
                if isinstance(value, bytes | memoryview):
                    chunks.append(bytes(value))
                elif value is not None:
                    chunks.append(str(value).encode())
    return b"\x00".join(chunks) + raw_files(backend, tables)


def raw_files(backend: Backend, tables: list[str]) -> bytes:
    """The on-disk bytes: SQLite's file and WAL; PostgreSQL's relation files (read by the
    server, as superuser), where dead tuples would linger."""
    url = backend.url
    if backend.sql.dialect == "sqlite":
        return b"".join(
            Path(url.path + suffix).read_bytes()
            for suffix in ("", "-wal")
            if Path(url.path + suffix).exists()
        )
    with psycopg.connect(database_url(backend), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        out = b""
        for table in tables:
            path = conn.execute("SELECT pg_relation_filepath(%s)", [table]).fetchone()
            if path is not None and path[0]:
                data = conn.execute("SELECT pg_read_binary_file(%s)", [path[0]]).fetchone()
                out += bytes(data[0]) if data else b""
        return out


def needles(record: PersonalRecord) -> dict[str, bytes]:
    """Each personal value, plain, case-folded, without diacritics, and in common encodings."""
    out: dict[str, bytes] = {}
    # id_kind names the kind of paper ("cccd" for every citizen), not the person; its four
    # letters are also hex digits, so any hash printed in hex may hold them by chance
    values = {
        k: v
        for k, v in record.as_value().items()
        if isinstance(v, str) and len(v) > 3 and k != "id_kind"
    }
    for name, value in values.items():
        folded = (
            "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))
            .replace("đ", "d")
            .replace("Đ", "D")
        )
        for variant, text in {
            "plain": value,
            "casefold": value.casefold(),
            "upper": value.upper(),
            "nfd": unicodedata.normalize("NFD", value),
            "ascii": folded,
            "ascii-casefold": folded.casefold(),
        }.items():
            raw = text.encode()
            out[f"{name}/{variant}"] = raw
            out[f"{name}/{variant}/utf16"] = text.encode("utf-16-le")
            out[f"{name}/{variant}/hex"] = raw.hex().encode()
            out[f"{name}/{variant}/base64"] = base64.b64encode(raw).rstrip(b"=")
        digest = hashlib.sha256(value.encode())
        out[f"{name}/sha256"] = digest.digest()
        out[f"{name}/sha256-hex"] = digest.hexdigest().encode()
    born = record.birth_date
    out["birth_date/dmy"] = f"{born[8:10]}/{born[5:7]}/{born[:4]}".encode()
    out["birth_date/compact"] = born.replace("-", "").encode()
    return out


def hits(haystack: bytes, records: dict[str, PersonalRecord]) -> list[str]:
    folded = haystack.lower()
    found = []
    for code, record in records.items():
        for label, needle in needles(record).items():
            if needle in haystack or needle.lower() in folded:
                found.append(f"{code}: {label}")
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'demo.sqlite'}"
    return private_postgres_url("hoso_privacy_demo")


def test_no_personal_value_anywhere_in_a_demo_ledger(demo_url: str) -> None:
    """Rows, database files, every inclusion and consistency proof, every dossier's offline
    bundle: none holds a personal value the demo used (QR seals: tests/services/test_seals.py)."""
    applicants: dict[str, PersonalRecord] = {}
    quiet = Console(file=io.StringIO())
    assert run_demo(dossiers=30, db=demo_url, console=quiet, applicants=applicants) == 0
    assert len(applicants) == 30
    backend = open_backend(demo_url)
    try:
        log = MerkleLog(backend)
        size = log.size()
        proofs = b"".join(
            b"".join(log.inclusion_proof(index=i, size=size)) for i in range(size)
        ) + b"".join(b"".join(log.consistency_proof(size1=s, size2=size)) for s in range(1, size))
        bundles = b"".join(export_bundle(demo_url, dossier=code).encode() for code in applicants)
        stored = all_stored_bytes(backend) + bundles
        # the scan is real: commitments and ciphertext are there, and a planted value is found
        assert len(stored) > 10_000
        assert hits(stored + ALICE.full_name.encode(), {"x": ALICE}) != []
        assert hits(stored + proofs, applicants) == []
    finally:
        backend.close()


def database_url(backend: Backend) -> str:
    url = backend.url
    if url.kind == "sqlite":
        return f"sqlite:///{url.path}"
    return f"postgresql://{url.user}@{url.host}:{url.port}/{url.dbname}"


def verify_everything(world: World, note_size: int, note_root: bytes) -> None:
    """Every record re-parses, its signatures and chain link verify, and every leaf's
    inclusion proof verifies against the checkpoint taken before the erasure."""
    records = [n.state for n in world.backend.recorder.select_notifications(start=1, limit=10**6)]
    keys = {key(n).key_id: key(n).public_key for n in (*ACTORS, "authority")}
    heads: dict[str, object] = {}
    for i, record in enumerate(records):
        event = parse_record(record, where=f"leaf {i}")
        verify_signatures(event, keys)
        verify_link(event, heads.get(event.body.stream))  # type: ignore[arg-type]
        heads[event.body.stream] = event
        if i < note_size:
            merkle.verify_inclusion(
                index=i,
                size=note_size,
                leaf_hash=leaf_hash(record),
                proof=world.log.inclusion_proof(index=i, size=note_size),
                root=note_root,
            )


def test_erasure_keeps_every_proof_valid_and_leaves_nothing_to_recover(world: World) -> None:
    world.submit(CODE_A, ALICE)
    world.submit(CODE_B, BOB)
    world.refuse(CODE_A)
    world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="reception")
    world.privacy.access.flush()
    subject = world.privacy.vault.lookup(ALICE.id_number)
    assert subject is not None
    secrets = [
        bytes(v)
        for r in world.backend.sql.rows(
            world.backend.sql.q(
                "SELECT wrapped_key AS v FROM hoso_subjects WHERE subject = %s"
                " UNION ALL SELECT identity FROM hoso_subjects WHERE subject = %s"
                " UNION ALL SELECT sealed FROM hoso_personal WHERE subject = %s"
                " UNION ALL SELECT tag FROM hoso_subject_index WHERE subject = %s"
            ),
            [subject] * 4,
        )
        for v in [r["v"]]
    ]
    assert len(secrets) == 4
    tables = ["hoso_subjects", "hoso_personal", "hoso_subject_index"]
    on_disk = raw_files(world.backend, tables)
    assert [i for i, s in enumerate(secrets) if s not in on_disk] == []  # the scan can see them
    world.log.integrate()
    before = world.checkpoints.sign(now_us=world.clock())
    size, root = world.log.size(), world.log.root()

    # Under retention (refused today, kept DAY): refused, and nothing changes.
    with pytest.raises(RetentionApplies):
        world.privacy.erase(
            subject,
            basis="no_retention_duty",
            request_hash=bytes(32),
            actor=ACTORS["leader"][0],
            keys=["leader"],
        )
    assert world.privacy.vault.status(subject) == "active"
    world.clock.now += 2 * DAY
    appended = world.privacy.erase(
        subject,
        basis="no_retention_duty",
        request_hash=bytes(32),
        actor=ACTORS["leader"][0],
        keys=["leader"],
    )
    assert appended is not None
    (erased,) = world.service.store.read_stream(PRIVACY_STREAM)
    assert erased.body.payload["dossiers"] == [CODE_A]

    # Every hash, signature, chain and proof still verifies; the log only grew.
    world.log.integrate()
    world.checkpoints.sign(now_us=world.clock())
    verify_everything(world, size, root)
    merkle.verify_consistency(
        size1=size,
        size2=world.log.size(),
        root1=root,
        root2=world.log.root(),
        proof=world.log.consistency_proof(size1=size, size2=world.log.size()),
    )
    assert before.serialise() == world.checkpoints.note_at(size).serialise()  # type: ignore[union-attr]

    # The data is gone: unreadable through hoso, and not in any stored byte or file.
    with pytest.raises(SubjectErased):
        world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="processing")
    assert world.privacy.vault.lookup(ALICE.id_number) is None
    assert world.privacy.vault.status(subject) == "erased"
    stored = all_stored_bytes(world.backend)
    assert [i for i, s in enumerate(secrets) if s in stored] == []
    assert hits(stored, {CODE_A: ALICE}) == []
    # The other subject is untouched; a second erase only finishes the destruction.
    assert (
        world.privacy.read(world.reader("reception"), dossier=CODE_B, purpose="processing") == BOB
    )
    again = world.privacy.erase(
        subject,
        basis="no_retention_duty",
        request_hash=bytes(32),
        actor=ACTORS["leader"][0],
        keys=["leader"],
    )
    assert again is None
    assert len(world.service.store.read_stream(PRIVACY_STREAM)) == 1


def test_erasure_is_refused_while_a_result_is_held(world: World) -> None:
    world.submit(CODE_A, ALICE)
    subject = world.privacy.vault.lookup(ALICE.id_number)
    assert subject is not None
    world.clock.now += 400 * DAY
    with pytest.raises(RetentionApplies) as info:
        world.privacy.erase(
            subject,
            basis="withdrawn_consent",
            request_hash=bytes(32),
            actor=ACTORS["leader"][0],
            keys=["leader"],
        )
    assert info.value.found == [CODE_A]  # still submitted: an open dossier
    assert world.service.store.read_stream(PRIVACY_STREAM) == []
    assert (
        world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="reception") == ALICE
    )


def test_master_key_rotation_rewraps_every_data_key(world: World) -> None:
    world.submit(CODE_A, ALICE)
    old = world.privacy.vault.keys.current
    new = MasterKey(os.urandom(32))
    vault = world.privacy.vault
    vault.keys = MasterKeys(new, old)  # rotated: the old key still unwraps
    subject = vault.lookup(ALICE.id_number)
    assert subject is not None
    assert vault.open(subject, CODE_A).record == ALICE
    assert vault.rewrap() == 1
    assert vault.rewrap() == 0
    vault.keys = MasterKeys(new)  # the old key retired
    assert vault.open(subject, CODE_A).record == ALICE


def test_the_verifier_audits_the_access_log_and_erasures_from_raw_bytes(world: World) -> None:
    """Step 9 of ``hoso verify`` re-derives the personal-data findings from the stored
    bytes: the out-of-scope read, and nothing for in-scope reads or a lawful erasure."""
    world.submit(CODE_A, ALICE)
    world.submit(CODE_B, BOB)
    world.refuse(CODE_A)
    world.privacy.read(world.reader("reception"), dossier=CODE_A, purpose="reception")
    world.privacy.read(world.reader("stranger"), dossier=CODE_B, purpose="processing")
    world.privacy.access.flush()
    world.clock.now += 2 * DAY
    subject = world.privacy.vault.lookup(ALICE.id_number)
    assert subject is not None
    world.privacy.erase(
        subject,
        basis="no_retention_duty",
        request_hash=bytes(32),
        actor=ACTORS["leader"][0],
        keys=["leader"],
    )
    world.log.integrate()
    world.checkpoints.sign(now_us=world.clock())
    trust = parse_trust(
        f"origin {ORIGIN}\n"
        f"log {world.checkpoints.signer.verifier.vkey}\n"  # type: ignore[union-attr]
        f"authority {format_vkey(ORIGIN + '/authority', 0x01, key('authority').public_key)}\n"
    )

    def verify(retention_us: int) -> list[tuple[str, str | None]]:
        report = verify_ledger(
            DatabaseSource(database_url(world.backend)),
            trust,
            catalogue=load_catalogue(),
            calendar=load_calendar(),
            now_us=world.clock(),
            retention_us=retention_us,
        )
        assert [f.check for f in report.findings.kept if f.family != "rule"] == []
        return [(f.check, f.stream) for f in report.findings.kept if f.check.startswith("privacy.")]

    assert verify(DAY) == [("privacy.access_scope", "system/access")]
    # under a longer retention duty the same erasure was unlawful, and is found
    assert sorted(verify(30 * DAY)) == [
        ("privacy.access_scope", "system/access"),
        ("privacy.erasure_retention", "system/privacy"),
    ]
