"""One witness: check an add-checkpoint request (:mod:`ledger.core.witness`), cosign it,
record it durably, answer. Check, record and answer happen under one lock, so two
requests for one log can never roll its recorded size back (tlog-witness §add-checkpoint).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from ledger.core.checkpoint import AnyCosigner
from ledger.core.note import Note, NoteSignature, NoteVerifier, verify_note
from ledger.core.witness import (
    WitnessUnknownLog,
    check_add_checkpoint,
    parse_add_checkpoint,
)
from ledger.witness.state import Witnessed, WitnessState


def wall_clock_s() -> int:
    return int(time.time())


class Witness:
    def __init__(
        self,
        *,
        cosigner: AnyCosigner,
        logs: Mapping[str, Sequence[NoteVerifier]],
        state: WitnessState,
        clock_s: Callable[[], int] = wall_clock_s,
    ) -> None:
        """``logs``: origin → the log keys trusted for it."""
        self.cosigner = cosigner
        self.logs = {origin: tuple(keys) for origin, keys in logs.items() if keys}
        self.state = state
        self.clock_s = clock_s
        self._mutex = threading.Lock()

    def add_checkpoint(self, body: bytes) -> tuple[NoteSignature, ...]:
        """The cosignature line(s) for a valid request, after recording it; else a typed
        error (:mod:`ledger.core.witness`) and the state unchanged."""
        request = parse_add_checkpoint(body)
        origin = request.checkpoint.origin
        keys = self.logs.get(origin)
        if keys is None:
            raise WitnessUnknownLog("this witness does not witness that log", found=origin)
        with self._mutex:
            latest = self.state.get(origin)
            head = check_add_checkpoint(
                request, log_keys=keys, latest=None if latest is None else latest.head
            )
            # the timestamp is never 0 (tlog-witness: it must not be omitted)
            cosignature = self.cosigner.cosign_text(
                request.note.text, timestamp=max(1, self.clock_s())
            )
            verified = {(k.name, k.key_id) for k in verify_note(request.note, keys)}
            kept = [s for s in request.note.signatures if (s.name, s.key_id) in verified]
            note = Note(request.note.text, (*kept, cosignature))
            self.state.record(origin, Witnessed(head, note.serialise()))
        return (cosignature,)

    def checkpoint_by_origin_hash(self, origin_hash: str) -> bytes | None:
        """The latest cosigned checkpoint of the log whose origin hashes (SHA-256, lower-case
        hex) to ``origin_hash``, or None."""
        for origin in self.state.origins():
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                witnessed = self.state.get(origin)
                return None if witnessed is None else witnessed.note
        return None
