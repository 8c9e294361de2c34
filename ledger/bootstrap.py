"""The composition root: build every I/O dependency from :class:`Settings`, once.

Tests and commands call :func:`bootstrap` with explicit settings (and, where
needed, an opened keystore or fixed clock); nothing here runs at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledger.core.checkpoint import AnyCosignatureVerifier, parse_cosignature_vkey
from ledger.core.errors import OutOfServiceError
from ledger.core.note import Ed25519NoteSigner, parse_ed25519_vkey
from ledger.core.signing import KeyId, PublicKey, Signer, key_id
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.calendar_data import load_calendar
from ledger.domain.procedures import Catalogue
from ledger.domain.procedures_data import load_catalogue
from ledger.privacy.access_log import AccessLog
from ledger.privacy.crypto import MasterKey, MasterKeys
from ledger.privacy.service import PersonalData
from ledger.privacy.vault import Vault
from ledger.services.dossiers import DossierPolicy, DossierService
from ledger.services.witnessing import WitnessClient, WitnessEndpoint
from ledger.settings import Settings, secret_bytes
from ledger.storage.checkpoints import Checkpoints
from ledger.storage.commits import IndexCommits
from ledger.storage.custodian import Custodian
from ledger.storage.database import Backend, open_backend
from ledger.storage.index_store import IndexStore
from ledger.storage.keys import KeyRegistry
from ledger.storage.keystore import Keystore
from ledger.storage.merkle_log import MerkleLog
from ledger.storage.signer_state import SignerMemory
from ledger.storage.sql import Sql
from ledger.storage.store import EventStore
from projections.rule_findings import Auditors


def wall_clock_us() -> int:
    return time.time_ns() // 1000


@dataclass
class Ledger:
    """Everything a command or the API needs, wired once."""

    settings: Settings
    backend: Backend
    store: EventStore
    log: MerkleLog
    checkpoints: Checkpoints
    keys: KeyRegistry
    custodian: Custodian | None
    keystore: Keystore | None
    clock_us: Callable[[], int]
    catalogue: Catalogue
    calendar: WorkingCalendar
    dossiers: DossierService
    privacy: PersonalData
    replica: Backend | None = None  # HOSO_READ_URL: a standby the API reads from

    def close(self) -> None:
        self.backend.close()
        if self.replica is not None:
            self.replica.close()

    def read_sql(self, *, primary: bool = False) -> Sql:
        """Where a read goes: the standby when there is one, unless ``primary`` is asked."""
        if primary or self.replica is None:
            return self.backend.sql
        return self.replica.sql

    def read_log(self, *, primary: bool = False) -> MerkleLog:
        """The Merkle log to prove from: the standby's when there is one (see read_sql)."""
        if primary or self.replica is None:
            return self.log
        return MerkleLog(self.replica)

    def signing_keys(self) -> Keystore:
        """The open keystore (``keystore.closed`` when the ledger was opened without one)."""
        if self.keystore is None:
            raise KeystoreClosed("open the keystore to sign (HOSO_KEYSTORE_PASSPHRASE)")
        return self.keystore

    def custodial(self) -> Custodian:
        """The custodial signer (``keystore.closed`` without an open keystore)."""
        if self.custodian is None:
            raise KeystoreClosed("open the keystore to sign (HOSO_KEYSTORE_PASSPHRASE)")
        return self.custodian

    def index_store(self) -> IndexStore:
        """The stream index the checkpoints commit (one builder: its trie cache is its own)."""
        commits = self.checkpoints.commits
        return IndexStore(self.backend) if commits is None else commits.index

    def witness_clients(self) -> list[WitnessClient]:
        """A client for each witness in HOSO_WITNESS_URLS, over this ledger's checkpoints."""
        return [
            WitnessClient(e, self.checkpoints, timeout_s=self.settings.witness_timeout_s)
            for e in witness_endpoints(self.settings)
        ]

    def auditors(self) -> Auditors:
        """The post-audit rules over this ledger, for the rule-findings projection."""
        return Auditors(
            dossiers=lambda codes, now_us: self.dossiers.audit(codes, now_us=now_us),
            privacy=self.privacy.audit,
            codes=self.dossiers.codes,
        )


class KeystoreClosed(OutOfServiceError):
    """Signing was asked for, but no keystore is open."""

    check = "keystore.closed"


def _no_keystore(name: str) -> Signer:
    raise KeystoreClosed("open the keystore to sign (HOSO_KEYSTORE_PASSPHRASE)", found=name)


def authorities(settings: Settings) -> dict[KeyId, PublicKey]:
    """The configured authority keys, by hoso key id."""
    keys = [parse_ed25519_vkey(v).public_key for v in settings.authority_keys]
    return {key_id(k): k for k in keys}


