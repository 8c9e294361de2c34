"""A real ledger on SQLite with results in each state, for the seal tests.

Three of the demo's lifecycles run through the checked store: a birth
certificate (valid), a birth certificate revoked after a post-audit, and a
civil-status extract superseded by a corrected version. The log is
integrated and a checkpoint signed, so issuing events have inclusion proofs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.core.note import Ed25519Verifier
from ledger.core.signing import Signer
from ledger.demo.office import MINUTE, WARD, Office, cast, digest, monday_morning
from ledger.demo.run import ORIGIN
from ledger.demo.scenarios import (
    Scenario,
    audited_and_revoked,
    birth_on_time,
    extract_paid_and_corrected,
)
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures_data import load_catalogue
from ledger.services.dossiers import DossierPolicy, DossierService
from ledger.services.seals.issue import LedgerSealBackend, SealParts
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.database import Backend, open_backend
from ledger.storage.keys import KeyRegistry
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.store import EventStore
from tests.support.demo_kit import DemoKeys, registry_events

NOW_US = monday_morning(6)


@dataclass
class World:
    backend: Backend
    parts: SealParts
    keys: DemoKeys
    seal_backend: LedgerSealBackend
    codes: dict[str, str]  # story → dossier code

    @property
    def ward_seal(self) -> Signer:
        return self.keys.people["ward.seal"]

    @property
    def anchor(self) -> Ed25519Verifier:
        return self.keys.log.verifier

    def results(self, story: str) -> list[str]:
        state = self.parts.dossiers.state(self.codes[story])
        assert state is not None
        return sorted(state.results)

    def document(self, story: str, number: str) -> bytes:
        """The bytes whose SHA-256 the scenario recorded as the result document."""
        label = f"{self.codes[story]}/{number}"
        assert (
            digest(label)
            == self.parts.dossiers.state(self.codes[story])
            .results[  # type: ignore[union-attr]
                number
            ]
            .document_hash
        )
        return label.encode()

    def close(self) -> None:
        self.backend.close()


def open_world(directory: Path) -> World:
    people = cast()
    keys = DemoKeys.generate(people)
    catalogue = load_catalogue()
    backend = open_backend(f"sqlite:///{directory / 'seal.sqlite'}", pool_size=2)
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities=keys.authorities(),
        policy=DossierPolicy(catalogue),
        log_keys={keys.log.signer.key_id: keys.log.signer.public_key},
    )
    store.append([e.record for e in registry_events(keys, people)])
    service = DossierService(
        store,
        catalogue=catalogue,
        calendar=load_calendar(),
        signer_for=keys.people.__getitem__,
        clock_us=lambda: NOW_US,
    )
    office = Office(service, people)
    stories: dict[str, Scenario] = {
        "valid": birth_on_time,
        "revoked": audited_and_revoked,
        "corrected": extract_paid_and_corrected,
    }
    codes = {}
    for i, (story, scenario) in enumerate(stories.items(), start=1):
        code = f"{WARD}-260105-{i:04d}"
        scenario(office, code, monday_morning(1) + i * 17 * MINUTE)
        codes[story] = code
    log = MerkleLog(backend)
    log.integrate()
    checkpoints = Checkpoints(log, signer=keys.log, commits=IndexCommits(store, log))
    checkpoints.sign(now_us=NOW_US)
    parts = SealParts(service, log, checkpoints, KeyRegistry(backend))
    seal_backend = LedgerSealBackend(parts, log_signer=keys.log, now_us=NOW_US)
    return World(backend, parts, keys, seal_backend, codes)
