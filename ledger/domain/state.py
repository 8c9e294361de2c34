"""A dossier's folded state, and what its lifecycle refuses (docs/domain.md §States).

The frozen records :func:`ledger.domain.dossier.evolve` returns — the dossier
(:class:`DossierState`), its components, transfers and results — what the key
registry says about a signer (:class:`SignerInfo`), what the lifecycle needs of the
catalogue (:class:`ProcedureBook`), and the ``domain.*`` errors it raises. Pure.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol, TypeVar

from ledger.core.errors import StateConflict
from ledger.domain import lifecycle as ev
from ledger.domain.calendar import VN_TZ
from ledger.domain.lifecycle import State

_T = TypeVar("_T")


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def replace(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for the frozen state classes here (none has an
    ``__init__`` side effect or ``__post_init__``), copying fields directly
    instead of re-running ``__init__``: folds call it for every event, and it
    was a fifth of a projection rebuild's time."""
    cls: type = type(obj)
    new: _T = object.__new__(cls)
    for name in _field_names(cls):
        object.__setattr__(new, name, changes.pop(name) if name in changes else getattr(obj, name))
    if changes:
        raise TypeError(f"{cls.__name__} has no fields {sorted(changes)}")
    return new


def format_time(t_us: int | None) -> str:
    """A time for people: ISO 8601 in Vietnam time (UTC+07:00), to the minute."""
    if t_us is None:
        return "-"
    moment = datetime.fromtimestamp(t_us / 1_000_000, tz=VN_TZ)
    return moment.strftime("%Y-%m-%d %H:%M+07:00")


class DomainRejected(StateConflict):
    """An event the dossier's lifecycle does not allow."""

    check = "domain.rejected"


class IllegalTransition(DomainRejected):
    check = "domain.transition"


class WrongRole(DomainRejected):
    check = "domain.role"


class WrongAgency(DomainRejected):
    check = "domain.agency"


class InputsMissing(DomainRejected):
    check = "domain.inputs_missing"


class LifecycleRuleBroken(DomainRejected):
    check = "domain.rule"


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """What the key registry says about one signature's key."""

    actor: str
    roles: frozenset[str]
    agency: str


class ProcedureBook(Protocol):
    """What the state machine needs from the procedure catalogue."""

    def required_components(self, procedure: str) -> frozenset[str] | None:
        """Component codes a procedure requires, or None if the procedure is unknown."""
        ...

    def signatures_for(self, procedure: str, event_type: str) -> tuple[str, ...] | None:
        """Roles that must each sign this event for this procedure (None: lifecycle default)."""
        ...


@dataclass(frozen=True, slots=True)
class Component:
    document_hash: bytes
    source: str
    source_ref: str
    n: int


@dataclass(frozen=True, slots=True)
class Transfer:
    to_agency: str
    step: str
    allowance_hours: int
    sent_us: int
    acknowledged_us: int | None = None
    returned_us: int | None = None


@dataclass(frozen=True, slots=True)
class Result:
    number: str
    result_type: str
    document_hash: bytes
    outcome: str
    medium: str
    issued_us: int
    n: int
    status: str = "valid"  # valid | revoked | superseded
    superseded_by: str | None = None
    digitized: bool = False
    delivered_channel: str | None = None
    ended_us: int | None = None  # when it was revoked or superseded


@dataclass(frozen=True, slots=True)
class DossierState:
    code: str
    state: State
    procedure: str
    agency: str
    channel: str
    applicant: bytes
    applicant_kind: int
    submitted_us: int
    legal_basis: str
    n: int
    personal: bytes | None = None  # commitment to the personal record (docs/privacy.md)
    vneid: bool | None = None  # the account was authenticated with VNeID (None: not recorded)
    components: Mapping[str, Component] = field(default_factory=dict)
    received_us: int | None = None
    clock_start_us: int | None = None
    due_us: int | None = None  # in force now: after pauses, or the apology's new date
    original_due_us: int | None = None  # fixed at reception
    legal_due_us: int | None = None  # after supplement pauses, before any apology
    rule_version: str | None = None
    calendar_version: str | None = None
    law_version: str | None = None  # recorded at reception (None: older ledgers)
    handler: str | None = None
    paused_since_us: int | None = None
    pause_kind: str | None = None  # supplement | payment, while paused
    apology_status: str | None = None  # issued | accepted | refused | withdrawn
    due_before_apology_us: int | None = None  # the due date an apology moved
    supplements: int = 0
    apologies: int = 0
    transfers: tuple[Transfer, ...] = ()
    results: Mapping[str, Result] = field(default_factory=dict)
    withdrawal_requested: bool = False
    audits: Mapping[str, str] = field(default_factory=dict)  # audit id → open | concluded
    findings: tuple[tuple[str, str, bool], ...] = ()  # (audit, finding, revocation_due)
    resolved_us: int | None = None
    finished_us: int | None = None

    @property
    def portal_code(self) -> int | None:
        return self.state.portal_code

    @property
    def rescheduled(self) -> bool:
        return self.apologies > 0

    @property
    def revoked(self) -> bool:
        return any(r.status == "revoked" for r in self.results.values())

    @property
    def corrected(self) -> bool:
        return any(r.status == "superseded" for r in self.results.values())

    @property
    def under_audit(self) -> bool:
        return "open" in self.audits.values()

    @property
    def current_agency(self) -> str:
        """Who holds the dossier: the agency of an unreturned transfer, else its own."""
        open_transfers = [t for t in self.transfers if t.returned_us is None]
        return open_transfers[-1].to_agency if open_transfers else self.agency

    @property
    def apology_in_force(self) -> bool:
        """An apology moved the due date and was neither refused nor withdrawn."""
        return self.apology_status in ("issued", "accepted")

    def overdue_from(self) -> int | None:
        """The pause-aware clock (one function for the overdue queue, the statistics and
        the rules): the instant after which the dossier is overdue, or None if it is not
        overdue at any later ``now``. Resolution stops the clock; while the dossier waits
        for a supplement or a payment the clock is stopped too, so a paused dossier is
        overdue only if it already was when the pause began."""
        if self.due_us is None or self.state in ev.TERMINAL - {State.DELIVERED}:
            return None
        if self.resolved_us is not None:
            return self.due_us if self.resolved_us > self.due_us else None
        if self.paused_since_us is not None:
            return self.due_us if self.paused_since_us > self.due_us else None
        return self.due_us

    def clock_at(self, now_us: int) -> int:
        """The instant the agency's clock shows at ``now_us``: ``now_us`` while it runs, the
        pause's start while paused, the resolution once resolved."""
        if self.resolved_us is not None:
            return self.resolved_us
        if self.paused_since_us is not None:
            return min(self.paused_since_us, now_us)
        return now_us

    def overdue(self, now_us: int) -> bool:
        """Past its due date in force at ``now_us``, by the pause-aware clock."""
        start = self.overdue_from()
        return start is not None and now_us > start
