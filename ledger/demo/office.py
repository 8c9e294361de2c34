"""The demo's cast and office: three fictional Hanoi agencies, their officials and keys,
a simulated clock, and :class:`Office`, which runs the dossier service's commands as
those officials (every event passes the store's lifecycle checks).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime

from ledger.core.signing import Signer
from ledger.demo.people import synthetic_person
from ledger.domain import commands as cmd
from ledger.domain.calendar import VN_TZ, instant
from ledger.domain.state import DossierState
from ledger.privacy.records import PersonalRecord
from ledger.privacy.service import PersonalData, Reader
from ledger.services.dossiers import DossierService

WARD = "000.39.05.H26"  # UBND phường (fictional code)
POLICE = "000.60.02.H26"  # Công an thành phố, phòng lý lịch tư pháp (fictional)
JUSTICE = "000.30.01.H26"  # Sở Tư pháp (fictional)
MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True, slots=True)
class Official:
    actor: str
    roles: frozenset[str]
    agency: str


def cast() -> dict[str, Official]:
    """Everyone who signs in the demo, by keystore-style name."""
    people: dict[str, Official] = {
        "portal": Official("portal:dichvucong", frozenset({"portal"}), "NATIONAL"),
        "inspector": Official("inspector:thanhtra-01", frozenset({"inspector"}), "H26.THANHTRA"),
    }
    for short, agency in (("ward", WARD), ("police", POLICE), ("justice", JUSTICE)):
        people[f"{short}.reception"] = Official(
            f"{short}:tiepnhan-01", frozenset({"reception"}), agency
        )
        people[f"{short}.handler"] = Official(
            f"{short}:chuyenvien-01", frozenset({"handler"}), agency
        )
        people[f"{short}.leader"] = Official(f"{short}:lanhdao-01", frozenset({"leader"}), agency)
        people[f"{short}.seal"] = Official(f"agency:{agency}", frozenset({"agency_seal"}), agency)
    people["ward.payments"] = Official("system:thanhtoan-phuong", frozenset({"system"}), WARD)
    people["access"] = Official("system:nhatky-truycap", frozenset({"system"}), "H26.PVHCC")
    return people


def generate_keys(people: dict[str, Official]) -> dict[str, Signer]:
    """Fresh keys for one run (randomness at the edge; never written anywhere)."""
    return {name: Signer(os.urandom(32)) for name in people}


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


class SimClock:
    """The demo's simulated time: what the service's own clock reads (access times)."""

    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Office:
    """Runs commands through the dossier service as named officials, on a simulated clock."""

    def __init__(
        self,
        service: DossierService,
        people: dict[str, Official],
        privacy: PersonalData | None = None,
        clock: SimClock | None = None,
        staff: dict[str, str] | None = None,
    ) -> None:
        self.service = service
        self.staff = STAFF if staff is None else staff  # agency code → keystore-name prefix
        self.people = people
        self.privacy = privacy
        self.clock = clock or SimClock()
        self.applicants: dict[str, PersonalRecord] = {}  # dossier code → synthetic record

    def read_personal(self, code: str, who: str, purpose: str, *, role: str = "") -> None:
        """An official opens the applicant's personal data (logged by the service)."""
        if self.privacy is None:
            return
        official = self.people[who]
        reader = Reader(official.actor, official.agency, role or min(official.roles))
        self.privacy.read(reader, dossier=code, purpose=purpose)

    def do(self, code: str, draft: cmd.Draft, who: str, *, at: int, cosign: str = "") -> None:
        names = [who, cosign] if cosign else [who]
        self.clock.now = at
        self.service.execute(code, draft, actor=self.people[who].actor, keys=names, time_us=at)

    def state(self, code: str) -> DossierState:
        return self.service.existing(code)

    def open(self, code: str, procedure: str, agency: str, applicant: str, *, at: int) -> None:
        """Submit online and digitise every required component (signed by reception).

        The applicant is a synthetic citizen; with personal data enabled their record
        goes to the vault and the submission carries only the two commitments."""
        subject, personal = digest(applicant), None
        if self.privacy is not None:
            record = self.applicants[code] = synthetic_person(applicant)
            registered = self.privacy.register(code, record)
            subject, personal = registered.applicant, registered.personal
        self.do(
            code,
            cmd.submit_dossier(
                procedure=procedure,
                agency=agency,
                channel="online",
                applicant=subject,
                personal=personal,
            ),
            "portal",
            at=at,
        )
        staff = self.staff[agency]
        components = self.service.catalogue.get(procedure).component_codes
        for i, component in enumerate(sorted(components)):
            self.do(
                code,
                cmd.digitize_input(
                    self.state(code),
                    component=component,
                    document_hash=digest(f"{code}/{component}"),
                    source="scanned",
                ),
                f"{staff}.reception",
                at=at + (i + 1) * 5 * MINUTE,
            )

    def receive(self, code: str, *, at: int) -> None:
        staff = self.staff[self.state(code).agency]
        self.service.receive(
            code,
            actor=self.people[f"{staff}.reception"].actor,
            keys=[f"{staff}.reception"],
            receipt_hash=digest(f"{code}/form01"),
            received_us=at,
        )
        self.read_personal(code, f"{staff}.reception", "reception")

    def assign(self, code: str, *, department: str, at: int) -> None:
        """Reception hands the dossier to the agency's handler."""
        staff = self.staff[self.state(code).agency]
        handler = self.people[f"{staff}.handler"].actor
        self.do(
            code,
            cmd.assign_handler(self.state(code), handler=handler, department=department),
            f"{staff}.reception",
            at=at,
        )

    def resolve(
        self,
        code: str,
        number: str,
        kind: str,
        *,
        at: int,
        medium: str = "electronic",
    ) -> None:
        staff = self.staff[self.state(code).agency]
        self.read_personal(code, f"{staff}.leader", "result")
        self.do(
            code,
            cmd.issue_result(
                self.state(code),
                result_number=number,
                result_type=kind,
                document_hash=digest(f"{code}/{number}"),
                medium=medium,
            ),
            f"{staff}.leader",
            at=at,
            cosign=f"{staff}.seal",
        )

    def deliver(self, code: str, number: str, *, at: int, channel: str = "vneid") -> None:
        staff = self.staff[self.state(code).agency]
        self.do(
            code,
            cmd.deliver_result(self.state(code), result_number=number, channel=channel),
            f"{staff}.reception",
            at=at,
        )


STAFF = {WARD: "ward", POLICE: "police", JUSTICE: "justice"}
"""The demo cast's keystore-name prefix of each agency's officials."""


def monday_morning(week: int) -> int:
    """08:00 Hanoi time on the Monday of week ``week`` after 2026-03-02."""
    return instant(datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)) + week * 7 * DAY
