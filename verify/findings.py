"""Findings: what each verification step found, and what that means for the exit code.

Three families (docs/verify.md §Exit codes):

* ``malformed`` — input that can't be parsed (``encoding.canonical``,
  ``record.shape``, ``note.syntax``...): exit 2;
* ``integrity`` — a failed check (a signature, a link, a root...): exit 1;
* ``rule`` — a post-audit rule finding: reported, exit 0 unless ``--strict``.

A run never stops at the first finding. :class:`Findings` keeps at most
``cap`` findings per check id (and counts the rest), so a ledger with a
million broken rows still gives a report of bounded size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ledger.core.errors import HosoError, MalformedError, render

Family = Literal["malformed", "integrity", "rule"]

EXIT_VERIFIED: Final = 0
EXIT_INTEGRITY: Final = 1
EXIT_MALFORMED: Final = 2
EXIT_USAGE: Final = 3
DEFAULT_CAP: Final = 100


@dataclass(frozen=True, slots=True)
class ReportFinding:
    """One line of a verification report, of any family (malformed, integrity, rule):
    the check id, the step that found it, where, expected and found. A rule's own
    verdict on one dossier is a :class:`ledger.domain.rules.RuleFinding`, which the
    dossier pass turns into one of these."""

    check: str
    step: int
    family: Family
    detail: str
    stream: str | None = None
    n: int | None = None
    leaf: int | None = None
    where: str | None = None
    expected: str | None = None
    found: str | None = None
    agency: str = ""
    law: str = ""  # rule findings: the legal version in force on the reception date
    basis: str = ""  # and its text and article for the rule

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "step": self.step,
            "family": self.family,
            "stream": self.stream,
            "n": self.n,
            "leaf": self.leaf,
            "where": self.where,
            "expected": self.expected,
            "found": self.found,
            "detail": self.detail,
            "agency": self.agency,
            "law": self.law,
            "basis": self.basis,
        }

    def position(self) -> str:
        """Where, for people: ``stream S n=N (leaf L)`` or the error's own ``where``."""
        parts = []
        if self.stream is not None:
            parts.append(f"stream {self.stream}")
        if self.n is not None:
            parts.append(f"n={self.n}")
        if self.leaf is not None:
            parts.append(f"leaf {self.leaf}")
        if not parts and self.where:
            parts.append(self.where)
        return " ".join(parts)


def from_error(
    err: HosoError,
    *,
    step: int,
    stream: str | None = None,
    n: int | None = None,
    leaf: int | None = None,
    where: str | None = None,
) -> ReportFinding:
    """A finding from a core error (its check id, where, expected and found); ``where``
    says what was being checked when the error has no position of its own or another."""
    family: Family = "malformed" if isinstance(err, MalformedError) else "integrity"
    expected = None if err.expected is None else render(err.expected)
    found = None if err.found is None else render(err.found)
    return ReportFinding(
        check=err.check,
        step=step,
        family=family,
        detail=err.detail,
        stream=stream,
        n=n,
        leaf=leaf,
        where=" / ".join(w for w in (where, err.where) if w) or None,
        expected=expected,
        found=found,
    )


@dataclass
class Findings:
    """Findings collected over a run, at most ``cap`` kept per check id."""

    cap: int = DEFAULT_CAP
    kept: list[ReportFinding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    families: dict[str, Family] = field(default_factory=dict)

    def add(self, finding: ReportFinding) -> None:
        self.counts[finding.check] += 1
        self.families[finding.check] = finding.family
        if self.counts[finding.check] <= self.cap:
            self.kept.append(finding)

    def error(self, err: HosoError, *, step: int, **where: Any) -> None:
        self.add(from_error(err, step=step, **where))

    def total(self, family: Family) -> int:
        return sum(c for check, c in self.counts.items() if self.families[check] == family)

    def checks(self, family: Family) -> list[str]:
        return sorted(c for c in self.counts if self.families[c] == family)

    def exit_code(self, *, strict: bool = False) -> int:
        """2 if anything was malformed, else 1 on an integrity failure (or a rule
        finding under ``strict``), else 0."""
        if self.total("malformed"):
            return EXIT_MALFORMED
        if self.total("integrity") or (strict and self.total("rule")):
            return EXIT_INTEGRITY
        return EXIT_VERIFIED
