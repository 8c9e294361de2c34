"""Typed errors: hoso's three families, and the pure core's own errors.

Three families under one root, told apart by class (never by check-id strings):

* :class:`MalformedError` — the input could not be parsed (wrong type, wrong
  length, non-canonical bytes, bad syntax). Nothing was checked yet.
* :class:`VerificationError` — the input is well-formed but failed a check
  (a hash, a link, a signature, a proof). :class:`StateConflict` is the kind
  that passes every check of its own but conflicts with the current state (a
  stream position already taken, a lifecycle step out of order).
* :class:`UnavailableError` — not a fault in the input nor a failed check:
  what was asked for is not there (:class:`NotFoundError`, :class:`GoneError`),
  is refused to this caller (:class:`RefusedError`), or can't be served now
  (:class:`OutOfServiceError`: a key not loaded, a store not reachable).

Every concrete class carries a stable ``check`` id (``chain.link``,
``merkle.inclusion``...), one class per id (a test enforces it). Instances name
*where* the problem is (a position such as ``stream 1.001193-260101-0001 n=3``
or ``byte 17``) and, where known, the *expected* and *found* values, bytes
rendered as hex.
"""

from __future__ import annotations

from typing import Any, ClassVar


def render(value: object) -> str:
    """Render a value for an error message: bytes as hex, the rest as repr."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return repr(value)


class HosoError(Exception):
    """Root of every error hoso raises on purpose.

    ``expected`` and ``found`` are kept as given (bytes stay bytes) and
    rendered as hex in the message.
    """

    check: ClassVar[str] = "hoso"

    def __init__(
        self,
        detail: str,
        *,
        where: str | None = None,
        expected: object = None,
        found: object = None,
    ) -> None:
        self.detail = detail
        self.where = where
        self.expected = expected
        self.found = found
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" at {self.where}" if self.where else ""
        base = f"[{self.check}]{where}: {self.detail}"
        if self.expected is None and self.found is None:
            return base
        return f"{base} (expected {render(self.expected)}, found {render(self.found)})"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description (check id, position, detail, expected and found)."""
        return {
            "check": self.check,
            "where": self.where,
            "detail": self.detail,
            "expected": None if self.expected is None else render(self.expected),
            "found": None if self.found is None else render(self.found),
        }


class MalformedError(HosoError):
    """The input can't be parsed: nothing about its validity is known."""

    check = "malformed"


class VerificationError(HosoError):
    """The input is well-formed but failed a check."""

    check = "verification"


class StateConflict(VerificationError):
    """Valid in itself, but the current state refuses it (re-read the state and retry)."""

    check = "conflict"


class UnavailableError(HosoError):
    """What was asked for can't be given; nothing is said about the input's validity."""

    check = "unavailable"


class NotFoundError(UnavailableError):
    """No such thing (or none this caller may know of)."""

    check = "not_found"


class GoneError(NotFoundError):
    """It existed and was removed for good (e.g. erased personal data)."""

    check = "gone"


class RefusedError(UnavailableError):
    """This caller may not have it (a role or purpose that does not allow it)."""

    check = "refused"


class OutOfServiceError(UnavailableError):
    """It can't be served now: a key that is not loaded, a store that can't be reached."""

    check = "out_of_service"


FAMILIES: tuple[type[HosoError], ...] = (MalformedError, VerificationError, UnavailableError)
"""The three families; every concrete error class is in exactly one."""


# --- malformed input -------------------------------------------------------


class MalformedEncoding(MalformedError):
    """Bytes are not valid msgpack, or not in hoso's canonical form."""

    check = "encoding.canonical"


class MalformedRecord(MalformedError):
    """A signed event record or body has missing, extra or mistyped fields."""

    check = "record.shape"


class MalformedKey(MalformedError):
    """A public key, key id, seed or verifier key string has the wrong form."""

    check = "key.shape"


class MalformedProof(MalformedError):
    """A Merkle proof, index or size is out of range or has the wrong shape."""

    check = "merkle.proof_shape"


class MalformedNote(MalformedError):
    """A C2SP signed note does not follow the signed-note syntax."""

    check = "note.syntax"


class MalformedCheckpoint(MalformedError):
    """A note's text is not a C2SP tlog-checkpoint body."""

    check = "checkpoint.syntax"


# --- failed checks ---------------------------------------------------------


class EventHashMismatch(VerificationError):
    """The hash of the event body differs from the hash claimed for it."""

    check = "event.hash"


class SignatureInvalid(VerificationError):
    """An Ed25519 signature does not verify over its message."""

    check = "signature.invalid"


class SignatureUnknownKey(VerificationError):
    """A signature names a key id that is not among the trusted keys."""

    check = "signature.unknown_key"


class ChainLinkBroken(VerificationError):
    """An event's ``prev`` is not the hash of its stream's previous event."""

    check = "chain.link"


class ChainPositionBroken(VerificationError):
    """An event's position ``n`` does not follow its predecessor's."""

    check = "chain.position"


class ChainStreamMismatch(VerificationError):
    """An event and its supposed predecessor belong to different streams or ledgers."""

    check = "chain.stream"


class InclusionProofFailed(VerificationError):
    """The root recomputed from an inclusion proof differs from the trusted root."""

    check = "merkle.inclusion"


class ConsistencyProofFailed(VerificationError):
    """A consistency proof does not link the two roots."""

    check = "merkle.consistency"


class NoteSignatureInvalid(VerificationError):
    """A known key's signature on a signed note does not verify."""

    check = "note.signature"


class NoteNotSigned(VerificationError):
    """No signature on a signed note is by a known key."""

    check = "note.unsigned"


class CheckpointOriginMismatch(VerificationError):
    """A checkpoint names a different log origin than the one expected."""

    check = "checkpoint.origin"


class CosignatureInvalid(VerificationError):
    """A witness cosignature does not verify over the checkpoint."""

    check = "cosignature.invalid"
