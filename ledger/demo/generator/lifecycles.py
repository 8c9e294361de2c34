"""The lifecycles a generated dossier can follow, clean ones and planted violations.

Each lifecycle drives one dossier through the dossier service as the agency's
officials (:class:`ledger.demo.scenarios.Office`), with every step timed in
*working* time on the shipped calendar: a dossier received before Tết and due
after it is handled across the holiday, as the law counts it. A clean
lifecycle must give no post-audit finding; a planted one gives exactly the
rules it names (the tests check both against the real rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.demo.generator.hanoi import FEE_PAYERS
from ledger.demo.office import HOUR, MINUTE, Office, digest
from ledger.domain import commands as cmd

RESULT_TYPES = {
    "1.001193": ("KS", "birth_certificate"),
    "1.000894": ("KH", "marriage_certificate"),
    "2.000635": ("TL", "civil_status_extract"),
    "2.000815": ("CT", "certified_copy"),
    "1.014027": ("TCXH", "social_assistance_decision"),
    "3.000333": ("LLTP", "criminal_record_certificate"),
    "1.004194": ("TT", "temporary_residence"),
    "1.004222": ("TR", "permanent_residence"),
    "2.000200": ("CC", "identity_card"),
    "1.001456": ("HC", "passport"),
    "X.ENT001": ("DN", "enterprise_registration_certificate"),
    "X.CON001": ("GPXD", "construction_permit"),
    "X.CON002": ("GPXD", "construction_permit"),
}
DEPARTMENTS = {"1.004194": "QLHC", "1.004222": "QLHC", "3.000333": "LLTP", "2.000200": "QLHC"}
CHANNELS = ("vneid", "vneid", "kho_dldt", "email")
WORKING_DAY_MIN = 8 * 60


@dataclass(frozen=True, slots=True)
class Story:
    lifecycle: str
    planted: tuple[str, ...] = ()  # the rule ids this dossier must be found by


@dataclass(frozen=True, slots=True)
class Case:
    """One dossier to write: who, what, when."""

    code: str
    procedure: str
    agency: str
    arrival_us: int
    lifecycle: str
    transfer_to: str = ""  # the agency a transfer lifecycle asks
    variant: int = 0  # a seeded choice inside the lifecycle (delivery channel, …)


def later(o: Office, t: int, minutes: float) -> int:
    """``minutes`` of working time after ``t`` on the office's calendar."""
    return o.service.calendar.add_working_duration(t, int(minutes * MINUTE))


def _number(c: Case) -> str:
    return f"{RESULT_TYPES[c.procedure][0]}-{c.code[-6:]}"


def intake(o: Office, c: Case, *, assign_after: float = 15) -> tuple[int, int]:
    """Submit online, digitise, receive, hand to the handler: (last event time, due)."""
    o.open(c.code, c.procedure, c.agency, f"{c.code} applicant", at=c.arrival_us)
    parts = len(o.service.catalogue.get(c.procedure).component_codes)
    received = later(o, c.arrival_us, 5 * parts + 20)
    o.receive(c.code, at=received)
    assigned = later(o, received, assign_after)
    o.assign(c.code, department=DEPARTMENTS.get(c.procedure, "TP"), at=assigned)
    due = o.state(c.code).due_us
    if due is None:  # reception fixes it for every catalogue procedure
        raise RuntimeError(f"{c.code} has no due date after its reception")
    return assigned, due


def finish(o: Office, c: Case, after: int, *, at: int | None = None) -> int:
    """Check, (fee), sign the result with the seal and deliver it: the delivery time."""
    staff = o.staff[c.agency]
    step = later(o, after, 20)
    o.do(c.code, cmd.complete_step(o.state(c.code), step="thẩm định"), f"{staff}.handler", at=step)
    if c.procedure in FEE_PAYERS:
        step = _pay(o, c, step, 8000)
    result = max(later(o, step, 30), at or 0)
    o.resolve(c.code, _number(c), RESULT_TYPES[c.procedure][1], at=result)
    delivered = later(o, result, 10)
    channel = CHANNELS[c.variant % len(CHANNELS)]
    o.deliver(c.code, _number(c), at=delivered, channel=channel)
    return delivered


def _pay(o: Office, c: Case, t: int, amount: int) -> int:
    staff = o.staff[c.agency]
    o.do(c.code, cmd.request_fee(o.state(c.code), amount_vnd=amount), f"{staff}.handler", at=t)
    paid = later(o, t, 5)
    o.do(
        c.code,
        cmd.record_payment(
            o.state(c.code),
            amount_vnd=amount,
            receipt_ref=f"BL-{c.code[-6:]}",
            due_us=o.service.resumed_due(o.state(c.code), paid),
            method="online" if c.variant % 3 else "counter",
        ),
        f"{staff}.payments",
        at=paid,
    )
    return paid


