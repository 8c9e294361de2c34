"""The dossier service, batched: sign on a local view, append in large checked batches."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.core.chain import next_body
from ledger.core.event import SignedEvent, sign_event
from ledger.core.signing import Signer
from ledger.demo.office import Official
from ledger.domain import commands as cmd
from ledger.domain.calendar_data import load_calendar
from ledger.domain.dossier import evolve, start
from ledger.domain.procedures_data import load_catalogue
from ledger.domain.state import DossierState, SignerInfo
from ledger.services.dossiers import DossierService
from ledger.storage.store import Appended, EventStore

START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


class BufferedService(DossierService):
    """The dossier service with a local, in-memory view of the dossiers it writes.

    ``execute`` signs on the local head and buffers the record; ``flush``
    appends the buffer in one checked batch. Reads come from the local view,
    which the store's checks confirm at flush time.
    """

    def __init__(
        self, store: EventStore, *, signers: dict[str, Signer], people: dict[str, Official]
    ) -> None:
        super().__init__(
            store,
            catalogue=load_catalogue(),
            calendar=load_calendar(),
            signer_for=signers.__getitem__,
            clock_us=lambda: START_US,
        )
        self._info = {
            signers[name].key_id: SignerInfo(o.actor, o.roles, o.agency)
            for name, o in people.items()
        }
        self._heads: dict[str, tuple[SignedEvent, DossierState]] = {}
        self.buffer: list[bytes] = []
        self.appended = 0

    def state(self, code: str) -> DossierState | None:
        head = self._heads.get(code)
        return None if head is None else head[1]

    def execute(
        self,
        code: str,
        draft: cmd.Draft,
        *,
        actor: str,
        keys: Sequence[str],
        time_us: int | None = None,
    ) -> Appended:
        head = self._heads.get(code)
        body = next_body(
            None if head is None else head[0],
            origin=self.store.origin,
            stream=code,
            event_type=draft.type,
            actor=actor,
            time_us=self.clock_us() if time_us is None else time_us,
            payload=draft.payload,
        )
        event = sign_event(body, [self.signer_for(name) for name in keys])
        signers = tuple(self._info[s.key_id] for s in event.signatures)
        state = (
            start(body, signers) if head is None else evolve(head[1], body, signers, self.catalogue)
        )
        self._heads[code] = (event, state)
        self.buffer.append(event.record)
        return Appended(code, body.n, event.event_hash)

    def forget(self, code: str) -> None:
        """Drop a finished dossier's local view (memory stays flat)."""
        self._heads.pop(code, None)

    def flush(self) -> None:
        if self.buffer:
            self.store.append(self.buffer)
            self.appended += len(self.buffer)
            self.buffer = []
