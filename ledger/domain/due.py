"""Due dates (docs/domain-time.md §5–§7): computed once, at reception, from the electronic
reception instant, the procedure and a :class:`~ledger.domain.calendar.WorkingCalendar`,
and recorded with ``rule_version`` and ``calendar_version`` so that anyone can recompute
them (DOMAIN.md Part 3 (b) rule 4); moved by supplement pauses; judged early, on time
or late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ledger.domain.calendar import (
    MalformedTime,
    WorkingCalendar,
    check_instant,
    local_date,
    parse_hhmm,
    time_of_day_us,
)
from ledger.domain.law import Counting, LawBook, shipped_law
from ledger.domain.procedures import (
    CATALOGUE_VERSION_PATTERN,
    PLACEHOLDER_CODE_PATTERN,
    PROCEDURE_CODE_PATTERN,
    VERIFICATION_SUFFIX,
    Catalogue,
    MalformedCatalogue,
    Procedure,
    RuleVersionMismatch,
    VerificationTimeMissing,
)

Classification = Literal["early", "on_time", "late"]


@dataclass(frozen=True)
class DueDate:
    """A due date as recorded at reception, with what is needed to recompute it."""

    received_us: int
    clock_start_us: int
    due_us: int
    rule_version: str
    calendar_version: str
    law_version: str | None = None  # None: computed before legal versions were recorded


def compute_due(
    *,
    received_us: int,
    procedure: Procedure,
    calendar: WorkingCalendar,
    verification: bool = False,
    law: LawBook | None = None,
) -> DueDate:
    """The due date of a dossier electronically received at ``received_us``, counted by the
    legal version in force on the reception date (``law``: the shipped law data if None).

    1. The time is the procedure's ``time``, or its ``verification_time`` when
       ``verification`` (conditions must be verified / the case is complex).
    2. The clock starts at ``calendar.working_instant(received_us)``.
    3. Same-day (amount 0): due at the end of office hours of the clock start's
       day, or of the next working day when the clock start's local time is
       after the cutoff (strictly later than HH:MM:00).
    4. Otherwise :func:`period_end` — the one counting function (docs/domain-time.md §5).
    """
    check_instant(received_us, where="received_us")
    calendar.working_instant(received_us)  # outside the calendar's years: time.range first
    book = shipped_law() if law is None else law
    version = book.in_force(received_us)
    return _compute(received_us, procedure, calendar, verification, version.counting, version.id)


def period_end(
    start_us: int, amount: int, unit: str, *, calendar: WorkingCalendar, counting: Counting
) -> int:
    """The end of a period of ``amount`` ``unit`` from the clock start ``start_us``.

    ``working_days`` under ``civil_code_art147`` (Civil Code 2015 Art. 147–148): the day of
    the event (the reception day) is not counted; the period is the next ``amount`` working
    days and ends when office hours end on the last of them. Under the legacy
    ``eight_working_hours`` (ledgers that recorded no legal version): ``amount`` × 8 working
    hours from the clock start. ``working_hours`` count from the clock start;
    ``calendar_days`` end at the close of office hours ``amount`` days after the clock
    start's date (or the next working day).
    """
    if unit == "working_days" and amount > 0 and counting.working_days == "civil_code_art147":
        start = calendar.working_instant(start_us)
        day = local_date(start)
        for _ in range(amount):
            day = calendar.next_working_day(day)
        return calendar.end_of_working_day(day)
    return calendar.add_working_time(start_us, amount, unit)


def _compute(  # noqa: PLR0917 — one private helper of the two entry points above
    received_us: int,
    procedure: Procedure,
    calendar: WorkingCalendar,
    verification: bool,
    counting: Counting,
    law_version: str | None,
) -> DueDate:
    if type(verification) is not bool:
        raise MalformedCatalogue("expected true or false", where="verification")
    time = procedure.time
    if verification:
        if procedure.verification_time is None:
            raise VerificationTimeMissing(
                f"{procedure.code} has no verification time", where="verification"
            )
        time = procedure.verification_time
    start = calendar.working_instant(received_us)
    if time.amount == 0:
        day = local_date(start)
        if time.cutoff is not None and time_of_day_us(start) > parse_hhmm(
            time.cutoff, where="cutoff"
        ):
            day = calendar.next_working_day(day)
        due = calendar.end_of_working_day(day)
    else:
        due = period_end(start, time.amount, time.unit, calendar=calendar, counting=counting)
    return DueDate(
        received_us=received_us,
        clock_start_us=start,
        due_us=due,
        rule_version=procedure.rule_version(verification=verification),
        calendar_version=calendar.version,
        law_version=law_version,
    )


def parse_rule_version(rule_version: str) -> tuple[str, str, bool]:
    """``(catalogue_version, procedure_code, verification)`` of a recorded rule version."""
    if not isinstance(rule_version, str) or rule_version.count("#") != 1:
        raise MalformedCatalogue(
            f"expected 'catalogue#code[+verification]', got {rule_version!r}",
            where="rule_version",
        )
    version, code = rule_version.split("#")
    verification = code.endswith(VERIFICATION_SUFFIX)
    if verification:
        code = code.removesuffix(VERIFICATION_SUFFIX)
    if not CATALOGUE_VERSION_PATTERN.fullmatch(version) or not (
        PROCEDURE_CODE_PATTERN.fullmatch(code) or PLACEHOLDER_CODE_PATTERN.fullmatch(code)
    ):
        raise MalformedCatalogue(
            f"expected 'catalogue#code[+verification]', got {rule_version!r}",
            where="rule_version",
        )
    return version, code, verification


def due_for_rule(
    *,
    received_us: int,
    rule_version: str,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    procedure: str | None = None,
    law_version: str | None = None,
    law: LawBook | None = None,
) -> DueDate:
    """Recompute a recorded due date from its ``rule_version`` (DOMAIN.md (b) rule 4),
    counted as the recorded ``law_version`` counts (None: the legacy counting).

    ``procedure`` is the dossier's own: a due date recorded under another (known)
    procedure's rule is recomputed under the dossier's own procedure (same catalogue
    version and verification flag), so that the difference shows.
    """
    version, code, verification = parse_rule_version(rule_version)
    if procedure is not None and procedure != code:
        catalogue.get(code)  # a rule version naming no procedure of the catalogue: refused
        code = procedure
    if version != catalogue.version:
        raise RuleVersionMismatch(
            "the due date was computed with another catalogue",
            where="rule_version",
            expected=version,
            found=catalogue.version,
        )
    check_instant(received_us, where="received_us")
    book = shipped_law() if law is None else law
    return _compute(
        received_us,
        catalogue.get(code),
        calendar,
        verification,
        book.counting_for(law_version),
        law_version,
    )


def extend_for_pause(
    *, due_us: int, paused_us: int, resumed_us: int, calendar: WorkingCalendar
) -> int:
    """The due date after a supplement pause: the working time in
    ``[paused_us, resumed_us]`` is added back after ``due_us``
    (``calendar.add_working_duration``; a pause with no working time leaves
    the due date unchanged). Apply once per pause; pauses must not overlap."""
    check_instant(due_us, where="due_us")
    check_instant(paused_us, where="paused_us")
    check_instant(resumed_us, where="resumed_us")
    if resumed_us < paused_us:
        raise MalformedTime("the clock resumes before it was paused", where="resumed_us")
    return calendar.add_working_duration(
        due_us, calendar.working_time_between(paused_us, resumed_us)
    )


def classify(*, due_us: int, resolved_us: int) -> Classification:
    """``late`` if resolved after the due instant; else ``early`` if resolved on a local
    date before the due date's; else ``on_time`` (resolved on the due day, by the due instant)."""
    check_instant(due_us, where="due_us")
    check_instant(resolved_us, where="resolved_us")
    if resolved_us > due_us:
        return "late"
    if local_date(resolved_us) < local_date(due_us):
        return "early"
    return "on_time"
