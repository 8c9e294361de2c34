"""On time, early or late: per dossier and per inter-agency step (Decision 766 indicators).

A dossier is judged against its due date after supplement pauses and before
any apology (an apology reschedules, it does not make a late dossier on time):
``due.classify`` — late if resolved after that instant, early if
resolved on an earlier local date, on time otherwise. An inter-agency step is
judged by the working hours it used against its allowance, as the production
systems do per process node: late above the allowance, on time within its
last working day (8 working hours), early before that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.domain.calendar import WORKING_DAY_HOURS
from ledger.domain.due import Classification, classify
from ledger.domain.state import DossierState


@dataclass(frozen=True, slots=True)
class StepTimeliness:
    agency: str
    step: str
    allowance_hours: int
    used_hours: float
    outcome: Classification


@dataclass(frozen=True, slots=True)
class Timeliness:
    dossier: Classification | None  # None: not resolved yet
    steps: tuple[StepTimeliness, ...]


def timeliness(
    state: DossierState, *, working_hours_between: Callable[[int, int], float]
) -> Timeliness:
    """Classify a dossier and each of its finished inter-agency steps."""
    dossier: Classification | None = None
    if state.resolved_us is not None and state.legal_due_us is not None:
        dossier = classify(due_us=state.legal_due_us, resolved_us=state.resolved_us)
    steps = []
    for transfer in state.transfers:
        if transfer.returned_us is None:
            continue
        used = working_hours_between(
            transfer.acknowledged_us or transfer.sent_us, transfer.returned_us
        )
        outcome: Classification
        if used > transfer.allowance_hours:
            outcome = "late"
        elif used > transfer.allowance_hours - WORKING_DAY_HOURS:
            outcome = "on_time"
        else:
            outcome = "early"
        steps.append(
            StepTimeliness(
                transfer.to_agency, transfer.step, transfer.allowance_hours, used, outcome
            )
        )
    return Timeliness(dossier, tuple(steps))
