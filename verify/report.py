"""The machine-readable report (``--json``): one JSON object, documented in docs/verify.md.

Nothing personal is in it: findings name streams, positions, rule ids,
agencies and hashes; applicants are commitments and are never read.
"""

from __future__ import annotations

from typing import Any

from verify.checks import STEPS
from verify.findings import ReportFinding
from verify.run import Report


def step_counts(report: Report) -> list[dict[str, Any]]:
    """Per step: its number, name, title, and how many findings it reported."""
    out = []
    for step in STEPS:
        count = sum(
            c
            for check, c in report.findings.counts.items()
            if _step_of(report, check) == step.number
        )
        out.append(
            {"number": step.number, "name": step.name, "title": step.title, "findings": count}
        )
    return out


def _step_of(report: Report, check: str) -> int | None:
    for finding in report.findings.kept:
        if finding.check == check:
            return finding.step
    return None


def finding_json(finding: ReportFinding) -> dict[str, Any]:
    return finding.as_dict()


def report_json(report: Report, *, strict: bool = False) -> dict[str, Any]:
    findings = report.findings
    return {
        "origin": report.origin,
        "calendar_version": report.calendar_version,
        "law_version": report.law_version,
        "exit_code": report.exit_code(strict=strict),
        "verified": findings.total("malformed") == 0 and findings.total("integrity") == 0,
        "records": report.records,
        "streams": report.streams,
        "signatures": report.signatures,
        "checkpoints": [
            {
                "size": a.checkpoint.size,
                "root": a.checkpoint.root.hex(),
                "witnesses": list(a.witnesses),
            }
            for a in report.checkpoints
        ],
        "steps": step_counts(report),
        "counts": {
            "malformed": findings.total("malformed"),
            "integrity": findings.total("integrity"),
            "rule": findings.total("rule"),
            "by_check": dict(sorted(findings.counts.items())),
        },
        "findings": [finding_json(f) for f in findings.kept],
        "dossiers": report.stats.dossiers,
        "seconds": {k: round(v, 3) for k, v in report.seconds.items()},
    }
