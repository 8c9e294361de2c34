"""Build dossier histories for domain tests: bodies with the signers the registry would report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ledger.core.encoding import Value
from ledger.core.event import EventBody
from ledger.core.hashing import GENESIS_PREV
from ledger.domain import lifecycle as ev
from ledger.domain.dossier import evolve, start
from ledger.domain.rules import Recorded
from ledger.domain.state import DossierState, SignerInfo

HOUR = 3_600_000_000
DAY = 24 * HOUR
T0 = 1_767_312_000_000_000  # 2026-01-02T00:00:00Z = 07:00 in Hanoi, a Friday
AGENCY = "H26.50.01"
OTHER = "H26.10.02"
H32 = bytes(range(32))

RECEPTION = SignerInfo("officer:reception", frozenset({"reception"}), AGENCY)
HANDLER = SignerInfo("officer:handler", frozenset({"handler"}), AGENCY)
LEADER = SignerInfo("leader:1", frozenset({"leader"}), AGENCY)
SEAL = SignerInfo(f"agency:{AGENCY}", frozenset({"agency_seal"}), AGENCY)
PORTAL = SignerInfo("portal:dvc", frozenset({"portal"}), "NATIONAL")
INSPECTOR = SignerInfo("inspector:1", frozenset({"inspector"}), "H26.INSPECT")
OTHER_HANDLER = SignerInfo("officer:other", frozenset({"handler"}), OTHER)
SYSTEM = SignerInfo("system:payments", frozenset({"system"}), AGENCY)


class FakeBook:
    """A procedure book with two procedures (a fake, not a mock: it behaves)."""

    components: ClassVar[dict[str, frozenset[str]]] = {
        "1.001193": frozenset({"TK", "GCS"}),
        "1.004194": frozenset({"TK"}),
    }

    def required_components(self, procedure: str) -> frozenset[str] | None:
        return self.components.get(procedure)

    def signatures_for(self, procedure: str, event_type: str) -> tuple[str, ...] | None:
        # 1.004194 (temporary residence) wants the leader to countersign receptions.
        if procedure == "1.004194" and event_type == "DossierReceived":
            return ("reception", "leader")
        return None


@dataclass
class History:
    stream: str = "000.00.10.H26-260102-0001"
    items: list[Recorded] = field(default_factory=list)
    clock: int = T0

    def add(
        self,
        kind: str,
        signers: tuple[SignerInfo, ...],
        *,
        at: int | None = None,
        actor: str | None = None,
        **payload: Value,
    ) -> History:
        return self.record(kind, signers, payload, at=at, actor=actor)

    def record(
        self,
        kind: str,
        signers: tuple[SignerInfo, ...],
        payload: dict[str, Value],
        *,
        at: int | None = None,
        actor: str | None = None,
    ) -> History:
        self.clock = self.clock + HOUR if at is None else at
        body = EventBody(
            origin="test.hoso.example/x",
            stream=self.stream,
            n=len(self.items) + 1,
            prev=GENESIS_PREV,
            type=kind,
            actor=actor or signers[0].actor,
            time_us=self.clock,
            payload=payload,
        )
        self.items.append(Recorded(body, signers))
        return self

    def submitted(self, procedure: str = "1.001193") -> History:
        return self.add(
            ev.SUBMITTED,
            (PORTAL,),
            procedure=procedure,
            agency=AGENCY,
            channel="online",
            applicant=H32,
            applicant_kind=1,
            legal_basis="state_duty",
        )

    def inputs(self, *components: str, source: str = "scanned") -> History:
        for component in components:
            self.add(ev.INPUT, (RECEPTION,), component=component, document_hash=H32, source=source)
        return self

    def received(self, *, due_in: int = 5 * DAY) -> History:
        at = self.clock + HOUR
        return self.add(
            ev.RECEIVED,
            (RECEPTION,),
            at=at,
            received_us=at,
            receipt_hash=H32,
            clock_start_us=at,
            due_us=at + due_in,
            rule_version="test/1",
            calendar_version="cal/1",
        )

    def assigned(self) -> History:
        return self.add(ev.ASSIGNED, (RECEPTION,), handler=HANDLER.actor, department="TP")

    def result(
        self, number: str = "KS-1", *, at: int | None = None, medium: str = "electronic"
    ) -> History:
        return self.add(
            ev.RESULT_ISSUED,
            (LEADER, SEAL),
            at=at,
            result_number=number,
            result_type="birth_certificate",
            document_hash=H32,
            outcome="granted",
            medium=medium,
        )

    def delivered(self, number: str = "KS-1") -> History:
        return self.add(ev.DELIVERED, (RECEPTION,), result_number=number, channel="vneid")

    def happy(self) -> History:
        return self.submitted().inputs("TK", "GCS").received().assigned().result().delivered()

    def due(self) -> int:
        received = next(r.body for r in self.items if r.body.type == ev.RECEIVED)
        value = received.payload["due_us"]
        assert isinstance(value, int)
        return value


def result_payload(number: str = "X") -> dict[str, Value]:
    """A well-formed ResultIssued payload (who signs it is the test's point)."""
    return {
        "result_number": number,
        "result_type": "t",
        "document_hash": H32,
        "outcome": "granted",
        "medium": "electronic",
    }


BOOK = FakeBook()


def fold(items: list[Recorded]) -> DossierState:
    """The state a history folds to (raises what ``evolve`` raises)."""
    state = start(items[0].body, items[0].signers)
    for item in items[1:]:
        state = evolve(state, item.body, item.signers, BOOK)
    return state
