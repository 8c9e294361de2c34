"""The key registry's events: who may sign what (docs/storage.md §Key registry).

The registry is its own signed stream, ``system/keys``. Each event is signed by
an agency authority key (a trust root from configuration) and either registers
a key for an actor, with roles and an agency scope, or revokes one. Rotation is
a registration of the new key and a revocation of the old one in one batch.

The authority keys themselves rotate through the registry: a key registered with
the ``authority`` role (by a valid authority) signs registry events from the next
position on, and a ``KeyRevoked`` naming a trust-root authority key (one from the
trust file, which has no registration) ends that key's authority from its position
on. So the trust file's authority keys are where the chain of authority starts, not
a list that must be edited at each rotation (docs/formats.md §12.5, docs/verify.md).

This module is pure: it reads and builds payloads. Whether a key was valid at
a log position is answered by folding these events in log order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from ledger.core.encoding import Value
from ledger.core.errors import MalformedRecord, VerificationError
from ledger.core.event import EventBody, SignedEvent, sign_event
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.signing import KEY_ID_SIZE, KeyId, PublicKey, Signer, key_id, parse_public_key

REGISTRY_STREAM: Final = "system/keys"
KEY_REGISTERED: Final = "KeyRegistered"
KEY_REVOKED: Final = "KeyRevoked"

ROLES: Final = frozenset(
    {
        "portal",  # the national/provincial portal submitting on a citizen's behalf
        "reception",  # one-stop-shop reception officer (cán bộ tiếp nhận)
        "handler",  # specialist handling the dossier (chuyên viên xử lý)
        "leader",  # competent signer of results (lãnh đạo có thẩm quyền)
        "agency_seal",  # the agency's seal key (con dấu điện tử), second signature on results
        "inspector",  # post-audit inspector (thanh tra, hậu kiểm)
        "witness",  # a supervising agency that cosigns checkpoints
        "system",  # an agency system acting on its own account
        "authority",  # signs key-registry events, like a trust-root authority key
    }
)
AUTHORITY_ROLE: Final = "authority"


@dataclass(frozen=True, slots=True)
class KeyRegistration:
    key_id: KeyId
    public_key: PublicKey
    actor: str
    roles: frozenset[str]
    agency: str


@dataclass(frozen=True, slots=True)
class KeyRevocation:
    key_id: KeyId
    reason: str


RegistryChange = KeyRegistration | KeyRevocation


def key_registered(
    public_key: PublicKey, *, actor: str, roles: frozenset[str] | set[str], agency: str
) -> dict[str, Value]:
    """The payload of a ``KeyRegistered`` event."""
    unknown = set(roles) - ROLES
    if not roles or unknown:
        raise MalformedRecord(f"roles must be a non-empty subset of {sorted(ROLES)}: {unknown}")
    role_list: list[Value] = list(sorted(roles))
    return {
        "key_id": key_id(parse_public_key(public_key)),
        "public_key": public_key,
        "actor": actor,
        "roles": role_list,
        "agency": agency,
    }


@dataclass(frozen=True, slots=True)
class Registration:
    """One key to register: whose it is, with which roles, in which agency."""

    public_key: PublicKey
    actor: str
    roles: frozenset[str]
    agency: str


def registration_events(
    registrations: Sequence[Registration],
    *,
    origin: str,
    authority: Signer,
    authority_actor: str,
    time_us: int,
) -> list[SignedEvent]:
    """A fresh registry: one authority-signed ``KeyRegistered`` per key, chained from n=1."""
    out: list[SignedEvent] = []
    prev = GENESIS_PREV
    for n, reg in enumerate(registrations, start=1):
        body = EventBody(
            origin=origin,
            stream=REGISTRY_STREAM,
            n=n,
            prev=prev,
            type=KEY_REGISTERED,
            actor=authority_actor,
            time_us=time_us,
            payload=key_registered(
                reg.public_key, actor=reg.actor, roles=reg.roles, agency=reg.agency
            ),
        )
        event = sign_event(body, [authority])
        out.append(event)
        prev = EventHash(event.event_hash)
    return out


def key_revoked(key: KeyId, *, reason: str) -> dict[str, Value]:
    """The payload of a ``KeyRevoked`` event."""
    return {"key_id": key, "reason": reason}


def registry_change(event: SignedEvent | EventBody) -> RegistryChange:
    """Read the change a registry event makes; raise MalformedRecord if it makes none."""
    body = event.body if isinstance(event, SignedEvent) else event
    where = body.position
    p = body.payload
    if body.stream != REGISTRY_STREAM:
        raise MalformedRecord(f"not a registry event (stream {body.stream})", where=where)
    if body.type == KEY_REGISTERED:
        _expect(p, {"key_id", "public_key", "actor", "roles", "agency"}, where)
        public_key = parse_public_key(_bytes(p, "public_key", where), where=where)
        if p["key_id"] != key_id(public_key):
            raise MalformedRecord("key_id is not derived from public_key", where=where)
        roles = p["roles"]
        if not isinstance(roles, list) or not roles or not set(roles) <= ROLES:
            raise MalformedRecord(
                f"roles must be a non-empty list from {sorted(ROLES)}", where=where
            )
        return KeyRegistration(
            key_id=key_id(public_key),
            public_key=public_key,
            actor=_str(p, "actor", where),
            roles=frozenset(str(r) for r in roles),
            agency=_str(p, "agency", where),
        )
    if body.type == KEY_REVOKED:
        _expect(p, {"key_id", "reason"}, where)
        kid = _bytes(p, "key_id", where)
        if len(kid) != KEY_ID_SIZE:
            raise MalformedRecord(f"key_id must be {KEY_ID_SIZE} bytes", where=where)
        return KeyRevocation(key_id=KeyId(kid), reason=_str(p, "reason", where))
    raise MalformedRecord(f"unknown registry event type {body.type!r}", where=where)


def _expect(payload: dict[str, Value], fields: set[str], where: str) -> None:
    if set(payload) != fields:
        raise MalformedRecord(
            f"payload fields {sorted(payload)}, expected {sorted(fields)}", where=where
        )


def _bytes(payload: dict[str, Value], name: str, where: str) -> bytes:
    value = payload[name]
    if not isinstance(value, bytes):
        raise MalformedRecord(f"{name} must be bin", where=where)
    return value


def _str(payload: dict[str, Value], name: str, where: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise MalformedRecord(f"{name} must be a non-empty str", where=where)
    return value


# --- validity at a log position (pure fold, for verifiers) -------------------


class KeyNotValid(VerificationError):
    """A key was not registered, not for this actor or role, or revoked, at a log position."""

    check = "key.invalid_at_position"


@dataclass(frozen=True, slots=True)
class KeyHistory:
    registration: KeyRegistration
    registered_at: int
    revoked_at: int | None = None


class RegistryState:
    """The registry folded in log order; answers "was key K valid for role R at position P?".

    Positions are leaf indices of the global log: a key registered by the
    registry event at leaf r and revoked by the one at leaf v is valid for
    events at positions r < P < v. Claimed times play no part.
    """

    def __init__(self, roots: Iterable[bytes] = ()) -> None:
        self._keys: dict[KeyId, KeyHistory] = {}
        self._roots = frozenset(KeyId(bytes(k)) for k in roots)  # the trust file's authorities
        self._roots_revoked: dict[KeyId, int] = {}

    def apply(self, change: RegistryChange, *, position: int) -> None:
        if isinstance(change, KeyRegistration):
            if change.key_id in self._keys or change.key_id in self._roots:
                raise KeyNotValid(
                    "key registered twice", where=f"leaf {position}", found=change.key_id
                )
            self._keys[change.key_id] = KeyHistory(change, position)
            return
        if change.key_id in self._roots:
            if change.key_id in self._roots_revoked:
                raise KeyNotValid(
                    "revocation of a revoked authority key",
                    where=f"leaf {position}",
                    found=change.key_id,
                )
            self._roots_revoked[change.key_id] = position
            return
        history = self._keys.get(change.key_id)
        if history is None or history.revoked_at is not None:
            raise KeyNotValid(
                "revocation of an unknown or revoked key",
                where=f"leaf {position}",
                found=change.key_id,
            )
        self._keys[change.key_id] = KeyHistory(
            history.registration, history.registered_at, position
        )

    def check_authority(self, key: KeyId, *, position: int) -> None:
        """Raise ``key.invalid_at_position`` unless ``key`` could sign registry events at
        ``position``: a trust-root authority not revoked before it, or a key registered
        with the ``authority`` role and valid there."""
        if key in self._roots:
            revoked = self._roots_revoked.get(key)
            if revoked is not None and revoked < position:
                raise KeyNotValid(
                    "authority key revoked before this position",
                    where=f"leaf {position} key {key.hex()}",
                    expected=f"revoked after leaf {position}",
                    found=f"revoked at leaf {revoked}",
                )
            return
        self.check(key, position=position, role=AUTHORITY_ROLE)

    def public_key(self, key: KeyId) -> PublicKey | None:
        history = self._keys.get(key)
        return None if history is None else history.registration.public_key

    def check(
        self, key: KeyId, *, position: int, role: str | None = None, actor: str | None = None
    ) -> KeyRegistration:
        """The registration, if the key is valid at ``position`` (for role, actor); else raise."""
        return check_key_history(
            self._keys.get(key), key, position=position, role=role, actor=actor
        )


def check_key_history(
    history: KeyHistory | None,
    key: KeyId,
    *,
    position: int,
    role: str | None = None,
    actor: str | None = None,
) -> KeyRegistration:
    """Decide validity at ``position`` from a key's history (shared by store and verifier)."""
    where = f"leaf {position} key {key.hex()}"
    if history is None or history.registered_at >= position:
        raise KeyNotValid("key not registered before this position", where=where, found=key)
    if history.revoked_at is not None and history.revoked_at < position:
        raise KeyNotValid(
            "key revoked before this position",
            where=where,
            expected=f"revoked after leaf {position}",
            found=f"revoked at leaf {history.revoked_at}",
        )
    reg = history.registration
    if role is not None and role not in reg.roles:
        raise KeyNotValid(
            "key not registered for this role", where=where, expected=role, found=sorted(reg.roles)
        )
    if actor is not None and actor != reg.actor:
        raise KeyNotValid(
            "key registered to another actor", where=where, expected=actor, found=reg.actor
        )
    return reg
