"""Dossiers through the store: the lifecycle is enforced on every append, on both backends."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.errors import HosoError
from ledger.core.event import sign_event
from ledger.core.signing import Signer
from ledger.domain import commands as cmd
from ledger.domain.calendar_data import load_calendar
from ledger.domain.due import compute_due
from ledger.domain.lifecycle import State
from ledger.domain.payloads import MalformedPayload
from ledger.domain.procedures_data import load_catalogue
from ledger.domain.state import InputsMissing, WrongAgency, WrongRole
from ledger.domain.submission import MalformedDossierCode, ProcedureNotInCatalogue
from ledger.services.dossiers import DossierPolicy, DossierService
from ledger.storage.database import Backend
from ledger.storage.store import EventStore
from tests.storage.registry import registry_records

pytestmark = pytest.mark.integration

ORIGIN = "test.hoso.example/dossiers"
AGENCY = "H26.50.01"
CODE = "000.00.10.H26-260105-0001"
MONDAY_9AM = 1_767_578_400_000_000  # 2026-01-05 09:00 in Hanoi (02:00Z)
H = hashlib.sha256(b"document").digest()

ACTORS = {
    "portal": ("portal:dvc", {"portal"}, "NATIONAL"),
    "reception": ("officer:tn-01", {"reception"}, AGENCY),
    "handler": ("officer:xl-01", {"handler"}, AGENCY),
    "leader": ("leader:pct-01", {"leader"}, AGENCY),
    "seal": (f"agency:{AGENCY}", {"agency_seal"}, AGENCY),
    "stranger": ("officer:other-01", {"reception"}, "H26.99.99"),
}


def key(name: str) -> Signer:
    return Signer(hashlib.sha256(f"dossier test {name}".encode()).digest())


@pytest.fixture
def service(backend: Backend) -> DossierService:
    authority = key("authority")
    catalogue = load_catalogue()
    store = EventStore(
        backend,
        origin=ORIGIN,
        authorities={authority.key_id: authority.public_key},
        policy=DossierPolicy(catalogue),
    )
    store.append(registry_records(ORIGIN, authority, ACTORS, key))
    clock = iter(range(MONDAY_9AM, MONDAY_9AM + 10**12, 600_000_000))
    return DossierService(
        store,
        catalogue=catalogue,
        calendar=load_calendar(),
        signer_for=key,
        clock_us=lambda: next(clock),
    )


def act(service: DossierService, draft: cmd.Draft, *names: str) -> None:
    service.execute(CODE, draft, actor=ACTORS[names[0]][0], keys=names)


def test_birth_registration_lifecycle(service: DossierService) -> None:
    procedure = service.catalogue.get("1.001193")
    act(
        service,
        cmd.submit_dossier(procedure="1.001193", agency=AGENCY, channel="online", applicant=H),
        "portal",
    )
    state = service.state(CODE)
    assert state is not None
    for component in sorted(procedure.component_codes):
        act(
            service,
            cmd.digitize_input(state, component=component, document_hash=H, source="scanned"),
            "reception",
        )
    service.receive(CODE, actor=ACTORS["reception"][0], keys=["reception"], receipt_hash=H)
    state = service.state(CODE)
    assert state is not None
    assert state.state is State.RECEIVED
    assert state.received_us is not None
    due = compute_due(received_us=state.received_us, procedure=procedure, calendar=service.calendar)
    assert (state.due_us, state.rule_version, state.calendar_version) == (
        due.due_us,
        due.rule_version,
        due.calendar_version,
    )
    act(
        service,
        cmd.assign_handler(state, handler=ACTORS["handler"][0], department="TP"),
        "reception",
    )
    act(
        service,
        cmd.issue_result(
            service.state(CODE) or state,
            result_number="KS-001/2026",
            result_type="birth_certificate",
            document_hash=H,
        ),
        "leader",
        "seal",
    )
    act(
        service,
        cmd.deliver_result(
            service.state(CODE) or state, result_number="KS-001/2026", channel="vneid"
        ),
        "reception",
    )
    final = service.state(CODE)
    assert final is not None
    assert final.state is State.DELIVERED
    assert final.portal_code == 10
    assert len(service.history(CODE)) == 1 + len(procedure.component_codes) + 4


def _client_event(
    service: DossierService,
    kind: str,
    actor: str,
    payload: dict[str, Value],
    *names: str,
) -> bytes:
    head = service.store.head(CODE)
    body = next_body(
        head,
        origin=ORIGIN,
        stream=CODE,
        event_type=kind,
        actor=actor,
        time_us=MONDAY_9AM,
        payload=payload,
    )
    return sign_event(body, [key(n) for n in names]).record


def test_the_store_refuses_illegal_client_signed_events(service: DossierService) -> None:
    act(
        service,
        cmd.submit_dossier(procedure="1.001193", agency=AGENCY, channel="online", applicant=H),
        "portal",
    )
    before = len(service.history(CODE))
    cases: list[tuple[type[HosoError], bytes]] = [
        (
            InputsMissing,
            _client_event(
                service,
                "DossierReceived",
                ACTORS["reception"][0],
                {
                    "received_us": MONDAY_9AM,
                    "clock_start_us": MONDAY_9AM,
                    "due_us": MONDAY_9AM + 1,
                    "rule_version": "r",
                    "calendar_version": "c",
                    "receipt_hash": H,
                },
                "reception",
            ),
        ),
        (
            WrongRole,
            _client_event(
                service,
                "InputDigitized",
                ACTORS["handler"][0],
                {"component": "X", "document_hash": H, "source": "scanned"},
                "handler",
            ),
        ),
        (
            WrongAgency,
            _client_event(
                service,
                "InputDigitized",
                ACTORS["stranger"][0],
                {"component": "X", "document_hash": H, "source": "scanned"},
                "stranger",
            ),
        ),
        (
            MalformedPayload,
            _client_event(
                service,
                "InputDigitized",
                ACTORS["reception"][0],
                {"component": "X", "document_hash": H, "source": "scanned", "citizen_name": "A"},
                "reception",
            ),
        ),
    ]
    for error, record in cases:
        with pytest.raises(error):
            service.store.append([record])
    assert len(service.history(CODE)) == before


def test_codes_and_reuse_index(service: DossierService) -> None:
    act(
        service,
        cmd.submit_dossier(procedure="1.001193", agency=AGENCY, channel="online", applicant=H),
        "portal",
    )
    assert service.codes() == [CODE]
    index = service.reuse_index()
    assert not index.results_for(H, "GIAY_TO_CHO_O_HOP_PHAP")  # no result yet


@pytest.mark.parametrize(
    ("code", "procedure", "error", "where"),
    [
        ("D-1", "1.001193", MalformedDossierCode, "stream"),
        ("000.00.10.H26-260230-0001", "1.001193", MalformedDossierCode, "stream.date"),
        (CODE, "9.999999", ProcedureNotInCatalogue, "DossierSubmitted.procedure"),
    ],
)
def test_the_store_refuses_a_bad_submission_at_the_door(
    service: DossierService, code: str, procedure: str, error: type[HosoError], where: str
) -> None:
    """A malformed dossier code, an impossible date or an unknown procedure: refused, the
    field named, nothing stored."""
    draft = cmd.submit_dossier(procedure=procedure, agency=AGENCY, channel="online", applicant=H)
    size = service.store.backend.recorder.max_notification_id()
    with pytest.raises(error) as info:
        service.execute(code, draft, actor=ACTORS["portal"][0], keys=["portal"])
    assert info.value.where == where
    assert service.store.read_stream(code) == []
    assert service.store.backend.recorder.max_notification_id() == size


def test_a_fee_wait_pauses_the_clock_and_payment_replans_the_due_date(
    service: DossierService,
) -> None:
    procedure = service.catalogue.get("2.000635")
    act(
        service,
        cmd.submit_dossier(procedure="2.000635", agency=AGENCY, channel="online", applicant=H),
        "portal",
    )
    for component in sorted(procedure.component_codes):
        act(
            service,
            cmd.digitize_input(
                service.existing(CODE), component=component, document_hash=H, source="scanned"
            ),
            "reception",
        )
    service.receive(CODE, actor=ACTORS["reception"][0], keys=["reception"], receipt_hash=H)
    act(
        service,
        cmd.assign_handler(service.existing(CODE), handler="x", department="TP"),
        "reception",
    )
    act(service, cmd.request_fee(service.existing(CODE), amount_vnd=8000), "handler")
    paused = service.existing(CODE)
    assert paused.pause_kind == "payment"
    assert paused.paused_since_us is not None
    assert paused.due_us is not None
    resumed = paused.paused_since_us + 3 * 3_600_000_000
    expected = service.calendar.add_working_duration(
        paused.due_us, service.calendar.working_time_between(paused.paused_since_us, resumed)
    )
    assert service.resumed_due(paused, resumed) == expected
