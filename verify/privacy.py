"""Step 9, personal data: reads outside the reader's scope, erasures under retention.

The access log (``system/access``) and the erasures (``system/privacy``) are
read once, before the dossier pass; the pass then keeps, of all dossiers, only
what these rules need: the dossiers a read named, and every dossier of a
subject that was searched for or erased (state and handler assignments). So
memory grows with the access log, not with the ledger. The rules themselves
are the domain's (:func:`ledger.domain.privacy.audit_access`,
:func:`ledger.domain.privacy.audit_erasures`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.core.errors import HosoError
from ledger.core.event import parse_record
from ledger.domain.lifecycle import ASSIGNED
from ledger.domain.privacy import (
    ACCESS_STREAM,
    PRIVACY_STREAM,
    AccessEntry,
    Handled,
    access_entries,
    audit_access,
    audit_erasures,
    erasure,
)
from ledger.domain.rules import Recorded, RuleFinding
from ledger.domain.state import DossierState
from verify.source import Source


class PrivacyAudit:
    def __init__(self, source: Source, *, retention_us: int) -> None:
        self.retention_us = retention_us
        self.entries: list[tuple[str, int, AccessEntry]] = []
        self.erasures: list[tuple[str, int, int, bytes]] = []
        for record in source.stream(ACCESS_STREAM):
            try:
                body = parse_record(record).body
                self.entries.extend((body.stream, body.n, e) for e in access_entries(body))
            except HosoError:
                continue  # pass 1 (or the store's check) names a malformed record
        for record in source.stream(PRIVACY_STREAM):
            try:
                body = parse_record(record).body
                subject = erasure(body)[0]
            except HosoError:
                continue
            self.erasures.append((body.stream, body.n, body.time_us, subject))
        self.codes = {e.dossier for _, _, e in self.entries if e.dossier}
        self.subjects = {e.subject for _, _, e in self.entries if not e.dossier} | {
            subject for *_, subject in self.erasures
        }
        self.kept: dict[str, Handled] = {}

    def observe(self, state: DossierState, history: Sequence[Recorded]) -> None:
        """Called by the dossier pass for each dossier: keep it if a rule needs it."""
        if state.code not in self.codes and state.applicant not in self.subjects:
            return
        assignments = tuple(
            (r.body.time_us, str(r.body.payload.get("handler", "")))
            for r in history
            if r.body.type == ASSIGNED
        )
        self.kept[state.code] = Handled(state, assignments)

    def findings(self) -> Iterable[RuleFinding]:
        states_of: dict[bytes, list[DossierState]] = {}
        for handled in self.kept.values():
            states_of.setdefault(handled.state.applicant, []).append(handled.state)
        yield from audit_access(self.entries, self.kept)
        yield from audit_erasures(self.erasures, states_of, retention_us=self.retention_us)
