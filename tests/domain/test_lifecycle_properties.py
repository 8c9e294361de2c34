"""Random legal command sequences never produce an illegal state; histories replay identically."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger.core.event import EventBody
from ledger.core.hashing import GENESIS_PREV
from ledger.domain import commands as cmd
from ledger.domain import lifecycle as ev
from ledger.domain.dossier import evolve, start
from ledger.domain.lifecycle import OPEN_CASE, RESULT_HELD, TERMINAL, State
from ledger.domain.rules import AuditContext, Recorded, audit_dossier, replay
from ledger.domain.state import DossierState, SignerInfo
from tests.domain.builder import (
    DAY,
    H32,
    HANDLER,
    HOUR,
    INSPECTOR,
    LEADER,
    OTHER,
    OTHER_HANDLER,
    PORTAL,
    RECEPTION,
    SEAL,
    SYSTEM,
    T0,
    FakeBook,
)

BOOK = FakeBook()
SIGNERS: dict[str, tuple[SignerInfo, ...]] = {
    ev.SUBMITTED: (PORTAL,),
    ev.INPUT: (RECEPTION,),
    ev.GUIDANCE: (RECEPTION,),
    ev.REFUSED: (RECEPTION,),
    ev.RECEIVED: (RECEPTION,),
    ev.ASSIGNED: (RECEPTION,),
    ev.STEP: (HANDLER,),
    ev.TRANSFERRED: (HANDLER,),
    ev.ACKNOWLEDGED: (OTHER_HANDLER,),
    ev.RETURNED: (OTHER_HANDLER,),
    ev.SUPPLEMENT_REQUESTED: (HANDLER,),
    ev.SUPPLEMENT_RECEIVED: (RECEPTION,),
    ev.FEE_REQUESTED: (HANDLER,),
    ev.FEE_PAID: (SYSTEM,),
    ev.APOLOGY: (LEADER, SEAL),
    ev.STOPPED: (LEADER, SEAL),
    ev.WITHDRAWAL_REQUESTED: (PORTAL,),
    ev.WITHDRAWAL_ACCEPTED: (RECEPTION,),
    ev.RESULT_ISSUED: (LEADER, SEAL),
    ev.RESULT_DIGITIZED: (SEAL,),
    ev.DELIVERED: (RECEPTION,),
    ev.PAPER_COPY: (RECEPTION,),
    ev.REVOKED: (LEADER, SEAL),
    ev.CORRECTED: (LEADER, SEAL),
    ev.AUDIT_OPENED: (INSPECTOR,),
    ev.FINDING: (INSPECTOR,),
    ev.AUDIT_CONCLUDED: (INSPECTOR,),
}


class Lifecycle(RuleBasedStateMachine):
    state: DossierState
    history: list[Recorded]

    def apply(self, draft: cmd.Draft) -> None:
        signers = SIGNERS[draft.type]
        extra = BOOK.signatures_for(self.state.procedure, draft.type)
        if extra and "leader" in extra and LEADER not in signers:
            signers = (*signers, LEADER)
        body = EventBody(
            origin="t.example/x",
            stream="D",
            n=len(self.history) + 1,
            prev=GENESIS_PREV,
            type=draft.type,
            actor=signers[0].actor,
            time_us=self.clock,
            payload=draft.payload,
        )
        self.state = evolve(self.state, body, signers, BOOK)
        self.history.append(Recorded(body, signers))

    def tick(self, hours: int) -> None:
        self.clock += hours * HOUR

    @initialize(procedure=st.sampled_from(["1.001193", "1.004194"]))
    def submitted(self, procedure: str) -> None:
        self.clock = T0
        draft = cmd.submit_dossier(
            procedure=procedure, agency="H26.50.01", channel="online", applicant=H32
        )
        body = EventBody(
            origin="t.example/x",
            stream="D",
            n=1,
            prev=GENESIS_PREV,
            type=draft.type,
            actor=PORTAL.actor,
            time_us=self.clock,
            payload=draft.payload,
        )
        self.state = start(body, (PORTAL,))
        self.history = [Recorded(body, (PORTAL,))]
        self.results = 0

    def _in(self, *states: State) -> bool:
        return self.state.state in states

    @precondition(lambda self: self._in(State.SUBMITTED, State.RECEPTION_GUIDANCE))
    @rule(component=st.sampled_from(["TK", "GCS"]), hours=st.integers(0, 30))
    def digitize(self, component: str, hours: int) -> None:
        self.tick(hours)
        self.apply(
            cmd.digitize_input(self.state, component=component, document_hash=H32, source="scanned")
        )

    @precondition(lambda self: self._in(State.SUBMITTED))
    @rule()
    def guide(self) -> None:
        self.apply(cmd.issue_guidance(self.state, missing=["GCS"], reasons=["thiếu"]))

    @precondition(lambda self: self._in(State.RECEPTION_GUIDANCE))
    @rule()
    def resubmit(self) -> None:
        self.apply(
            cmd.submit_dossier(
                procedure=self.state.procedure,
                agency=self.state.agency,
                channel="online",
                applicant=H32,
                state=self.state,
            )
        )

    @precondition(
        lambda self: (
            self._in(State.SUBMITTED)
            and set(BOOK.required_components(self.state.procedure) or ())
            <= set(self.state.components)
        )
    )
    @rule(days=st.integers(1, 10))
    def receive(self, days: int) -> None:
        self.tick(1)
        self.apply(
            cmd.receive_dossier(
                self.state,
                received_us=self.clock,
                clock_start_us=self.clock,
                due_us=self.clock + days * DAY,
                rule_version="r",
                calendar_version="c",
                receipt_hash=H32,
                required=BOOK.required_components(self.state.procedure) or frozenset(),
            )
        )

    @precondition(lambda self: self._in(State.RECEIVED, State.IN_PROCESS))
    @rule(hours=st.integers(0, 48))
    def assign(self, hours: int) -> None:
        self.tick(hours)
        self.apply(cmd.assign_handler(self.state, handler=HANDLER.actor, department="TP"))

    @precondition(lambda self: self._in(State.IN_PROCESS))
    @rule(hours=st.integers(0, 48))
    def step(self, hours: int) -> None:
        self.tick(hours)
        self.apply(cmd.complete_step(self.state, step="thẩm định"))

    @precondition(
        lambda self: (
            self._in(State.IN_PROCESS)
            and all(t.returned_us is not None for t in self.state.transfers)
        )
    )
    @rule()
    def transfer(self) -> None:
        self.apply(
            cmd.transfer_to_agency(self.state, to_agency=OTHER, step="xác minh", allowance_hours=16)
        )

    @precondition(
        lambda self: (
            self._in(State.IN_PROCESS)
            and any(
                t.acknowledged_us is None and t.returned_us is None for t in self.state.transfers
            )
        )
    )
    @rule()
    def acknowledge(self) -> None:
        self.apply(cmd.acknowledge_transfer(self.state, agency=OTHER))

    @precondition(
        lambda self: (
            self._in(State.IN_PROCESS) and any(t.returned_us is None for t in self.state.transfers)
        )
    )
    @rule(hours=st.integers(0, 48))
    def give_back(self, hours: int) -> None:
        self.tick(hours)
        self.apply(cmd.return_transfer(self.state, agency=OTHER, outcome="xong"))

    @precondition(lambda self: self._in(State.IN_PROCESS) and self.state.supplements == 0)
    @rule()
    def ask_supplement(self) -> None:
        self.apply(cmd.request_supplement(self.state, items=["GCS"], reasons=["mờ"]))

    @precondition(lambda self: self._in(State.AWAITING_SUPPLEMENT))
    @rule(hours=st.integers(1, 100))
    def supplement_arrives(self, hours: int) -> None:
        self.tick(hours)
        due = (self.state.due_us or self.clock) + hours * HOUR
        self.apply(cmd.receive_supplement(self.state, items=["GCS"], due_us=due))

    @precondition(lambda self: self._in(State.IN_PROCESS))
    @rule()
    def fee(self) -> None:
        self.apply(cmd.request_fee(self.state, amount_vnd=8000))

    @precondition(lambda self: self._in(State.AWAITING_PAYMENT))
    @rule()
    def pay(self) -> None:
        self.apply(cmd.record_payment(self.state, amount_vnd=8000, receipt_ref="HD-1"))

    @precondition(
        lambda self: (
            self._in(*OPEN_CASE)
            and self.state.apologies == 0
            and self.state.due_us is not None
            and self.clock < self.state.due_us
        )
    )
    @rule(days=st.integers(1, 5))
    def apologize(self, days: int) -> None:
        assert self.state.due_us is not None
        self.apply(
            cmd.apologize_for_delay(
                self.state,
                reason="chờ",
                now_us=self.clock,
                new_due_us=self.state.due_us + days * DAY,
            )
        )

    @precondition(
        lambda self: self._in(State.IN_PROCESS, State.AWAITING_SUPPLEMENT, State.AWAITING_PAYMENT)
    )
    @rule()
    def stop(self) -> None:
        self.apply(cmd.stop_processing(self.state, reasons=["giả mạo"]))

    @precondition(lambda self: self._in(*OPEN_CASE))
    @rule(accept=st.booleans())
    def withdraw(self, accept: bool) -> None:
        self.apply(cmd.request_withdrawal(self.state))
        if accept:
            self.apply(cmd.accept_withdrawal(self.state))

    @precondition(lambda self: self._in(State.IN_PROCESS))
    @rule(hours=st.integers(0, 200), paper=st.booleans())
    def resolve(self, hours: int, paper: bool) -> None:
        self.tick(hours)
        self.results += 1
        self.apply(
            cmd.issue_result(
                self.state,
                result_number=f"KQ-{self.results}",
                result_type="t",
                document_hash=H32,
                medium="paper" if paper else "electronic",
            )
        )

    def _valid_result(self) -> str | None:
        valid = [r.number for r in self.state.results.values() if r.status == "valid"]
        return valid[-1] if valid else None

    @precondition(lambda self: self._in(State.RESOLVED) and self._valid_result() is not None)
    @rule()
    def deliver(self) -> None:
        self.apply(
            cmd.deliver_result(
                self.state, result_number=self._valid_result() or "", channel="vneid"
            )
        )

    @precondition(lambda self: self._in(*RESULT_HELD) and self._valid_result() is not None)
    @rule(kind=st.sampled_from(["revoke", "correct", "digitize", "paper"]))
    def after_result(self, kind: str) -> None:
        number = self._valid_result() or ""
        if kind == "revoke":
            self.apply(
                cmd.revoke_result(self.state, result_number=number, decision_ref="QĐ", reason="x")
            )
        elif kind == "correct":
            self.results += 1
            self.apply(
                cmd.correct_result(
                    self.state,
                    supersedes=number,
                    result_number=f"KQ-{self.results}",
                    document_hash=bytes(32),
                    reason="sai",
                )
            )
        elif kind == "digitize":
            self.apply(cmd.digitize_result(self.state, result_number=number, document_hash=H32))
        else:
            self.apply(
                cmd.issue_paper_copy(self.state, result_number=number, basis="citizen_request")
            )

    @precondition(lambda self: self.state.received_us is not None and not self.state.under_audit)
    @rule(revoke=st.booleans())
    def audit(self, revoke: bool) -> None:
        audit = f"A-{len(self.state.audits) + 1}"
        self.apply(cmd.open_audit(self.state, audit=audit, basis="sampled"))
        self.apply(
            cmd.record_finding(
                self.state,
                audit=audit,
                finding="f",
                severity="minor",
                detail="d",
                revocation_due=revoke,
            )
        )
        self.apply(cmd.conclude_audit(self.state, audit=audit, conclusion="ok"))

    @invariant()
    def replays_to_the_same_state(self) -> None:
        replayed, findings = replay(self.history, BOOK)
        assert [f for f in findings if f.rule == "rule.illegal_event"] == []
        assert replayed == self.state

    @invariant()
    def rules_report_only_what_a_legal_history_can_contain(self) -> None:
        ctx = AuditContext(book=BOOK, now_us=self.clock + HOUR)
        findings = audit_dossier(self.history, ctx)
        for finding in findings:
            assert finding.stream == "D"
            assert finding.rule.startswith("rule.")
        never = {
            "rule.illegal_event",
            "rule.result_not_properly_signed",
            "rule.inputs_not_digitized",
            "rule.supplement_repeated",
            "rule.segregation_of_duties",
        }
        assert never.isdisjoint(f.rule for f in findings)

    @invariant()
    def state_is_consistent(self) -> None:
        s = self.state
        assert s.supplements <= 1
        assert s.apologies <= 1
        assert (s.state in RESULT_HELD) <= bool(s.results)
        paused = {State.AWAITING_SUPPLEMENT: "supplement", State.AWAITING_PAYMENT: "payment"}
        assert (s.state in paused) == (s.paused_since_us is not None)
        assert s.pause_kind == paused.get(s.state)
        if s.due_us is not None:
            assert s.clock_start_us is not None
            assert s.due_us >= s.clock_start_us
        assert s.portal_code is None or 1 <= s.portal_code <= 10
        assert s.state not in TERMINAL or s.state is State.DELIVERED or s.finished_us

    @invariant()
    def terminal_states_accept_nothing_but_result_care_and_audits(self) -> None:
        if self.state.state in TERMINAL - {State.DELIVERED}:
            for kind, rule_ in ev.RULES.items():
                if rule_.allowed_in is not None and kind not in (
                    ev.AUDIT_OPENED,
                    ev.FINDING,
                    ev.AUDIT_CONCLUDED,
                ):
                    assert self.state.state not in rule_.allowed_in, kind


Lifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLifecycle = Lifecycle.TestCase
