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

from collections.abc import Callable

from ledger.demo.office import DAY, HOUR, JUSTICE, MINUTE, POLICE, WARD, Office, digest
from ledger.domain import commands as cmd

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
        cmd.record_payment(
            o.state(code),
            amount_vnd=8000,
            receipt_ref=f"BL-{code[-4:]}",
            due_us=o.service.resumed_due(o.state(code), t + 35 * MINUTE),
            method="online",
        ),
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
