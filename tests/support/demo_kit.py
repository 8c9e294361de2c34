"""The small nine-scenario kit that tests build their own ledgers with: the demo's
officials with fresh keys and their authority-signed registrations."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ledger.core.checkpoint import Cosigner
from ledger.core.event import SignedEvent
from ledger.core.note import Ed25519NoteSigner
from ledger.core.registry import (
    Registration,
    registration_events,
)
from ledger.core.signing import KeyId, PublicKey, Signer
from ledger.demo.office import Official, generate_keys
from ledger.demo.run import ORIGIN, START_US


@dataclass(frozen=True)
class DemoKeys:
    """The demo's keys. Seeds come from the OS here, at the edge, never from the core."""

    authority: Signer
    log: Ed25519NoteSigner
    witness: Cosigner
    people: dict[str, Signer]

    @classmethod
    def generate(cls, people: dict[str, Official]) -> DemoKeys:
        return cls(
            authority=Signer(os.urandom(32)),
            log=Ed25519NoteSigner(ORIGIN, Signer(os.urandom(32))),
            witness=Cosigner("witness.demo.hoso.example/so-tttt", Signer(os.urandom(32))),
            people=generate_keys(people),
        )

    def authorities(self) -> dict[KeyId, PublicKey]:
        return {self.authority.key_id: self.authority.public_key}


def registry_events(keys: DemoKeys, people: dict[str, Official]) -> list[SignedEvent]:
    """Authority-signed registrations of every official's key, in name order."""
    return registration_events(
        [
            Registration(keys.people[name].public_key, o.actor, o.roles, o.agency)
            for name, o in sorted(people.items())
        ],
        origin=ORIGIN,
        authority=keys.authority,
        authority_actor="authority:demo",
        time_us=START_US,
    )
