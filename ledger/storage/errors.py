"""What the store refuses, each a typed error with its check id (docs/storage.md §Checks)."""

from __future__ import annotations

from ledger.core.errors import NotFoundError, StateConflict, VerificationError


class StreamConflict(StateConflict):
    """Another event already holds this stream position; carries the current head."""

    check = "append.conflict"

    def __init__(self, detail: str, *, stream: str, head_n: int, head_hash: bytes | None) -> None:
        self.stream = stream
        self.head_n = head_n
        self.head_hash = head_hash
        super().__init__(
            detail, where=f"stream {stream}", expected=f"n={head_n + 1}", found="a taken position"
        )


class OriginMismatch(VerificationError):
    """The record names another ledger's origin."""

    check = "append.origin"


class KeyUnregistered(VerificationError):
    """A signature is by a key the registry does not know."""

    check = "key.unregistered"


class KeyRevoked(VerificationError):
    """A signature is by a revoked key."""

    check = "key.revoked"


class KeyRevokedConcurrently(KeyRevoked):
    """A signing key was revoked by a transaction that committed just before this append
    (found by the recorder's re-check inside the locked insert)."""


class ActorSignatureMissing(VerificationError):
    """No signature is by a key registered to the event's actor."""

    check = "signature.actor"


class RegistryRejected(VerificationError):
    """A key-registry event the registry can't take: not by an authority key, a key
    registered twice, or a revocation of an unknown or revoked key."""

    check = "registry.rejected"


class LogKeyRequired(VerificationError):
    """An index commit not signed by this ledger's log key."""

    check = "append.log_key"


class EventNotStored(NotFoundError):
    """No stored event at this stream position."""

    check = "store.event_unknown"
