"""``verify_ledger``: every step over a whole ledger, from a :class:`~verify.source.Source`.

Order of work: step 6/7 first (open the stored checkpoints, so pass 1 knows
which sizes' roots to keep); pass 1 = steps 1–5 in log order; the roots are
compared (step 5); pass 2 = steps 8–9 per dossier. Nothing stops at the first
finding; see :mod:`verify.findings` for the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ledger.domain.calendar import WorkingCalendar
from ledger.domain.law import shipped_law
from ledger.domain.procedures import Catalogue
from verify.anchors import Anchor, compare_roots, open_checkpoints
from verify.dossiers import DossierPass, RuleSource, Statistics
from verify.findings import DEFAULT_CAP, Findings
from verify.integrity import LogPass
from verify.privacy import PrivacyAudit
from verify.sigpool import BatchChecker
from verify.source import Source
from verify.trust import TrustRoots

Progress = Callable[[str, int, int | None], None]
"""(phase, done, total or None)."""


@dataclass
class Report:
    origin: str
    records: int = 0
    streams: int = 0
    signatures: int = 0
    checkpoints: list[Anchor] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    stats: Statistics = field(default_factory=Statistics)
    seconds: dict[str, float] = field(default_factory=dict)
    rules_run: bool = True
    calendar_version: str = ""  # the working calendar the rules ran with
    law_version: str = ""  # the law data (legal versions and provisions) they cited

    def exit_code(self, *, strict: bool = False) -> int:
        return self.findings.exit_code(strict=strict)


def verify_ledger(
    source: Source,
    trust: TrustRoots,
    *,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    now_us: int,
    workers: int = 1,
    batch: int = 1000,
    cap: int = DEFAULT_CAP,
    rules: bool = True,
    rule_sources: Iterable[RuleSource] = (),
    retention_us: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Verify the ledger ``source`` holds under ``trust``; return the report.

    With ``retention_us`` (how long a dossier that ended without a result is
    kept), step 9 also audits the access log and the erasures (verify.privacy).
    """
    report = Report(
        trust.origin,
        findings=Findings(cap=cap),
        rules_run=rules,
        calendar_version=calendar.version,
        law_version=shipped_law().version,
    )
    findings = report.findings
    started = time.perf_counter()
    report.checkpoints = open_checkpoints(source.checkpoints(), trust, findings)
    total = source.log_size()
    log_pass = LogPass(
        origin=trust.origin,
        authorities=trust.authorities,
        log_keys=trust.log_public_keys(),
        findings=findings,
        root_sizes={a.checkpoint.size for a in report.checkpoints},
    )

    def tick(done: int) -> None:
        if progress is not None:
            progress("log", done, total)

    with BatchChecker(workers=workers, batch=batch) as checker:
        result = log_pass.run(source.log(), checker, tick)
    compare_roots(report.checkpoints, log_size=result.size, roots=result.roots, findings=findings)
    report.records, report.streams, report.signatures = (
        result.size,
        result.streams,
        result.signatures,
    )
    report.seconds["log"] = time.perf_counter() - started
    if rules:
        started = time.perf_counter()
        sources = list(rule_sources)
        observers = []
        if retention_us is not None:
            privacy = PrivacyAudit(source, retention_us=retention_us)
            observers.append(privacy.observe)
            sources.append(privacy.findings)
        dossier_pass = DossierPass(
            catalogue=catalogue,
            calendar=calendar,
            registrations=result.keys.registrations,
            now_us=now_us,
            findings=findings,
            observers=observers,
        )

        def counted() -> Iterable[tuple[str, Sequence[bytes]]]:
            for number, item in enumerate(source.dossiers(), start=1):
                if progress is not None:
                    progress("dossiers", number, result.streams)
                yield item

        report.stats = dossier_pass.run(counted())
        dossier_pass.run_sources(sources)
        report.seconds["dossiers"] = time.perf_counter() - started
    return report