def on_time(o: Office, c: Case) -> Story:
    assigned, _ = intake(o, c)
    finish(o, c, assigned)
    return Story("on_time")


def supplement(o: Office, c: Case) -> Story:
    """One supplement request (the legal clock pauses), then on time."""
    assigned, _ = intake(o, c)
    item = sorted(o.service.catalogue.get(c.procedure).component_codes)[-1]
    asked = later(o, assigned, 60)
    o.do(
        c.code,
        cmd.request_supplement(o.state(c.code), items=[item], reasons=["Bản chụp bị mờ"]),
        f"{o.staff[c.agency]}.handler",
        at=asked,
    )
    staff = o.staff[c.agency]
    back = later(o, asked, 2 * WORKING_DAY_MIN)
    o.service.receive_supplement(
        c.code,
        actor=o.people[f"{staff}.reception"].actor,
        keys=[f"{staff}.reception"],
        items=[item],
        now_us=back,
    )
    finish(o, c, later(o, back, 30))
    return Story("supplement")


def apology(o: Office, c: Case, *, miss_new_date: bool = False) -> Story:
    """An apology with a new date before the due date, then a late result by the new date
    (or, planted, after it)."""
    assigned, due = intake(o, c)
    staff = o.staff[c.agency]
    asked = max(due - 3 * HOUR, later(o, assigned, 10))
    new_due = o.service.calendar.add_working_time(due, 3, "working_days")
    o.do(
        c.code,
        cmd.apologize_for_delay(
            o.state(c.code), reason="Chờ xác minh thông tin", new_due_us=new_due, now_us=asked
        ),
        f"{staff}.leader",
        at=asked,
        cosign=f"{staff}.seal",
    )
    result_at = later(o, new_due, 4 * 60) if miss_new_date else later(o, due, WORKING_DAY_MIN)
    finish(o, c, asked, at=result_at)
    if miss_new_date:
        return Story("planted_new_date_missed", ("rule.apology_misuse",))
    return Story("apology")


def transfer(o: Office, c: Case) -> Story:
    """An inter-agency step: sent, acknowledged, answered within its allowance."""
    assigned, _ = intake(o, c)
    to = o.staff[c.transfer_to]
    sent = later(o, assigned, 30)
    o.do(
        c.code,
        cmd.transfer_to_agency(
            o.state(c.code), to_agency=c.transfer_to, step="xác minh", allowance_hours=24
        ),
        f"{o.staff[c.agency]}.handler",
        at=sent,
    )
    acked = later(o, sent, 30)
    o.do(c.code, cmd.acknowledge_transfer(o.state(c.code), agency=c.transfer_to),
         f"{to}.handler", at=acked)  # fmt: skip
    answered = later(o, acked, 4 * 60)
    o.do(
        c.code,
        cmd.return_transfer(o.state(c.code), agency=c.transfer_to, outcome="đã xác minh"),
        f"{to}.handler.2",
        at=answered,
    )
    finish(o, c, answered)
    return Story("transfer")


def refused(o: Office, c: Case) -> Story:
    o.open(c.code, c.procedure, c.agency, f"{c.code} applicant", at=c.arrival_us)
    o.do(
        c.code,
        cmd.refuse_reception(o.state(c.code), reasons=["Hồ sơ không thuộc thẩm quyền"]),
        f"{o.staff[c.agency]}.reception",
        at=later(o, c.arrival_us, 45),
    )
    return Story("refused")


def withdrawn(o: Office, c: Case) -> Story:
    assigned, _ = intake(o, c)
    asked = later(o, assigned, 40)
    o.do(c.code, cmd.request_withdrawal(o.state(c.code), reason="Không còn nhu cầu"), "portal",
         at=asked)  # fmt: skip
    o.do(
        c.code,
        cmd.accept_withdrawal(o.state(c.code)),
        f"{o.staff[c.agency]}.reception",
        at=later(o, asked, 60),
    )
    return Story("withdrawn")


