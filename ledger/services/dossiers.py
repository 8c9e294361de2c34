"""The dossier service: commands in, signed events out, through the checked store.

The I/O edge of the domain: it reads a dossier's history (with what the key
registry says about each signature's key), folds it with the pure state
machine, turns a command into an event on the current head, signs it with the
acting officials' keys, and appends it — where the store runs the very same
lifecycle checks again for every record, client-signed or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ledger.core.chain import next_body
from ledger.core.errors import NotFoundError
from ledger.core.event import SignedEvent, sign_event
from ledger.core.signing import KeyId, Signer
from ledger.domain import commands as cmd
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.dossier import evolve, start
from ledger.domain.due import compute_due, due_for_rule, extend_for_pause
from ledger.domain.privacy import ACCESS_STREAM, PRIVACY_STREAM, check_privacy_event
from ledger.domain.procedures import Catalogue
from ledger.domain.reuse import ReuseIndex
from ledger.domain.rules import AuditContext, Recorded, RuleFinding, audit_dossier
from ledger.domain.state import DossierState, ProcedureBook, SignerInfo
from ledger.domain.submission import check_submission
from ledger.storage.keys import KeyRecord
from ledger.storage.store import Appended, EventStore

_DOSSIER_CODES = (
    "SELECT DISTINCT originator_id AS code FROM hoso_events"
    " WHERE originator_id NOT LIKE %s ORDER BY 1"
)


PRIVACY_STREAMS = frozenset({ACCESS_STREAM, PRIVACY_STREAM})


class DossierUnknown(NotFoundError):
    """No dossier has this code."""

    check = "dossier.unknown"


def signer_infos(event: SignedEvent, keys: Mapping[KeyId, KeyRecord]) -> tuple[SignerInfo, ...]:
    """What the registry says about each signature's key (unknown keys are left out)."""
    return tuple(
        SignerInfo(record.actor, record.roles, record.agency)
        for sig in event.signatures
        if (record := keys.get(sig.key_id)) is not None
    )


def fold(history: Sequence[Recorded], book: ProcedureBook) -> DossierState | None:
    state: DossierState | None = None
    for item in history:
        state = (
            start(item.body, item.signers)
            if state is None
            else evolve(state, item.body, item.signers, book)
        )
    return state


