"""Realistic dossier lifecycles for ``hoso demo``: who does what, and when.

Three fictional Hanoi agencies (a ward People's Committee, the city police's
judicial-records office, the Department of Justice) handle nine dossiers
through the dossier service, so every event passes the store's lifecycle
checks. Three of them carry planted violations that the post-audit rules must
find (a late result with no apology and a slow hand-over; a paper copy claimed
as legally required where the procedure says not; a revocation after a
post-audit finding is legal and must *not* be flagged). Applicants appear only
as salted commitments (here: hashes of a synthetic label).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ledger.core.signing import Signer
from ledger.demo.people import synthetic_person
from ledger.domain import commands as cmd
from ledger.domain.calendar import VN_TZ, instant
from ledger.domain.dossier import DossierState
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
        state = self.service.state(code)
        assert state is not None  # noqa: S101 (the scenario submitted it)
        return state

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


Scenario = Callable[[Office, str, int], str]
"""(office, dossier code, start time) → a one-line story of what happened."""


def birth_on_time(o: Office, code: str, t: int) -> str:
    o.open(code, "1.001193", WARD, f"{code} parent", at=t)
    o.receive(code, at=t + 30 * MINUTE)
    o.assign(code, department="TP", at=t + 40 * MINUTE)
    o.do(
        code, cmd.complete_step(o.state(code), step="thẩm định"), "ward.handler", at=t + 90 * MINUTE
    )
    o.resolve(code, f"KS-{code[-4:]}", "birth_certificate", at=t + 2 * HOUR)
    o.deliver(code, f"KS-{code[-4:]}", at=t + 2 * HOUR + 10 * MINUTE)
    return "birth registration, received and resolved the same morning, delivered to VNeID"


def residence_with_supplement(o: Office, code: str, t: int) -> str:
    o.open(code, "1.004194", POLICE, f"{code} tenant", at=t)
    o.receive(code, at=t + HOUR)
    o.assign(code, department="QLHC", at=t + 2 * HOUR)
    o.do(
        code,
        cmd.request_supplement(
            o.state(code),
            items=["GIAY_TO_CHO_O_HOP_PHAP"],
            reasons=["Hợp đồng thuê nhà chưa có chữ ký bên cho thuê"],
        ),
        "police.handler",
        at=t + DAY,
    )
    o.service.receive_supplement(
        code,
        actor="police:tiepnhan-01",
        keys=["police.reception"],
        items=["GIAY_TO_CHO_O_HOP_PHAP"],
        now_us=t + 3 * DAY,
    )
    o.resolve(code, f"TT-{code[-4:]}", "temporary_residence", at=t + 4 * DAY)
    o.deliver(code, f"TT-{code[-4:]}", at=t + 4 * DAY + HOUR, channel="kho_dldt")
    return "temporary residence, one supplement (clock paused two days), resolved on time"


def criminal_record_interagency(o: Office, code: str, t: int) -> str:
    o.open(code, "3.000333", POLICE, f"{code} applicant", at=t)
    o.receive(code, at=t + HOUR)
    due = o.state(code).due_us or t
    o.assign(code, department="LLTP", at=t + 2 * HOUR)
    o.do(
        code,
        cmd.transfer_to_agency(
            o.state(code), to_agency=JUSTICE, step="tra cứu hộ tịch", allowance_hours=40
        ),
        "police.handler",
        at=t + 3 * HOUR,
    )
    o.do(
        code,
        cmd.acknowledge_transfer(o.state(code), agency=JUSTICE),
        "justice.handler",
        at=t + 4 * HOUR,
    )
    o.do(
        code,
        cmd.return_transfer(o.state(code), agency=JUSTICE, outcome="không có án tích"),
        "justice.handler",
        at=t + 2 * DAY,
    )
    o.do(
        code,
        cmd.apologize_for_delay(
            o.state(code),
            reason="Chờ kết quả xác minh liên tỉnh",
            new_due_us=due + 3 * DAY,
            now_us=due - DAY,
        ),
        "police.leader",
        at=due - DAY,
        cosign="police.seal",
    )
    o.resolve(code, f"LLTP-{code[-4:]}", "criminal_record_certificate", at=due + DAY)
    o.deliver(code, f"LLTP-{code[-4:]}", at=due + DAY + HOUR)
    return "criminal record: verified with the Department of Justice, apology before the due date"


def marriage_refused(o: Office, code: str, t: int) -> str:
    o.open(code, "1.000894", WARD, f"{code} couple", at=t)
    o.do(
        code,
        cmd.refuse_reception(
            o.state(code), reasons=["Một bên chưa đủ tuổi kết hôn theo luật định"]
        ),
        "ward.reception",
        at=t + HOUR,
    )
    return "marriage registration refused at reception, with reasons (Form 03)"


def copy_withdrawn(o: Office, code: str, t: int) -> str:
    o.open(code, "2.000815", WARD, f"{code} requester", at=t)
    o.receive(code, at=t + 20 * MINUTE)
    o.assign(code, department="TP", at=t + 30 * MINUTE)
    o.do(
        code,
        cmd.request_withdrawal(o.state(code), reason="Không còn nhu cầu"),
        "portal",
        at=t + HOUR,
    )
    o.do(code, cmd.accept_withdrawal(o.state(code)), "ward.reception", at=t + 2 * HOUR)
    return "certified copy withdrawn by the citizen (status 7)"


def permanent_residence_late(o: Office, code: str, t: int) -> str:
    o.open(code, "1.004222", POLICE, f"{code} resident", at=t)
    o.receive(code, at=t + HOUR)
    due = o.state(code).due_us or t
    o.assign(code, department="QLHC", at=t + 3 * DAY)
    o.resolve(code, f"TR-{code[-4:]}", "permanent_residence", at=due + 2 * DAY)
    o.deliver(code, f"TR-{code[-4:]}", at=due + 2 * DAY + HOUR)
    return (
        "PLANTED: permanent residence handed over late and resolved after the due date, no apology"
    )


def paper_copy_without_basis(o: Office, code: str, t: int) -> str:
    o.open(code, "1.004194", POLICE, f"{code} tenant", at=t)
    o.receive(code, at=t + HOUR)
    o.assign(code, department="QLHC", at=t + 2 * HOUR)
    o.resolve(code, f"TT-{code[-4:]}", "temporary_residence", at=t + DAY)
    o.deliver(code, f"TT-{code[-4:]}", at=t + DAY + HOUR)
    o.do(
        code,
        cmd.issue_paper_copy(
            o.state(code), result_number=f"TT-{code[-4:]}", basis="legal_requirement"
        ),
        "police.reception",
        at=t + DAY + 2 * HOUR,
    )
    return "PLANTED: a paper copy claimed as legally required, which the procedure's data denies"


def audited_and_revoked(o: Office, code: str, t: int) -> str:
    o.open(code, "1.001193", WARD, f"{code} parent", at=t)
    o.receive(code, at=t + 30 * MINUTE)
    o.assign(code, department="TP", at=t + 40 * MINUTE)
    o.resolve(code, f"KS-{code[-4:]}", "birth_certificate", at=t + 3 * HOUR)
    o.deliver(code, f"KS-{code[-4:]}", at=t + 3 * HOUR + 5 * MINUTE)
    audit = f"HK-{code[-4:]}"
    o.do(
        code,
        cmd.open_audit(o.state(code), audit=audit, basis="sampled"),
        "inspector",
        at=t + 10 * DAY,
    )
    o.do(
        code,
        cmd.record_finding(
            o.state(code),
            audit=audit,
            finding="false_self_declaration",
            severity="major",
            detail="Giấy chứng sinh không khớp sổ bệnh viện",
            revocation_due=True,
        ),
        "inspector",
        at=t + 12 * DAY,
    )
    o.do(
        code,
        cmd.revoke_result(
            o.state(code),
            result_number=f"KS-{code[-4:]}",
            decision_ref=f"QĐ-{code[-4:]}/2026",
            reason="Kết luận hậu kiểm",
        ),
        "ward.leader",
        at=t + 13 * DAY,
        cosign="ward.seal",
    )
    o.do(
        code,
        cmd.conclude_audit(o.state(code), audit=audit, conclusion="Thu hồi kết quả"),
        "inspector",
        at=t + 13 * DAY + HOUR,
    )
    return "post-audit found a false declaration; the result was revoked in time"


def extract_paid_and_corrected(o: Office, code: str, t: int) -> str:
    o.open(code, "2.000635", WARD, f"{code} requester", at=t)
    o.receive(code, at=t + 15 * MINUTE)
    o.assign(code, department="TP", at=t + 20 * MINUTE)
    o.do(code, cmd.request_fee(o.state(code), amount_vnd=8000), "ward.handler", at=t + 30 * MINUTE)
    o.do(
        code,
        cmd.record_payment(o.state(code), amount_vnd=8000, receipt_ref=f"BL-{code[-4:]}"),
        "ward.payments",
        at=t + 35 * MINUTE,
    )
    number = f"TL-{code[-4:]}"
    o.resolve(code, number, "civil_status_extract", at=t + 2 * HOUR)
    o.deliver(code, number, at=t + 2 * HOUR + 10 * MINUTE, channel="email")
    o.do(
        code,
        cmd.correct_result(
            o.state(code),
            supersedes=number,
            result_number=f"{number}a",
            document_hash=digest(f"{code}/{number}a"),
            reason="Sai chính tả tên nơi sinh",
        ),
        "ward.leader",
        at=t + 2 * DAY,
        cosign="ward.seal",
    )
    return "civil-status extract: fee paid online, result corrected by a superseding version"


SCENARIOS: tuple[Scenario, ...] = (
    birth_on_time,
    residence_with_supplement,
    criminal_record_interagency,
    marriage_refused,
    copy_withdrawn,
    permanent_residence_late,
    paper_copy_without_basis,
    audited_and_revoked,
    extract_paid_and_corrected,
)
