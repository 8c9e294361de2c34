"""The seeded plan of a generated ledger: which dossier arrives where, when, and how it goes.

Arrivals are spread over the working days of ``WINDOW`` (January to April 2026,
across Tết Bính Ngọ: 16–20 February 2026 in the shipped calendar), between
07:30 and 13:30 so same-day procedures can finish the same day. Agencies and
procedures are drawn by weight (:mod:`ledger.demo.generator.hanoi`), lifecycles by
weight among those that fit the procedure; the planted violations are placed
at evenly spaced positions, one of each kind. Only ``random.Random(seed)``
decides, so the same seed gives the same plan.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Final

from ledger.demo.generator.hanoi import AGENCIES, CENTER, FEE_PAYERS
from ledger.demo.generator.lifecycles import PLANTED, Case
from ledger.demo.office import JUSTICE, MINUTE, POLICE
from ledger.domain.calendar import VN_TZ, WorkingCalendar, instant
from ledger.domain.procedures import Catalogue

WINDOW: Final = (date(2026, 1, 5), date(2026, 4, 30))
TET: Final = (date(2026, 2, 16), date(2026, 2, 20))
CLEAN_WEIGHTS: Final = (
    ("on_time", 60),
    ("supplement", 9),
    ("apology", 4),
    ("transfer", 6),
    ("refused", 5),
    ("withdrawn", 4),
    ("audited_clean", 3),
    ("revoked_after_audit", 2),
    ("corrected", 4),
)
MULTI_DAY_ONLY: Final = frozenset({"supplement", "apology", "transfer"})
TRANSFERS: Final = {POLICE: JUSTICE, CENTER: POLICE}  # who asks whom


def working_days(calendar: WorkingCalendar) -> list[date]:
    out, day = [], WINDOW[0]
    while day <= WINDOW[1]:
        if calendar.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def planted_positions(dossiers: int) -> dict[int, str]:
    """Index → planted lifecycle: one of each kind, evenly spaced; at most one planted
    dossier per five, so a small run (under 30) plants fewer kinds."""
    kinds = list(PLANTED)[: max(0, dossiers // 5)]
    if not kinds:
        return {}
    step = dossiers / len(kinds)
    return {int(step * i + step / 2): kind for i, kind in enumerate(kinds)}


def plan(
    dossiers: int, *, seed: int, catalogue: Catalogue, calendar: WorkingCalendar
) -> list[Case]:
    """The cases, in arrival order, with their codes."""
    rng = random.Random(seed)  # noqa: S311 (a simulation, not a secret)
    days = working_days(calendar)
    arrivals = sorted(
        instant(datetime.combine(rng.choice(days), datetime.min.time(), VN_TZ))
        + (7 * 60 + 30 + rng.randrange(0, 6 * 60)) * MINUTE
        for _ in range(dossiers)
    )
    planted = planted_positions(dossiers)
    pairs = [(a, p, w) for a in AGENCIES for p, w in a.procedures]
    cases = []
    for index, arrival in enumerate(arrivals):
        variant = rng.randrange(1 << 16)
        if index in planted:
            lifecycle = planted[index]
            procedure = PLANTED[lifecycle][0]
            agency = next(a for a, p, _ in pairs if p == procedure).code
        else:
            agency_, procedure, _ = rng.choices(pairs, weights=[w for _, _, w in pairs])[0]
            agency = agency_.code
            lifecycle = _lifecycle(rng, agency, procedure, catalogue)
        day = datetime.fromtimestamp(arrival / 1e6, VN_TZ).strftime("%y%m%d")
        cases.append(
            Case(
                code=f"{agency}-{day}-{index + 1:06d}",
                procedure=procedure,
                agency=agency,
                arrival_us=arrival,
                lifecycle=lifecycle,
                transfer_to=TRANSFERS.get(agency, ""),
                variant=variant,
            )
        )
    return cases


def _lifecycle(rng: random.Random, agency: str, procedure: str, catalogue: Catalogue) -> str:
    if procedure == "3.000333" and rng.random() < 0.6:
        return "transfer"  # criminal records are mostly checked with the Department of Justice
    multi_day = catalogue.get(procedure).time.amount > 0
    choices = [
        (name, weight)
        for name, weight in CLEAN_WEIGHTS
        if (multi_day or name not in MULTI_DAY_ONLY)
        and (name != "transfer" or agency in TRANSFERS)
        and (name != "corrected" or procedure in FEE_PAYERS)
    ]
    return rng.choices([n for n, _ in choices], weights=[w for _, w in choices])[0]
