"""The pure core of the dossier views: one dossier's signed events folded into a
:class:`Folded` — the domain's own :class:`~ledger.domain.state.DossierState`
(``start``/``evolve``, the very fold the store enforces at append) plus what the
views show that the state does not keep: who signed each result and the issuing
event's hash (the seal reference), the inspectors' findings with their detail,
and any event the lifecycle refused.

No I/O: the caller passes each event with the registry records of its signing
keys. An event the lifecycle refuses leaves the state as it was and is kept as
a rejection (as :func:`ledger.domain.rules.replay` does), so a view never stops
on a history the store did not write itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ledger.core.errors import HosoError
from ledger.core.event import SignedEvent
from ledger.core.signing import KeyId
from ledger.domain import lifecycle as ev
from ledger.domain.dossier import evolve, start
from ledger.domain.state import DossierState, ProcedureBook, SignerInfo


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What the key registry says about a key: the domain's SignerInfo, plus its id."""

    key_id: KeyId
    signer: SignerInfo


@dataclass(frozen=True, slots=True)
class ResultSeal:
    """Who issued a result version, and the ledger event that did (the QR's reference)."""

    event_hash: bytes
    signers: tuple[str, ...]  # actors, in signature order
    seal_key: bytes | None  # the agency_seal key's id, if one signed


@dataclass(frozen=True, slots=True)
class InspectorFinding:
    n: int
    audit: str
    finding: str
    severity: str
    detail: str
    revocation_due: bool
    inspector: str
    time_us: int


@dataclass(frozen=True, slots=True)
class Rejection:
    n: int
    event_type: str
    check: str
    detail: str


@dataclass(frozen=True, slots=True)
class Folded:
    state: DossierState
    position: int  # notification id of the last event folded in
    seals: Mapping[str, ResultSeal] = field(default_factory=dict)
    findings: tuple[InspectorFinding, ...] = ()
    rejections: tuple[Rejection, ...] = ()


def step(
    folded: Folded | None,
    event: SignedEvent,
    keys: Sequence[KeyInfo],
    book: ProcedureBook,
    *,
    position: int,
) -> Folded | None:
    """Fold one event of a dossier stream. ``None`` stays ``None`` unless the event opens
    the dossier (a stream that never opens as a dossier has no view rows)."""
    body = event.body
    signers = tuple(k.signer for k in keys)
    if folded is None:
        try:
            return Folded(start(body, signers), position)
        except HosoError:
            return None
    try:
        state = evolve(folded.state, body, signers, book)
    except HosoError as err:
        rejection = Rejection(body.n, body.type, err.check, err.detail)
        return replace(folded, position=position, rejections=(*folded.rejections, rejection))
    seals = folded.seals
    findings = folded.findings
    p = body.payload
    if body.type in (ev.RESULT_ISSUED, ev.CORRECTED):
        seal = next((k.key_id for k in keys if "agency_seal" in k.signer.roles), None)
        number = str(p["result_number"])
        actors = tuple(k.signer.actor for k in keys)
        seals = {**seals, number: ResultSeal(event.event_hash, actors, seal)}
    elif body.type == ev.FINDING:
        found = InspectorFinding(
            body.n,
            str(p["audit"]),
            str(p["finding"]),
            str(p["severity"]),
            str(p["detail"]),
            bool(p["revocation_due"]),
            body.actor,
            body.time_us,
        )
        findings = (*findings, found)
    return Folded(state, position, seals, findings, folded.rejections)


class KeyLookup:
    """Registry records by key id; ``keys_of(event)`` gives an event's known signers
    (unknown keys are left out, as :func:`ledger.services.dossiers.signer_infos` does)."""

    def __init__(self, infos: Mapping[KeyId, KeyInfo]) -> None:
        self.infos = dict(infos)

    def missing(self, event: SignedEvent) -> bool:
        return any(s.key_id not in self.infos for s in event.signatures)

    def __call__(self, event: SignedEvent) -> tuple[KeyInfo, ...]:
        infos = self.infos
        return tuple(infos[s.key_id] for s in event.signatures if s.key_id in infos)
