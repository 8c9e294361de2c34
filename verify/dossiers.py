"""Pass 2, steps 8–9, one dossier at a time (records in stream order).

Each dossier's records are parsed again and folded with the pure domain, each
signature described by the key registry pass 1 folded (actor, roles, agency).
Step 8 recomputes the due date from the rule and calendar versions the
dossier recorded at reception; step 9 runs every post-audit rule of
:mod:`ledger.domain.rules` (its own due-date rule is step 8's). Findings here
are a report (family ``rule``): they change the exit code only under
``--strict``. Statistics for the report (findings by rule and agency, on-time
rates by agency and procedure) are counters, so memory stays flat.

More rule sources plug in as :class:`RuleSource` callables run once after the
dossiers, fed by :class:`Observer` callables that see each folded dossier (the
personal-data audit of :mod:`verify.privacy`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ledger.core.errors import HosoError
from ledger.core.event import parse_record
from ledger.core.registry import KeyRegistration
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.due import due_for_rule
from ledger.domain.procedures import Catalogue
from ledger.domain.reuse import ReuseIndex
from ledger.domain.rules import (
    AuditContext,
    PaperRequest,
    Recorded,
    RuleFinding,
    audit_dossier,
    cite,
    due_date_recomputed,
    judge_paper_request,
    law_of,
    paper_requests,
    replay,
)
from ledger.domain.state import DossierState, SignerInfo
from ledger.domain.timeliness import timeliness
from verify.findings import Findings, ReportFinding

RuleSource = Callable[[], Iterable[RuleFinding]]
"""A further source of rule findings, run once after the dossiers."""

Observer = Callable[[DossierState, Sequence[Recorded]], None]
"""Sees each folded dossier (e.g. to keep what a rule source will need)."""


@dataclass
class Statistics:
    """Counters for the report; nothing personal (no applicant field) is kept."""

    dossiers: int = 0
    findings_by_rule: Counter[str] = field(default_factory=Counter)
    findings_by_agency: Counter[str] = field(default_factory=Counter)
    resolved_by_agency: Counter[str] = field(default_factory=Counter)
    on_time_by_agency: Counter[str] = field(default_factory=Counter)
    resolved_by_procedure: Counter[str] = field(default_factory=Counter)
    on_time_by_procedure: Counter[str] = field(default_factory=Counter)


class DossierPass:
    def __init__(
        self,
        *,
        catalogue: Catalogue,
        calendar: WorkingCalendar,
        registrations: Mapping[bytes, KeyRegistration],
        now_us: int,
        findings: Findings,
        observers: Sequence[Observer] = (),
    ) -> None:
        self.observers = list(observers)
        self.catalogue = catalogue
        self.calendar = calendar
        self.registrations = registrations
        self.findings = findings
        self.stats = Statistics()
        hours = self.working_hours_between
        self.ctx = AuditContext(
            book=catalogue,
            now_us=now_us,
            paper_allowed=catalogue.paper_allowed,
            exempt_from_fees=catalogue.exempt_from_fees,
            working_hours_between=hours,
            reusable=None,  # judged once every dossier was read: see finish()
            national_database=catalogue.national_database,
        )
        self.due_ctx = AuditContext(book=catalogue, now_us=now_us, recompute_due=self.recompute)
        self.reuse = ReuseIndex(catalogue.reusable_from)
        self.paper: list[tuple[PaperRequest, str]] = []  # (request, legal version)

    def working_hours_between(self, a_us: int, b_us: int) -> float:
        return self.calendar.working_time_between(a_us, b_us) / 3_600_000_000

    def recompute(self, state: DossierState) -> int | None:
        """Step 8: the due date from the recorded versions (None: can't, and reported)."""
        if state.received_us is None or state.rule_version is None:
            return None
        if state.calendar_version != self.calendar.version:
            self._version_unknown(state, "calendar", state.calendar_version, self.calendar.version)
            return None
        try:
            return due_for_rule(
                received_us=state.received_us,
                rule_version=state.rule_version,
                catalogue=self.catalogue,
                calendar=self.calendar,
                procedure=state.procedure,
                law_version=state.law_version,
            ).due_us
        except HosoError as err:
            self._version_unknown(state, "rule", state.rule_version, f"[{err.check}] {err.detail}")
            return None

    def _version_unknown(
        self, state: DossierState, what: str, recorded: str | None, have: str
    ) -> None:
        self.findings.add(
            ReportFinding(
                "due.version_unknown",
                8,
                "rule",
                f"the due date can't be recomputed: the {what} version it records is not the "
                "verifier's",
                stream=state.code,
                expected=recorded,
                found=have,
                agency=state.agency,
            )
        )

    def run(self, dossiers: Iterable[tuple[str, Sequence[bytes]]]) -> Statistics:
        for stream, records in dossiers:
            self.one(stream, records)
        self.finish()
        return self.stats

    def finish(self) -> None:
        """Step 9's cross-dossier half: whether an agency could have reused an electronic
        result when it asked for paper needs every dossier's results (the same pure judge
        the projections run with their reuse index)."""
        for request, law in self.paper:
            found = judge_paper_request(
                request, reusable=self.reuse.reusable, national_database=self.ctx.national_database
            )
            if found is not None:
                self._rule(cite(found, law, self.ctx), 9)
        self.paper.clear()

    def run_sources(self, sources: Iterable[RuleSource]) -> None:
        for source in sources:
            for finding in source():
                self._rule(finding, 9)

    def one(self, stream: str, records: Sequence[bytes]) -> DossierState | None:
        history: list[Recorded] = []
        for record in records:
            try:
                event = parse_record(record)
            except HosoError:
                continue  # pass 1 reported it
            signers = tuple(
                SignerInfo(r.actor, r.roles, r.agency)
                for s in event.signatures
                if (r := self.registrations.get(s.key_id)) is not None
            )
            history.append(Recorded(event.body, signers))
        self.stats.dossiers += 1
        state, _ = replay(history, self.catalogue)
        law = law_of(state, self.ctx)
        for finding in due_date_recomputed(history, state, self.due_ctx):
            self._rule(cite(finding, law, self.ctx), 8)
        for finding in audit_dossier(history, self.ctx):
            self._rule(finding, 9)
        if state is not None:
            self.reuse.add(state)
            law = law_of(state, self.ctx)
            self.paper.extend((r, law) for r in paper_requests(history, state))
            self._count(state)
            for observe in self.observers:
                observe(state, history)
        return state

    def _rule(self, f: RuleFinding, step: int) -> None:
        self.findings.add(
            ReportFinding(
                f.rule,
                step,
                "rule",
                f.message,
                stream=f.stream,
                n=f.n,
                expected=f.expected,
                found=f.found,
                agency=f.agency,
                law=f.law,
                basis=f.basis,
            )
        )
        self.stats.findings_by_rule[f.rule] += 1
        self.stats.findings_by_agency[f.agency or "(none)"] += 1

    def _count(self, state: DossierState) -> None:
        outcome = timeliness(state, working_hours_between=self.working_hours_between).dossier
        if outcome is None:
            return
        self.stats.resolved_by_agency[state.agency] += 1
        self.stats.resolved_by_procedure[state.procedure] += 1
        if outcome != "late":
            self.stats.on_time_by_agency[state.agency] += 1
            self.stats.on_time_by_procedure[state.procedure] += 1
