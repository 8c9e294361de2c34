"""Test key registries: register named actors' keys with one authority, in one batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ledger.core.registry import Registration, registration_events
from ledger.core.signing import Signer

Actors = Mapping[str, tuple[str, set[str], str]]  # key name → (actor, roles, agency)


def registry_records(
    origin: str, authority: Signer, actors: Actors, key: Callable[[str], Signer]
) -> list[bytes]:
    """Signed ``KeyRegistered`` records for every actor, chained on ``system/keys``."""
    events = registration_events(
        [
            Registration(key(name).public_key, actor, frozenset(roles), agency)
            for name, (actor, roles, agency) in actors.items()
        ],
        origin=origin,
        authority=authority,
        authority_actor="authority:test",
        time_us=1,
    )
    return [e.record for e in events]
