"""Steps 8–9 in detail: due dates recomputed from the recorded versions, and the
post-audit rules over one minimal dossier (``verify/dossiers.py``, ``verify/privacy.py``).

The clean dossier (procedure 1.001193, same day) was received at 08:40 on a
Tuesday with the due date its rule gives (17:00 that day) and handed over ten
minutes later; the audit's "now" is 10:00. Each test changes one thing and pins
the rule findings: id, step, dossier and position, expected/found (times in
Vietnam time, as the report shows them).
"""

from __future__ import annotations

from ledger.domain import lifecycle as ev
from ledger.domain.due import compute_due
from ledger.domain.state import format_time
from tests.verify.minimal import (
    CALENDAR,
    CATALOGUE,
    DAY,
    DOSSIER,
    DUE,
    HOUR,
    LEADER,
    MINUTE,
    RECEIVED_US,
    T0,
    Expect,
    MinimalLedger,
    access_by_an_unassigned_handler,
    assert_findings,
    clean_ledger,
    received_payload,
    step_of,
    verify,
)
from verify.run import verify_ledger

RECEIVED_N = 4
NEXT_N = 6


def rule(check: str, step: int, n: int | None, **pinned: str) -> Expect:
    return Expect(
        check,
        step,
        "rule",
        DOSSIER,
        n,
        expected=pinned.get("expected", ...),
        found=pinned.get("found", ...),
    )


# --- step 8: due dates -------------------------------------------------------------------------


def test_a_due_date_recorded_earlier_than_its_rule_gives_is_a_mismatch() -> None:
    """Recorded 12:00 where the rule gives 17:00 (still after the clock start)."""
    recorded = DUE.clock_start_us + 3 * HOUR
    ledger = clean_ledger(received=received_payload(due_us=recorded))
    assert_findings(
        verify(ledger),
        [
            rule(
                "rule.due_date_mismatch",
                8,
                RECEIVED_N,
                expected=format_time(DUE.due_us),
                found=format_time(recorded),
            )
        ],
    )


def test_a_rule_version_of_another_catalogue_is_version_unknown() -> None:
    """The reception cites last year's catalogue: the due date can't be recomputed, and the
    finding says which version was recorded and why the verifier has none."""
    recorded = "vn-proc-2025.1#1.001193"
    ledger = clean_ledger(received=received_payload(rule_version=recorded))
    assert_findings(
        verify(ledger),
        [
            rule(
                "due.version_unknown",
                8,
                None,
                expected=recorded,
                found="[procedure.rule_version] the due date was computed with another catalogue",
            )
        ],
    )


def test_a_rule_version_naming_no_procedure_of_the_catalogue_is_version_unknown() -> None:
    """The right catalogue version, a procedure code it doesn't hold."""
    recorded = f"{CATALOGUE.version}#9.999999"
    ledger = clean_ledger(received=received_payload(rule_version=recorded))
    assert_findings(
        verify(ledger),
        [
            rule(
                "due.version_unknown",
                8,
                None,
                expected=recorded,
                found=f"[procedure.unknown] not in catalogue {CATALOGUE.version}",
            )
        ],
    )


def test_no_due_date_check_before_reception() -> None:
    """A dossier submitted but not yet received has no due date to recompute."""
    ledger = MinimalLedger()
    from tests.verify.minimal import registry  # noqa: PLC0415

    registry(ledger)
    ledger.append(ledger.submission(DOSSIER, time_us=T0 + 10 * MINUTE))
    assert_findings(verify(ledger), [])


def test_a_due_date_computed_under_another_procedures_rule_is_reported() -> None:
    """Dossier of 1.001193 (same day), received with ``rule_version`` …#1.004194 and that
    procedure's later due date, resolved the next morning: the due date is not the one its
    own procedure gives, so step 8 must say so."""
    other = compute_due(
        received_us=RECEIVED_US, procedure=CATALOGUE.get("1.004194"), calendar=CALENDAR
    )
    assert other.due_us > DUE.due_us
    ledger = clean_ledger(
        received=received_payload(due_us=other.due_us, rule_version=other.rule_version)
    )
    issued = T0 + DAY + 2 * HOUR
    ledger.append(ledger.result_issued(time_us=issued))
    ledger.now_us = issued + HOUR
    step8 = [f for f in verify(ledger).findings.kept if f.step == 8]
    assert [(f.check, f.stream) for f in step8] in (
        [("rule.due_date_mismatch", DOSSIER)],
        [("due.version_unknown", DOSSIER)],
    )


