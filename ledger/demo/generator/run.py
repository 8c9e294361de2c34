"""Write a planned Hanoi ledger: the cases through the batched service, then the
personal-data epilogue (a planted out-of-scope read, erasures, the access log).

With ``privacy`` on, each applicant is a synthetic citizen (:mod:`ledger.demo.people`)
whose record goes to the vault (encrypted under its own key; the submission
carries only salted commitments) and every official's read is logged. At the
end, past the retention period, the applicants of a couple of dossiers that
ended without a result are erased (a signed ``SubjectErased``; the key and the
records destroyed). Without it (benchmarks) applicants are bare commitments.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.core.signing import Signer
from ledger.demo.generator.buffered import START_US, BufferedService
from ledger.demo.generator.hanoi import STAFF
from ledger.demo.generator.lifecycles import LIFECYCLES, Case, Story
from ledger.demo.generator.plan import plan
from ledger.demo.office import DAY, Office, Official, SimClock
from ledger.domain.calendar_data import load_calendar
from ledger.domain.privacy import ACCESS_STREAM, access_entries
from ledger.domain.procedures_data import load_catalogue
from ledger.privacy.access_log import AccessLog
from ledger.privacy.crypto import MasterKey, MasterKeys
from ledger.privacy.records import PersonalRecord
from ledger.privacy.service import PersonalData
from ledger.privacy.vault import Vault
from ledger.services.dossiers import DossierService
from ledger.settings import Settings
from ledger.storage.custodian import Custodian
from ledger.storage.database import Backend
from ledger.storage.store import EventStore

RETENTION_US = Settings.model_fields["retention_days_without_result"].default * DAY
ERASURES = 2
PRIVACY_PLANTED = ("privacy.access_scope",)


@dataclass(frozen=True, slots=True)
class PrivacyKeys:
    """The vault's master key and the id-number index key (demo-only, from the seed)."""

    vault_key: bytes
    index_key: bytes


@dataclass
class Written:
    cases: list[Case]
    stories: dict[str, Story]
    subjects: int = 0
    reads: int = 0
    erased: list[str] = field(default_factory=list)  # dossiers whose applicant was erased
    applicants: dict[str, PersonalRecord] = field(default_factory=dict)
    last_us: int = START_US

    def planted(self) -> Counter[str]:
        """Rule id → how many findings the plan planted."""
        out = Counter(r for s in self.stories.values() for r in s.planted)
        if self.subjects:
            out.update(PRIVACY_PLANTED)
        return out

    def lifecycles(self) -> Counter[str]:
        return Counter(s.lifecycle for s in self.stories.values())


def write_hanoi(
    backend: Backend,
    store: EventStore,
    *,
    signers: dict[str, Signer],
    people: dict[str, Official],
    dossiers: int,
    seed: int,
    batch: int,
    privacy: PrivacyKeys | None,
    progress: Callable[[int, int], None] | None,
    half_way: Callable[[], None],
) -> Written:
    catalogue, calendar = load_catalogue(), load_calendar()
    cases = plan(dossiers, seed=seed, catalogue=catalogue, calendar=calendar)
    service = BufferedService(store, signers=signers, people=people)
    clock = SimClock(START_US)
    personal = None if privacy is None else _personal(backend, service, signers, clock, privacy)
    office = Office(service, people, personal, clock, staff=STAFF)
    written = Written(cases, {})
    for index, case in enumerate(cases):
        written.stories[case.code] = LIFECYCLES[case.lifecycle](office, case)
        written.last_us = max(written.last_us, clock.now)
        service.forget(case.code)
        if len(service.buffer) >= batch:
            service.flush()
            if progress is not None:
                progress(index + 1, dossiers)
        if index + 1 == dossiers // 2:
            service.flush()
            half_way()
    service.flush()
    if personal is not None:
        personal.access.flush()
    if progress is not None:
        progress(dossiers, dossiers)
    if personal is not None and privacy is not None:
        written.applicants = office.applicants
        written.subjects = len(office.applicants)
        _epilogue(backend, store, signers, people, clock, privacy, written)
    return written


def _personal(
    backend: Backend,
    service: DossierService,
    signers: dict[str, Signer],
    clock: SimClock,
    keys: PrivacyKeys,
) -> PersonalData:
    vault = Vault(
        backend.sql,
        keys=MasterKeys(MasterKey(keys.vault_key)),
        index_key=keys.index_key,
        clock_us=clock,
    )
    access = AccessLog(backend.sql, service.store, clock_us=clock, signer=signers["access"])
    return PersonalData(
        vault,
        access,
        service,
        clock_us=clock,
        retention_us=RETENTION_US,
        custodian=Custodian(service.store, signers.__getitem__, clock_us=clock),
    )


def _epilogue(  # noqa: PLR0917 (its parts, as write_hanoi holds them)
    backend: Backend,
    store: EventStore,
    signers: dict[str, Signer],
    people: dict[str, Official],
    clock: SimClock,
    keys: PrivacyKeys,
    written: Written,
) -> None:
    """On the stored ledger: the planted out-of-scope read, the erasures, the log flushed."""
    service = DossierService(
        store,
        catalogue=load_catalogue(),
        calendar=load_calendar(),
        signer_for=signers.__getitem__,
        clock_us=clock,
    )
    personal = _personal(backend, service, signers, clock, keys)
    office = Office(service, people, personal, clock, staff=STAFF)
    clock.now = written.last_us + DAY
    ward = next(c.code for c in written.cases if STAFF[c.agency].startswith("ward"))
    # PLANTED: an officer of the city police opens a ward dossier's applicant record.
    office.read_personal(ward, "police.reception", "processing")
    clock.now = written.last_us + RETENTION_US + DAY
    ended = [
        c
        for c in written.cases
        if written.stories[c.code].lifecycle in {"refused", "withdrawn"} and c.code != ward
    ]
    for case in ended[:ERASURES]:
        state = service.existing(case.code)
        leader = f"{STAFF[case.agency]}.leader"
        personal.erase(
            state.applicant,
            basis="no_retention_duty",
            request_hash=hashlib.sha256(f"erasure request {case.code}".encode()).digest(),
            actor=people[leader].actor,
            keys=[leader],
        )
        written.erased.append(case.code)
    personal.access.flush()
    written.reads = sum(len(access_entries(e.body)) for e in store.read_stream(ACCESS_STREAM))