class DossierService:
    def __init__(
        self,
        store: EventStore,
        *,
        catalogue: Catalogue,
        calendar: WorkingCalendar,
        signer_for: Callable[[str], Signer],
        clock_us: Callable[[], int],
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.calendar = calendar
        self.signer_for = signer_for
        self.clock_us = clock_us

    # --- reads --------------------------------------------------------------

    def history(self, code: str) -> list[Recorded]:
        events = self.store.read_stream(code)
        keys = self.store.keys(sorted({s.key_id for e in events for s in e.signatures}))
        return [Recorded(e.body, signer_infos(e, keys)) for e in events]

    def state(self, code: str) -> DossierState | None:
        return fold(self.history(code), self.catalogue)

    def codes(self) -> list[str]:
        """Every dossier's code (every stream but the system ones), in order."""
        rows = self.store.backend.sql.rows(_DOSSIER_CODES, ["system/%"])
        return [str(r["code"]) for r in rows]

    def reuse_index(self) -> ReuseIndex:
        """Every applicant's valid results, for reuse by later dossiers (folds every dossier;
        the projections keep the same index incrementally)."""
        states = (self.state(code) for code in self.codes())
        return ReuseIndex.build((s for s in states if s is not None), self.catalogue.reusable_from)

    def working_hours_between(self, a_us: int, b_us: int) -> float:
        return self.calendar.working_time_between(a_us, b_us) / 3_600_000_000

    def audit_context(self, *, now_us: int, agencies: frozenset[str] | None = None) -> AuditContext:
        """Everything the post-audit rules need, from this ledger's catalogue and calendar;
        ``agencies``, the agency catalogue's codes, also judges transfers' targets."""

        def recompute(state: DossierState) -> int | None:
            if state.received_us is None or state.rule_version is None:
                return None
            return due_for_rule(
                received_us=state.received_us,
                rule_version=state.rule_version,
                catalogue=self.catalogue,
                calendar=self.calendar,
                procedure=state.procedure,
                law_version=state.law_version,
            ).due_us

        return AuditContext(
            book=self.catalogue,
            now_us=now_us,
            paper_allowed=self.catalogue.paper_allowed,
            exempt_from_fees=self.catalogue.exempt_from_fees,
            recompute_due=recompute,
            reusable=self.reuse_index().reusable,
            national_database=self.catalogue.national_database,
            working_hours_between=self.working_hours_between,
            known_agency=None if agencies is None else agencies.__contains__,
        )

    def audit(
        self, codes: Sequence[str], *, now_us: int, agencies: frozenset[str] | None = None
    ) -> list[RuleFinding]:
        """Every post-audit rule over the given dossiers, as of ``now_us``."""
        ctx = self.audit_context(now_us=now_us, agencies=agencies)
        return [f for code in codes for f in audit_dossier(self.history(code), ctx)]

    # --- writes ------------------------------------------------------------------

    def execute(
        self,
        code: str,
        draft: cmd.Draft,
        *,
        actor: str,
        keys: Sequence[str],
        time_us: int | None = None,
    ) -> Appended:
        """Sign ``draft`` on the dossier's head with the named keys and append it."""
        head = self.store.head(code)
        body = next_body(
            head,
            origin=self.store.origin,
            stream=code,
            event_type=draft.type,
            actor=actor,
            time_us=self.clock_us() if time_us is None else time_us,
            payload=draft.payload,
        )
        event = sign_event(body, [self.signer_for(name) for name in keys])
        return self.store.append([event.record])[0]

    def receive(
        self,
        code: str,
        *,
        actor: str,
        keys: Sequence[str],
        receipt_hash: bytes,
        received_us: int | None = None,
        verification: bool = False,
    ) -> Appended:
        """Form 01: fix the due date from the procedure's rule and the calendar, then receive."""
        state = self.existing(code)
        received = self.clock_us() if received_us is None else received_us
        procedure = self.catalogue.get(state.procedure)
        due = compute_due(
            received_us=received,
            procedure=procedure,
            calendar=self.calendar,
            verification=verification,
        )
        draft = cmd.receive_dossier(
            state,
            received_us=due.received_us,
            clock_start_us=due.clock_start_us,
            due_us=due.due_us,
            rule_version=due.rule_version,
            calendar_version=due.calendar_version,
            receipt_hash=receipt_hash,
            required=procedure.component_codes,
            law_version=due.law_version,
        )
        return self.execute(code, draft, actor=actor, keys=keys, time_us=received)

    def receive_supplement(
        self,
        code: str,
        *,
        actor: str,
        keys: Sequence[str],
        items: list[str],
        now_us: int | None = None,
    ) -> Appended:
        """The supplement arrived: the due date moves by the paused working time."""
        state = self.existing(code)
        now = self.clock_us() if now_us is None else now_us
        if state.due_us is None or state.paused_since_us is None:
            due = state.due_us or now
        else:
            due = extend_for_pause(
                due_us=state.due_us,
                paused_us=state.paused_since_us,
                resumed_us=now,
                calendar=self.calendar,
            )
        draft = cmd.receive_supplement(state, items=items, due_us=due)
        return self.execute(code, draft, actor=actor, keys=keys, time_us=now)

    def record_payment(
        self,
        code: str,
        *,
        actor: str,
        keys: Sequence[str],
        amount_vnd: int,
        receipt_ref: str,
        method: str,
        now_us: int | None = None,
    ) -> Appended:
        """The fee was paid: the clock resumes and the due date moves by the paused
        working time (waiting for a payment does not count against the agency)."""
        state = self.existing(code)
        now = self.clock_us() if now_us is None else now_us
        draft = cmd.record_payment(
            state,
            amount_vnd=amount_vnd,
            receipt_ref=receipt_ref,
            due_us=self.resumed_due(state, now),
            method=method,
        )
        return self.execute(code, draft, actor=actor, keys=keys, time_us=now)

    def resumed_due(self, state: DossierState, now_us: int) -> int | None:
        """The due date in force after the dossier's current pause ends at ``now_us``."""
        if state.due_us is None or state.paused_since_us is None:
            return state.due_us
        return extend_for_pause(
            due_us=state.due_us,
            paused_us=state.paused_since_us,
            resumed_us=now_us,
            calendar=self.calendar,
        )

    def existing(self, code: str) -> DossierState:
        """The dossier's state (``dossier.unknown`` if no dossier has this code)."""
        state = self.state(code)
        if state is None:
            raise DossierUnknown("no dossier with this code", where=code, found=code)
        return state


class DossierPolicy:
    """The store's domain check: every record on a dossier stream must be a legal step.

    Called by :meth:`EventStore.append` after the signatures verified, with the
    registry records of the signing keys. The personal-data streams
    (``system/access``, ``system/privacy``) are checked by
    :func:`ledger.domain.privacy.check_privacy_event`; other system streams
    (``system/...``) are not dossiers and pass. A new dossier's code, date and procedure
    are checked first (:mod:`ledger.domain.submission`). Any refusal is a typed
    ``domain.*``, ``domain.payload`` or ``dossier.*`` error, and nothing of the batch is
    stored.
    """

    def __init__(self, book: ProcedureBook) -> None:
        self.book = book

    def __call__(
        self, store: EventStore, events: Sequence[SignedEvent], keys: Mapping[KeyId, KeyRecord]
    ) -> None:
        states: dict[str, DossierState | None] = {}
        for event in events:
            stream = event.body.stream
            if stream in PRIVACY_STREAMS:
                check_privacy_event(event.body, signer_infos(event, keys))
                continue
            if stream.startswith("system/"):
                continue
            if stream not in states:
                stored = store.read_stream(stream)
                ids = sorted({s.key_id for e in stored for s in e.signatures})
                known = {**store.keys(ids), **keys}
                states[stream] = fold(
                    [Recorded(e.body, signer_infos(e, known)) for e in stored], self.book
                )
            before = states[stream]
            signers = signer_infos(event, keys)
            if before is None:
                check_submission(event.body, self.book)  # code, date, procedure: at the door
            states[stream] = (
                start(event.body, signers)
                if before is None
                else evolve(before, event.body, signers, self.book)
            )