# --- step 9: rules -------------------------------------------------------------------------


def test_still_open_after_the_due_date_is_late_without_apology_as_of_now() -> None:
    """No result, and "now" is the next morning: late as of now (no event to point at)."""
    ledger = clean_ledger()
    ledger.now_us = DUE.due_us + 17 * HOUR
    assert_findings(
        verify(ledger),
        [
            rule(
                "rule.late_without_apology",
                9,
                None,
                expected=f"by {format_time(DUE.due_us)}",
                found=format_time(ledger.now_us),
            )
        ],
    )


def test_an_apology_before_the_due_date_makes_a_later_result_no_finding() -> None:
    """The leader apologises (with the seal) before 17:00 and sets the next day's 17:00;
    the result at 10:00 the next day is then on time by the new date."""
    ledger = clean_ledger()
    new_due = DUE.due_us + DAY
    ledger.add(
        DOSSIER,
        ev.APOLOGY,
        LEADER,
        {"reason": "xac minh them", "new_due_us": new_due},
        [ledger.keys.leader, ledger.keys.seal],
        time_us=RECEIVED_US + HOUR,
    )
    issued = T0 + DAY + 2 * HOUR
    ledger.append(ledger.result_issued(time_us=issued))
    ledger.now_us = issued + HOUR
    assert_findings(verify(ledger), [])


def test_an_apology_after_the_due_date_is_refused_and_the_result_is_late() -> None:
    """The same apology at 17:30, after the due date: the lifecycle refuses it (rule 12,
    ``rule.illegal_event``), the apology rule names it as too late, and the late result
    has no apology before it."""
    ledger = clean_ledger()
    apologised = DUE.due_us + 30 * MINUTE
    ledger.add(
        DOSSIER,
        ev.APOLOGY,
        LEADER,
        {"reason": "qua han", "new_due_us": DUE.due_us + DAY},
        [ledger.keys.leader, ledger.keys.seal],
        time_us=apologised,
    )
    issued = T0 + DAY + 2 * HOUR
    ledger.append(ledger.result_issued(time_us=issued))
    ledger.now_us = issued + HOUR
    assert_findings(
        verify(ledger),
        [
            rule("rule.illegal_event", 9, NEXT_N, found=ev.APOLOGY),
            rule(
                "rule.apology_misuse",
                9,
                NEXT_N,
                expected=f"before {format_time(DUE.due_us)}",
                found=format_time(apologised),
            ),
            rule(
                "rule.late_without_apology",
                9,
                NEXT_N + 1,
                expected=f"by {format_time(DUE.due_us)}",
                found=format_time(issued),
            ),
        ],
    )


def test_without_rules_steps_8_and_9_report_nothing() -> None:
    """``--no-rules`` (``rules=False``): a due-date mismatch and an illegal event are not
    looked at; an integrity fault in the same ledger still is."""
    ledger = clean_ledger(received=received_payload(due_us=DUE.due_us + HOUR))
    ledger.add(
        DOSSIER, ev.RECEIVED, "ward:tiepnhan-01", received_payload(), [ledger.keys.reception]
    )
    ledger.append(ledger.withdrawal_requested(time_us=T0))  # before its predecessor
    report = verify_ledger(
        ledger.source(),
        ledger.trust(),
        catalogue=CATALOGUE,
        calendar=CALENDAR,
        now_us=ledger.now_us,
        rules=False,
    )
    assert [(f.check, f.n) for f in report.findings.kept] == [("chain.time", 7)]
    assert report.stats.dossiers == 0


# --- step 9: the personal-data rules -------------------------------------------------------------


def test_a_read_by_a_handler_not_assigned_is_privacy_access_assignment() -> None:
    """With a retention period given, step 9 audits the access log: the read is reported
    on the access log's event, with the assigned handler expected."""
    ledger = access_by_an_unassigned_handler()
    assert_findings(verify(ledger), [])  # without retention_us the access log is not audited
    assert_findings(
        verify(ledger, retention_us=365 * DAY),
        [
            Expect(
                "privacy.access_assignment",
                9,
                "rule",
                "system/access",
                1,
                expected="ward:chuyenvien-01",
                found="ward:chuyenvien-02",
            )
        ],
    )


def test_every_step_9_finding_is_an_id_its_step_lists() -> None:
    """The privacy finding's id is one ``STEPS`` lists for step 9."""
    report = verify(access_by_an_unassigned_handler(), retention_us=365 * DAY)
    (finding,) = report.findings.kept
    assert step_of(finding.check) == finding.step