def post_audit(o: Office, c: Case, *, revoke_after_days: float | None) -> Story:
    """Resolved, then sampled by the inspectorate: clean, revoked in time, or (planted)
    revoked long after the finding called for it."""
    assigned, _ = intake(o, c)
    delivered = finish(o, c, assigned)
    audit = f"HK-{c.code[-6:]}"
    opened = later(o, delivered, 5 * WORKING_DAY_MIN)
    o.do(c.code, cmd.open_audit(o.state(c.code), audit=audit, basis="sampled"), "inspector",
         at=opened)  # fmt: skip
    if revoke_after_days is None:
        o.do(
            c.code,
            cmd.conclude_audit(o.state(c.code), audit=audit, conclusion="Không phát hiện sai phạm"),
            "inspector.2",
            at=later(o, opened, WORKING_DAY_MIN),
        )
        return Story("audited_clean")
    found = later(o, opened, 2 * WORKING_DAY_MIN)
    o.do(
        c.code,
        cmd.record_finding(
            o.state(c.code),
            audit=audit,
            finding="false_self_declaration",
            severity="major",
            detail="Giấy tờ không khớp dữ liệu gốc",
            revocation_due=True,
        ),
        "inspector",
        at=found,
    )
    staff = o.staff[c.agency]
    revoked = later(o, found, revoke_after_days * WORKING_DAY_MIN)
    o.do(
        c.code,
        cmd.revoke_result(
            o.state(c.code),
            result_number=_number(c),
            decision_ref=f"QĐ-{c.code[-6:]}",
            reason="Kết luận hậu kiểm",
        ),
        f"{staff}.leader",
        at=revoked,
        cosign=f"{staff}.seal",
    )
    o.do(c.code, cmd.conclude_audit(o.state(c.code), audit=audit, conclusion="Thu hồi kết quả"),
         "inspector", at=later(o, revoked, 30))  # fmt: skip
    if revoke_after_days > 5:
        return Story("planted_revocation_overdue", ("rule.revocation_overdue",))
    return Story("revoked_after_audit")


def corrected(o: Office, c: Case) -> Story:
    """Resolved, then a superseding corrected result (Decree 30/2020 correction)."""
    assigned, _ = intake(o, c)
    delivered = finish(o, c, assigned)
    staff, number = o.staff[c.agency], _number(c)
    o.do(
        c.code,
        cmd.correct_result(
            o.state(c.code),
            supersedes=number,
            result_number=f"{number}a",
            document_hash=digest(f"{c.code}/{number}a"),
            reason="Sai chính tả tên nơi sinh",
        ),
        f"{staff}.leader",
        at=later(o, delivered, 2 * WORKING_DAY_MIN),
        cosign=f"{staff}.seal",
    )
    return Story("corrected")


def late_without_apology(o: Office, c: Case) -> Story:
    assigned, due = intake(o, c)
    finish(o, c, assigned, at=later(o, due, 2 * WORKING_DAY_MIN))
    return Story("planted_late_without_apology", ("rule.late_without_apology",))


def handover_late(o: Office, c: Case) -> Story:
    assigned, _ = intake(o, c, assign_after=2 * WORKING_DAY_MIN)
    finish(o, c, assigned)
    return Story("planted_handover_late", ("rule.handover_late",))


def paper_copy_without_basis(o: Office, c: Case) -> Story:
    assigned, _ = intake(o, c)
    delivered = finish(o, c, assigned)
    o.do(
        c.code,
        cmd.issue_paper_copy(o.state(c.code), result_number=_number(c), basis="legal_requirement"),
        f"{o.staff[c.agency]}.reception",
        at=later(o, delivered, 60),
    )
    return Story("planted_paper_copy_without_basis", ("rule.paper_copy_without_basis",))


def fee_on_exempt(o: Office, c: Case) -> Story:
    assigned, _ = intake(o, c)
    paid = _pay(o, c, later(o, assigned, 10), 50_000)
    finish(o, c, paid)
    return Story("planted_fee_on_exempt_procedure", ("rule.fee_on_exempt_procedure",))


Lifecycle = Callable[[Office, Case], Story]

CLEAN: dict[str, Lifecycle] = {
    "on_time": on_time,
    "supplement": supplement,
    "apology": apology,
    "transfer": transfer,
    "refused": refused,
    "withdrawn": withdrawn,
    "audited_clean": lambda o, c: post_audit(o, c, revoke_after_days=None),
    "revoked_after_audit": lambda o, c: post_audit(o, c, revoke_after_days=1),
    "corrected": corrected,
}
PLANTED: dict[str, tuple[str, Lifecycle]] = {
    # lifecycle name → (the procedure it is planted on, the lifecycle)
    "planted_late_without_apology": ("1.004222", late_without_apology),
    "planted_handover_late": ("1.001456", handover_late),
    "planted_paper_copy_without_basis": ("1.004194", paper_copy_without_basis),
    "planted_fee_on_exempt_procedure": ("1.001193", fee_on_exempt),
    "planted_new_date_missed": ("2.000200", lambda o, c: apology(o, c, miss_new_date=True)),
    "planted_revocation_overdue": ("1.000894", lambda o, c: post_audit(o, c, revoke_after_days=8)),
}
LIFECYCLES: dict[str, Lifecycle] = {**CLEAN, **{k: v[1] for k, v in PLANTED.items()}}
