"""Post-audit rules: each violation is found, a clean history gives no finding."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from pathlib import Path

from ledger.domain import lifecycle as ev
from ledger.domain import rules
from ledger.domain.lifecycle import RULES
from ledger.domain.payloads import SCHEMAS
from ledger.domain.rules import (
    AuditContext,
    RuleFinding,
    audit_dossier,
    conduct,
    deadlines,
    electronic,
)
from ledger.domain.state import SignerInfo, format_time
from tests.domain.builder import (
    AGENCY,
    DAY,
    H32,
    HANDLER,
    HOUR,
    INSPECTOR,
    LEADER,
    RECEPTION,
    SEAL,
    SYSTEM,
    FakeBook,
    History,
    result_payload,
)

RULE_MODULES = (deadlines, electronic, conduct)
CTX = AuditContext(book=FakeBook(), now_us=0)


def rules_of(history: History, ctx: AuditContext | None = None) -> list[str]:
    context = replace(ctx or CTX, now_us=history.clock + HOUR)
    return sorted(f.rule for f in audit_dossier(history.items, context))


def findings(history: History, ctx: AuditContext | None = None) -> list[RuleFinding]:
    context = replace(ctx or CTX, now_us=history.clock + HOUR)
    return audit_dossier(history.items, context)


def test_clean_history_has_no_findings() -> None:
    assert rules_of(History().happy()) == []


def test_late_without_apology() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    h.result(at=h.due() + HOUR).delivered()
    found = findings(h)
    assert [f.rule for f in found] == ["rule.late_without_apology"]
    assert found[0].expected == f"by {format_time(h.due())}"
    assert found[0].n == 6


def test_open_dossier_past_due_is_late_too() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    h.clock = h.due() + DAY
    assert rules_of(h) == ["rule.late_without_apology"]


def test_apology_before_due_covers_lateness_but_missing_the_new_date_is_found() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=2 * DAY).assigned()
    h.add(ev.APOLOGY, (LEADER, SEAL), reason="Chờ xác minh", new_due_us=h.due() + DAY)
    h.result(at=h.due() + HOUR).delivered()
    assert rules_of(h) == []
    m = History().submitted().inputs("TK", "GCS").received(due_in=2 * DAY).assigned()
    m.add(ev.APOLOGY, (LEADER, SEAL), reason="Chờ", new_due_us=m.due() + DAY)
    m.result(at=m.due() + 2 * DAY).delivered()
    assert rules_of(m) == ["rule.apology_misuse"]


def test_rejected_events_are_findings_not_crashes() -> None:
    """A second apology bypassing the store is reported (rule 2 and rule 12)."""
    h = History().submitted().inputs("TK", "GCS").received(due_in=3 * DAY).assigned()
    h.add(ev.APOLOGY, (LEADER, SEAL), reason="a", new_due_us=h.due() + DAY)
    h.add(ev.APOLOGY, (LEADER, SEAL), reason="b", new_due_us=h.due() + 2 * DAY)
    assert rules_of(h) == ["rule.apology_misuse", "rule.illegal_event"]


def test_supplement_requested_twice() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    for _ in range(2):
        h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["mờ"])
        h.add(ev.SUPPLEMENT_RECEIVED, (RECEPTION,), items=["GCS"], due_us=h.due())
    found = rules_of(h)
    assert "rule.supplement_repeated" in found
    assert "rule.illegal_event" in found


def test_due_date_recomputed_independently() -> None:
    h = History().happy()
    good = replace(CTX, recompute_due=lambda state: state.original_due_us)
    assert rules_of(h, good) == []
    bad = replace(CTX, recompute_due=lambda state: (state.original_due_us or 0) - HOUR)
    found = findings(h, bad)
    assert [f.rule for f in found] == ["rule.due_date_mismatch"]
    assert found[0].found == format_time(h.due())


def test_handover_late_and_interagency_overrun() -> None:
    h = History().submitted().inputs("TK", "GCS").received()
    h.clock += 2 * DAY
    h.assigned().result().delivered()
    assert rules_of(h) == ["rule.handover_late"]
    t = History().submitted().inputs("TK", "GCS").received().assigned()
    t.add(ev.TRANSFERRED, (HANDLER,), to_agency="H26.10.02", step="xác minh", allowance_hours=4)
    t.clock += DAY
    found = findings(t)
    assert [f.rule for f in found] == ["rule.interagency_step_late"]
    assert found[0].agency == "H26.10.02"


def test_inputs_not_digitized_before_reception() -> None:
    h = History().submitted().inputs("TK").received()
    found = rules_of(h)
    assert "rule.inputs_not_digitized" in found


def test_paper_requested_though_electronic_exists() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["cần bản giấy"])
    asked = h.items[-1].body.time_us
    # a result able to stand in for GCS became valid only just before the request: the
    # scan at reception was lawful, the paper request was not
    reuse = replace(
        CTX, reusable=lambda applicant, component, at: component == "GCS" and at >= asked
    )
    assert rules_of(h, reuse) == ["rule.paper_despite_electronic"]
    later = replace(CTX, reusable=lambda applicant, component, at: at > asked)
    assert rules_of(h, later) == []  # judged at the moment it asked, not by today's state
    assert rules_of(h) == []


def test_paper_copy_and_paper_result() -> None:
    h = History().happy()
    h.add(ev.PAPER_COPY, (RECEPTION,), result_number="KS-1", basis="legal_requirement")
    assert rules_of(h) == ["rule.paper_copy_without_basis"]
    allowed = replace(CTX, paper_allowed=lambda procedure: True)
    assert rules_of(h, allowed) == []
    p = History().submitted().inputs("TK", "GCS").received().assigned().result(medium="paper")
    p.clock += 3 * DAY
    assert rules_of(p, allowed) == ["rule.paper_result_not_digitized"]
    # a paper result where the procedure's law requires none is a finding of its own
    assert sorted(rules_of(p)) == [
        "rule.paper_result_not_digitized",
        "rule.paper_result_without_basis",
    ]
    p.add(ev.RESULT_DIGITIZED, (SEAL,), result_number="KS-1", document_hash=H32)
    assert rules_of(p, allowed) == []


def test_result_signature_rule_reads_raw_signers() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.record(ev.RESULT_ISSUED, (LEADER,), result_payload("X"))
    found = rules_of(h)
    assert "rule.result_not_properly_signed" in found
    assert "rule.illegal_event" in found


def test_fees() -> None:
    h = History().submitted().inputs("TK", "GCS").received().assigned()
    h.add(ev.FEE_REQUESTED, (HANDLER,), amount_vnd=8000)
    h.add(ev.FEE_PAID, (SYSTEM,), amount_vnd=8000, receipt_ref="HD-1")
    h.add(ev.FEE_PAID, (SYSTEM,), amount_vnd=8000, receipt_ref="HD-2")
    exempt = replace(CTX, exempt_from_fees=lambda procedure: True)
    found = rules_of(h, exempt)
    assert "rule.fee_collected_twice" in found
    assert "rule.fee_on_exempt_procedure" in found


def test_revocation_due_after_finding() -> None:
    h = History().happy()
    h.add(ev.AUDIT_OPENED, (INSPECTOR,), audit="A-1", basis="targeted")
    h.add(
        ev.FINDING,
        (INSPECTOR,),
        audit="A-1",
        finding="false_self_declaration",
        severity="major",
        detail="x",
        revocation_due=True,
    )
    h.clock += 10 * DAY
    assert rules_of(h) == ["rule.revocation_overdue"]
    h.add(
        ev.REVOKED,
        (LEADER, SEAL),
        at=h.items[-1].body.time_us + HOUR,
        result_number="KS-1",
        decision_ref="QĐ-1",
        reason="khai gian",
    )
    assert rules_of(h) == []


def test_self_declared_inputs_need_an_audit_in_the_window() -> None:
    h = History().submitted().inputs("TK", "GCS", source="self_declared").received()
    h.assigned().result().delivered()
    h.clock += 100 * DAY
    assert rules_of(h) == ["rule.self_declared_unaudited"]
    h.add(ev.AUDIT_OPENED, (INSPECTOR,), audit="A-9", basis="sampled")
    assert rules_of(h) == []


def test_segregation_of_duties() -> None:
    solo = SignerInfo("officer:solo", frozenset({"reception", "handler", "leader"}), AGENCY)
    h = History().submitted().inputs("TK", "GCS")
    at = h.clock + HOUR
    h.add(
        ev.RECEIVED,
        (solo,),
        at=at,
        received_us=at,
        receipt_hash=H32,
        clock_start_us=at,
        due_us=at + 5 * DAY,
        rule_version="test/1",
        calendar_version="cal/1",
    )
    h.add(ev.ASSIGNED, (solo,), handler="officer:solo", department="TP")
    h.add(ev.STEP, (solo,), step="thẩm định")
    h.record(ev.RESULT_ISSUED, (solo, SEAL), result_payload("KS-1"))
    assert rules_of(h) == ["rule.segregation_of_duties"]


def test_a_supplement_pause_moves_the_legal_due_date() -> None:
    """Resolved after the reception due date but within the pause-extended one: on time."""
    h = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["mờ"])
    h.add(ev.SUPPLEMENT_RECEIVED, (RECEPTION,), items=["GCS"], due_us=h.due() + 3 * DAY)
    h.result(at=h.due() + 2 * DAY).delivered()
    assert rules_of(h) == []
    late = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    late.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), items=["GCS"], reasons=["mờ"])
    late.add(ev.SUPPLEMENT_RECEIVED, (RECEPTION,), items=["GCS"], due_us=late.due() + DAY)
    late.result(at=late.due() + 2 * DAY).delivered()
    assert rules_of(late) == ["rule.late_without_apology"]


def test_docs_domain_tables_match_the_code() -> None:
    """docs/domain.md lists every event with its states, roles and payload, and every rule id."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "domain.md").read_text()
    for kind, rule in RULES.items():
        allowed = "first event, or " if kind == ev.FIRST_EVENT else ""
        allowed += ", ".join(sorted(s.label for s in (rule.allowed_in or ())))
        row = (
            " | ".join(
                [
                    f"| `{kind}`",
                    rule.form or "",
                    allowed,
                    rule.leads_to.label if rule.leads_to else "—",
                    " or ".join(sorted(rule.actor_roles)),
                    " + ".join(rule.cosign_roles) or "—",
                    ", ".join(
                        f"`{n}`" + ("" if f.required else "?") for n, f in SCHEMAS[kind].items()
                    )
                    or "—",
                ]
            )
            + " |"
        )
        assert row in doc, row
    sources = [inspect.getsource(m) for m in (rules, rules.base, *RULE_MODULES)]
    ids = set(re.findall(r'"(rule\.[a-z_]+)"', "".join(sources)))
    assert len(ids) == 23
    for rule_id in ids:
        assert f"`{rule_id}`" in doc, rule_id


def test_supplement_after_due() -> None:
    h = History().submitted().inputs("TK", "GCS").received(due_in=DAY).assigned()
    h.add(ev.SUPPLEMENT_REQUESTED, (HANDLER,), at=h.due() + HOUR, items=["GCS"], reasons=["x"])
    assert "rule.supplement_after_due" in rules_of(h)
