"""Personal data as the rest of hoso uses it: register, read (logged), find, erase.

Every read by an official goes through :meth:`PersonalData.read` or
:meth:`PersonalData.find`, which refuse non-official roles and record an
access entry *before* returning anything. Scope (agency, assignment) is not
refused here but audited afterwards (``ledger.domain.privacy.audit_access``),
as in Estonia's data tracker: officials can do their job, and every read shows.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ledger.core.commitment import CommitmentMismatch, verify_commitment
from ledger.core.errors import (
    HosoError,
    RefusedError,
    StateConflict,
    UnavailableError,
    VerificationError,
)
from ledger.domain.lifecycle import ASSIGNED
from ledger.domain.privacy import (
    ACCESS_STREAM,
    PRIVACY_STREAM,
    PURPOSES,
    READER_ROLES,
    SUBJECT_ERASED,
    AccessEntry,
    Handled,
    access_entries,
    audit_access,
    audit_erasures,
    erasure,
    retention_blockers,
)
from ledger.domain.rules import RuleFinding
from ledger.domain.state import DossierState
from ledger.privacy.access_log import AccessLog
from ledger.privacy.records import APPLICANT_LABEL, PERSONAL_LABEL, PersonalRecord
from ledger.privacy.vault import Vault
from ledger.services.dossiers import DossierService
from ledger.storage.custodian import Custodian
from ledger.storage.store import Appended


class AccessRefused(RefusedError):
    """The reader may not read personal data at all (role), or for this purpose."""

    check = "privacy.access_refused"


class RetentionApplies(StateConflict):
    """Erasure refused: a dossier of the subject is still under a retention duty."""

    check = "privacy.retention"


@dataclass(slots=True)
class CommitmentReport:
    verified: int = 0
    erased: int = 0  # the data is gone by design: nothing to check
    missing: int = 0  # a commitment with no vault record at all
    failures: list[HosoError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reader:
    """An official reading personal data, as the key registry knows them."""

    actor: str
    agency: str
    role: str


@dataclass(frozen=True, slots=True)
class Registered:
    """What a submission records instead of the data: two commitments."""

    applicant: bytes
    personal: bytes


class PersonalData:
    def __init__(
        self,
        vault: Vault,
        access: AccessLog,
        dossiers: DossierService,
        *,
        clock_us: Callable[[], int],
        retention_us: int,
        custodian: Custodian | None = None,
    ) -> None:
        self.vault = vault
        self.access = access
        self.dossiers = dossiers
        self.clock_us = clock_us
        self.retention_us = retention_us
        self.custodian = custodian

    def register(self, code: str, record: PersonalRecord) -> Registered:
        """Put ``record`` in the vault for dossier ``code`` (before it is submitted)."""
        subject = self.vault.enroll(record)
        return Registered(subject, self.vault.deposit(subject, code, record))

    def read(self, reader: Reader, *, dossier: str, purpose: str) -> PersonalRecord:
        """The dossier applicant's record, checked against the ledger; the read is logged."""
        _check_reader(reader, purpose)
        state = self.dossiers.state(dossier)
        if state is None:
            raise AccessRefused("no dossier with this code", where=dossier, found=dossier)
        opened = self.vault.open(state.applicant, dossier)
        if state.personal is None or not hmac.compare_digest(opened.commitment, state.personal):
            raise CommitmentMismatch(
                "the vault's record is not the one the submission committed to",
                where=dossier,
                expected=state.personal,
                found=opened.commitment,
            )
        self._log(reader, state.applicant, dossier, purpose)
        return opened.record

    def find(self, reader: Reader, id_number: str, *, kind: str = "cccd") -> list[DossierState]:
        """The dossiers of the citizen with this id number (a logged ``search``)."""
        _check_reader(reader, "search")
        subject = self.vault.lookup(id_number, kind)
        if subject is None:
            return []
        self._log(reader, subject, "", "search")
        return self.dossiers_of(subject)

    def dossiers_of(self, subject: bytes) -> list[DossierState]:
        """The subject's dossiers (a scan; the projections' citizen index is the fast way)."""
        states = (self.dossiers.state(code) for code in self.dossiers.codes())
        return [s for s in states if s is not None and s.applicant == subject]

    def erase(
        self,
        subject: bytes,
        *,
        basis: str,
        request_hash: bytes,
        actor: str,
        keys: Sequence[str],
    ) -> Appended | None:
        """Record the erasure (signed), then destroy the data. Re-running finishes a
        destruction that was interrupted after the event was appended."""
        if self.vault.status(subject) is None:
            self.vault.erase(subject)  # raises SubjectUnknown
        states = self.dossiers_of(subject)
        done = self._erasure_event(subject)
        appended = None
        if not done:
            blockers = retention_blockers(
                states, now_us=self.clock_us(), retention_us=self.retention_us
            )
            if blockers:
                raise RetentionApplies(
                    "erasure refused: " + "; ".join(f"{code}: {why}" for code, why in blockers),
                    where=f"subject {subject[:8].hex()}",
                    expected="no dossier under a retention duty",
                    found=[code for code, _ in blockers],
                )
            if self.custodian is None:
                raise AccessRefused("erasure is signed: open the keystore", where="erase")
            appended = self.custodian.act(
                stream=PRIVACY_STREAM,
                event_type=SUBJECT_ERASED,
                actor=actor,
                payload={
                    "subject": subject,
                    "basis": basis,
                    "request": request_hash,
                    "dossiers": [s.code for s in states],
                },
                keys=keys,
            )
        self.vault.erase(subject)
        return appended

    def verify_commitments(self, reader: Reader) -> CommitmentReport:
        """An inspector's check that every vault record opens the commitments the
        signed submissions hold (each dossier's read is logged as an audit read)."""
        _check_reader(reader, "audit")
        report = CommitmentReport()
        for code in self.dossiers.codes():
            state = self.dossiers.state(code)
            if state is None or state.personal is None:
                continue
            status = self.vault.status(state.applicant)
            if status != "active":
                report.erased += status == "erased"
                report.missing += status is None
                continue
            self._log(reader, state.applicant, code, "audit")
            try:
                identity = self.vault.identity(state.applicant)
                opened = self.vault.open(state.applicant, code)
                verify_commitment(
                    state.applicant,
                    identity.salt,
                    APPLICANT_LABEL,
                    [identity.id_kind, identity.id_number],
                    where=f"{code} applicant",
                )
                verify_commitment(
                    state.personal,
                    opened.salt,
                    PERSONAL_LABEL,
                    opened.record.as_value(),
                    where=f"{code} personal",
                )
            except (VerificationError, UnavailableError) as err:
                report.failures.append(err)
            else:
                report.verified += 1
        return report

    def audit(self) -> list[RuleFinding]:
        """The personal-data rule findings over the whole ledger: reads outside the
        reader's scope, and erasures while a retention duty applied."""
        store = self.dossiers.store
        entries = [
            (e.body.stream, e.body.n, entry)
            for e in store.read_stream(ACCESS_STREAM)
            for entry in access_entries(e.body)
        ]
        handled: dict[str, Handled] = {}
        for code in self.dossiers.codes():
            history = self.dossiers.history(code)
            state = self.dossiers.state(code)
            if state is None:
                continue
            assignments = tuple(
                (r.body.time_us, str(r.body.payload["handler"]))
                for r in history
                if r.body.type == ASSIGNED
            )
            handled[code] = Handled(state, assignments)
        states_of: dict[bytes, list[DossierState]] = {}
        for h in handled.values():
            states_of.setdefault(h.state.applicant, []).append(h.state)
        erasures = [
            (e.body.stream, e.body.n, e.body.time_us, erasure(e.body)[0])
            for e in store.read_stream(PRIVACY_STREAM)
        ]
        return audit_access(entries, handled) + audit_erasures(
            erasures, states_of, retention_us=self.retention_us
        )

    def _erasure_event(self, subject: bytes) -> bool:
        return any(
            e.body.payload.get("subject") == subject
            for e in self.dossiers.store.read_stream(PRIVACY_STREAM)
        )

    def _log(self, reader: Reader, subject: bytes, dossier: str, purpose: str) -> None:
        self.access.record(
            AccessEntry(
                reader=reader.actor,
                agency=reader.agency,
                role=reader.role,
                subject=subject,
                dossier=dossier,
                purpose=purpose,
                time_us=self.clock_us(),
            )
        )


def _check_reader(reader: Reader, purpose: str) -> None:
    if reader.role not in READER_ROLES:
        raise AccessRefused(
            "only officials read personal data",
            where=reader.actor,
            expected=sorted(READER_ROLES),
            found=reader.role,
        )
    if purpose not in PURPOSES:
        raise AccessRefused(
            "unknown purpose", where=reader.actor, expected=sorted(PURPOSES), found=purpose
        )
    if purpose == "audit" and reader.role != "inspector":
        raise AccessRefused(
            "audit reads are for inspectors",
            where=reader.actor,
            expected="inspector",
            found=reader.role,
        )
