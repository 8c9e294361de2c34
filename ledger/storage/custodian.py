"""Custodial signing: the system signs for actors whose keys it holds.

Like a remote-signing service, the custodian holds officers' keys in the
encrypted keystore (:mod:`ledger.storage.keystore`) and signs on their behalf; the
signed record then goes through exactly the same checks as a record an actor's
own client signed. Keys are looked up by name per call and never logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import sign_event
from ledger.core.signing import Signer
from ledger.storage.errors import StreamConflict
from ledger.storage.store import Appended, EventStore


class Custodian:
    def __init__(
        self,
        store: EventStore,
        signer_for: Callable[[str], Signer],
        *,
        clock_us: Callable[[], int],
    ) -> None:
        self.store = store
        self.signer_for = signer_for
        self.clock_us = clock_us

    def act(
        self,
        *,
        stream: str,
        event_type: str,
        actor: str,
        payload: dict[str, Value],
        keys: Sequence[str],
        attempts: int = 3,
    ) -> Appended:
        """Sign an event on the stream's current head with the named keys and append it.

        On a lost race the event is re-signed on the new head, up to ``attempts`` times.
        """
        signers = [self.signer_for(name) for name in keys]

        def attempt() -> Appended:
            head = self.store.head(stream)
            body = next_body(
                head,
                origin=self.store.origin,
                stream=stream,
                event_type=event_type,
                actor=actor,
                time_us=self.clock_us(),
                payload=payload,
            )
            return self.store.append([sign_event(body, signers).record])[0]

        for _ in range(attempts - 1):
            try:
                return attempt()
            except StreamConflict:
                continue
        return attempt()