def witnesses(settings: Settings) -> list[AnyCosignatureVerifier]:
    """The witnesses whose cosignatures the ledger accepts: HOSO_WITNESS_KEYS and the
    keys of HOSO_WITNESS_URLS."""
    keys = [parse_cosignature_vkey(v) for v in settings.witness_keys]
    for endpoint in witness_endpoints(settings):
        if endpoint.key not in keys:
            keys.append(endpoint.key)
    return keys


def signer_state_path(settings: Settings) -> Path:
    """Where the checkpoint signer remembers its last checkpoint (HOSO_SIGNER_STATE_PATH,
    default ``checkpoint-signer.note`` beside the keystore)."""
    if settings.signer_state_path is not None:
        return settings.signer_state_path
    return settings.keystore_path.with_name("checkpoint-signer.note")


def witness_endpoints(settings: Settings) -> list[WitnessEndpoint]:
    """The witnesses the ledger submits its checkpoints to (HOSO_WITNESS_URLS)."""
    return [WitnessEndpoint(w.url, parse_cosignature_vkey(w.vkey)) for w in settings.witness_urls]


def bootstrap(
    settings: Settings,
    *,
    keystore: Keystore | None = None,
    clock_us: Callable[[], int] = wall_clock_us,
) -> Ledger:
    """Open the database and wire the ledger. Without a keystore it is read/verify-only."""
    catalogue = load_catalogue(settings.catalogue_path)
    calendar = load_calendar(settings.calendar_path)
    backend = open_backend(
        settings.database_url,
        pool_size=settings.pool_size,
        timeout_s=settings.store_timeout_s,
        attempts=settings.store_attempts,
    )
    log_signer = None
    if keystore is not None and settings.log_key_name in keystore:
        log_signer = Ed25519NoteSigner(settings.origin, keystore.signer(settings.log_key_name))
    store = EventStore(
        backend,
        origin=settings.origin,
        authorities=authorities(settings),
        policy=DossierPolicy(catalogue),
        log_keys={}
        if log_signer is None
        else {log_signer.signer.key_id: log_signer.signer.public_key},
    )
    dossiers = DossierService(
        store,
        catalogue=catalogue,
        calendar=calendar,
        signer_for=_no_keystore if keystore is None else keystore.signer,
        clock_us=clock_us,
    )
    custodian = None if keystore is None else Custodian(store, keystore.signer, clock_us=clock_us)
    log = MerkleLog(backend)
    replica = None
    if settings.read_url is not None:
        replica = open_backend(
            settings.read_url,
            pool_size=settings.pool_size,
            timeout_s=settings.store_timeout_s,
            attempts=settings.store_attempts,
            create=False,
        )
    return Ledger(
        replica=replica,
        settings=settings,
        backend=backend,
        store=store,
        log=log,
        checkpoints=Checkpoints(
            log,
            signer=log_signer,
            witnesses=witnesses(settings),
            commits=IndexCommits(store, log),
            memory=None
            if log_signer is None
            else SignerMemory(signer_state_path(settings), log_signer.verifier),
        ),
        keys=KeyRegistry(backend),
        custodian=custodian,
        keystore=keystore,
        clock_us=clock_us,
        catalogue=catalogue,
        calendar=calendar,
        dossiers=dossiers,
        privacy=personal_data(settings, backend, dossiers, keystore, custodian, clock_us),
    )


def personal_data(  # noqa: PLR0917 (the composition root's wiring)
    settings: Settings,
    backend: Backend,
    dossiers: DossierService,
    keystore: Keystore | None,
    custodian: Custodian | None,
    clock_us: Callable[[], int],
) -> PersonalData:
    """The vault and access log, keyed from settings (docs/privacy.md §Keys)."""
    master = MasterKeys(
        MasterKey(secret_bytes(settings.vault_key, name="HOSO_VAULT_KEY")),
        *(
            MasterKey(secret_bytes(old, name="HOSO_VAULT_OLD_KEYS"))
            for old in settings.vault_old_keys
        ),
    )
    vault = Vault(
        backend.sql,
        keys=master,
        index_key=secret_bytes(settings.index_key, name="HOSO_INDEX_KEY"),
        clock_us=clock_us,
    )
    signer = None
    if keystore is not None and settings.access_key_name in keystore:
        signer = keystore.signer(settings.access_key_name)
    access = AccessLog(backend.sql, dossiers.store, clock_us=clock_us, signer=signer)
    return PersonalData(
        vault,
        access,
        dossiers,
        clock_us=clock_us,
        retention_us=settings.retention_days_without_result * 86_400_000_000,
        custodian=custodian,
    )
