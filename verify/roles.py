"""Which roles' keys may act for each event type (the actor's signature).

Dossier events: the acting roles of :data:`ledger.domain.lifecycle.RULES`
(co-signatures such as the agency seal, and a procedure's own signature list
from the catalogue, are the lifecycle's and are checked by the post-audit
replay, ``rule.illegal_event``). System streams: ``DataAccessed`` by a
``system`` key, ``SubjectErased`` by a ``leader`` or ``system`` key,
``StatusListPublished`` by an ``agency_seal`` key. Key
registry events are signed by trusted authority keys, not registered ones.
"""

from __future__ import annotations

from typing import Final

from ledger.domain.lifecycle import RULES

SYSTEM_ROLES: Final[dict[str, frozenset[str]]] = {
    "DataAccessed": frozenset({"system"}),
    "SubjectErased": frozenset({"leader", "system"}),
    "StatusListPublished": frozenset({"agency_seal"}),
}


def acting_roles(event_type: str) -> frozenset[str] | None:
    """Roles one of which the actor's key must hold (None: any registered role)."""
    rule = RULES.get(event_type)
    if rule is not None:
        return rule.actor_roles
    return SYSTEM_ROLES.get(event_type)
