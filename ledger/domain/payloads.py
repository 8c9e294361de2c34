"""Payload schemas of the dossier events (docs/domain.md §Events).

Strict: every field is typed, required fields must be present, unknown fields
are refused — so nothing unplanned (personal data in particular) can ride in
signed bytes. Hashes are 32-byte bin; times integer microseconds UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ledger.core.encoding import Value
from ledger.core.errors import MalformedError
from ledger.core.seal import MAX_RESULT_NUMBER
from ledger.domain import lifecycle as ev


class MalformedPayload(MalformedError):
    """A dossier event's payload is missing a field, has an unknown one, or a bad value."""

    check = "domain.payload"


@dataclass(frozen=True, slots=True)
class Field:
    kind: str  # "str", "int", "hash", "bool", "strs" (non-empty list of str)
    required: bool = True
    choices: frozenset[str] | None = None


def _f(kind: str, *choices: str, required: bool = True) -> Field:
    return Field(kind, required, frozenset(choices) if choices else None)


SOURCES: Final = (
    "scanned",
    "master_register",
    "e_certified",
    "self_declared",
    "reused_result",
    "national_database",
)
"""Where an input comes from. ``e_certified``: an electronically certified copy (Decree
23/2015/NĐ-CP); ``national_database``: fetched by the agency from a national database
(citizen identity from the population database via VNeID, residence data), ``source_ref``
naming the database; ``master_register``: an electronic copy from the master register."""
SOURCED: Final = frozenset({"master_register", "e_certified", "reused_result", "national_database"})
"""Sources that must name where the input came from (``source_ref``)."""
CHANNELS: Final = ("online", "counter", "post")
LEGAL_BASES: Final = ("state_duty", "legal_obligation", "consent", "contract")
DELIVERY: Final = ("kho_dldt", "vneid", "email", "post", "counter")


SCHEMAS: Final[dict[str, dict[str, Field]]] = {
    ev.SUBMITTED: {
        "procedure": _f("str"),
        "agency": _f("str"),
        "channel": _f("str", *CHANNELS),
        "applicant": _f("hash"),  # a salted commitment, never the id number itself
        "applicant_kind": _f("int"),  # LoaiDoiTuong: 1 citizen, 2 enterprise, 3 state body, 4 other
        # Law 91/2025: why this personal data may be processed (docs/privacy.md §Legal basis)
        "legal_basis": _f("str", *LEGAL_BASES),
        "consent": _f("hash", required=False),  # hash of the signed consent record, iff consent
        "personal": _f("hash", required=False),  # salted commitment to the personal record
        # the submitting account was authenticated with VNeID (level 2), as the portal says
        "vneid_authenticated": _f("bool", required=False),
    },
    ev.GUIDANCE: {"missing": _f("strs"), "reasons": _f("strs")},
    ev.REFUSED: {"reasons": _f("strs")},
    ev.INPUT: {
        "component": _f("str"),
        "document_hash": _f("hash"),
        "source": _f("str", *SOURCES),
        "source_ref": _f("str", required=False),
    },
    ev.RECEIVED: {
        "received_us": _f("int"),
        "receipt_hash": _f("hash"),
        "clock_start_us": _f("int"),
        "due_us": _f("int"),
        "rule_version": _f("str"),
        "calendar_version": _f("str"),
        "verification": _f("bool", required=False),
        "law_version": _f("str", required=False),  # the legal version that counted the due date
    },
    ev.ASSIGNED: {"handler": _f("str"), "department": _f("str")},
    ev.STEP: {"step": _f("str"), "note": _f("str", required=False)},
    ev.TRANSFERRED: {
        "to_agency": _f("str"),
        "step": _f("str"),
        "allowance_hours": _f("int"),
        # to an agency on another log: that log's entry (docs/formats.md §15), all or none
        "ref_origin": _f("str", required=False),
        "ref_index": _f("int", required=False),
        "ref_event_hash": _f("hash", required=False),
    },
    ev.ACKNOWLEDGED: {"agency": _f("str")},
    ev.RETURNED: {"agency": _f("str"), "outcome": _f("str")},
    ev.SUPPLEMENT_REQUESTED: {"items": _f("strs"), "reasons": _f("strs")},
    ev.SUPPLEMENT_RECEIVED: {"items": _f("strs"), "due_us": _f("int")},
    ev.FEE_REQUESTED: {"amount_vnd": _f("int")},
    ev.FEE_PAID: {
        "amount_vnd": _f("int"),
        "receipt_ref": _f("str"),
        "due_us": _f("int", required=False),  # the due date re-planned after the payment pause
        "method": _f("str", "online", "counter", required=False),  # how the fee was paid
    },
    ev.APOLOGY: {"reason": _f("str"), "new_due_us": _f("int")},
    ev.APOLOGY_ACCEPTED: {},
    ev.APOLOGY_REFUSED: {"reason": _f("str", required=False)},
    ev.APOLOGY_WITHDRAWN: {"reason": _f("str")},
    ev.STOPPED: {"reasons": _f("strs")},
    ev.WITHDRAWAL_REQUESTED: {"reason": _f("str", required=False)},
    ev.WITHDRAWAL_ACCEPTED: {},
    ev.RESULT_ISSUED: {
        "result_number": _f("str"),
        "result_type": _f("str"),
        "document_hash": _f("hash"),
        "outcome": _f("str", "granted", "refused"),
        "medium": _f("str", "electronic", "paper"),
    },
    ev.RESULT_DIGITIZED: {"result_number": _f("str"), "document_hash": _f("hash")},
    ev.DELIVERED: {"result_number": _f("str"), "channel": _f("str", *DELIVERY)},
    ev.PAPER_COPY: {
        "result_number": _f("str"),
        "basis": _f("str", "citizen_request", "legal_requirement"),
    },
    ev.REVOKED: {"result_number": _f("str"), "decision_ref": _f("str"), "reason": _f("str")},
    ev.CORRECTED: {
        "supersedes": _f("str"),
        "result_number": _f("str"),
        "document_hash": _f("hash"),
        "reason": _f("str"),
    },
    ev.AUDIT_OPENED: {"audit": _f("str"), "basis": _f("str", "sampled", "targeted")},
    ev.FINDING: {
        "audit": _f("str"),
        "finding": _f("str"),
        "severity": _f("str", "info", "minor", "major"),
        "detail": _f("str"),
        "revocation_due": _f("bool"),
    },
    ev.AUDIT_CONCLUDED: {"audit": _f("str"), "conclusion": _f("str")},
}


REFERENCE_FIELDS: Final = ("ref_origin", "ref_index", "ref_event_hash")
"""A transfer's reference to another log's entry (docs/formats.md §15): all or none."""


def check_payload(event_type: str, payload: Mapping[str, Value], *, where: str) -> None:
    """Raise MalformedPayload unless ``payload`` fits ``event_type``'s schema."""
    schema = SCHEMAS.get(event_type)
    if schema is None:
        raise MalformedPayload(f"unknown dossier event type {event_type!r}", where=where)
    unknown = sorted(set(payload) - set(schema))
    if unknown:
        raise MalformedPayload(f"{event_type}: unknown fields {unknown}", where=where)
    for name, spec in schema.items():
        if name not in payload:
            if spec.required:
                raise MalformedPayload(f"{event_type}: missing field {name!r}", where=where)
            continue
        _check_value(event_type, name, spec, payload[name], where)
    number = payload.get("result_number")
    if isinstance(number, str) and (
        len(number.encode()) > MAX_RESULT_NUMBER
        or any(ord(c) < 0x20 or c == "\x7f" for c in number)
    ):
        raise MalformedPayload(
            f"{event_type}.result_number: at most {MAX_RESULT_NUMBER} UTF-8 bytes, no"
            " control character (every result must fit its QR seal: docs/formats.md §11.1)",
            where=where,
            expected=f"<= {MAX_RESULT_NUMBER} bytes",
            found=len(number.encode()),
        )
    reference = [name for name in REFERENCE_FIELDS if name in payload]
    if event_type == ev.TRANSFERRED and reference and len(reference) != len(REFERENCE_FIELDS):
        raise MalformedPayload(
            f"{event_type}: an inter-log reference has all of {list(REFERENCE_FIELDS)} or none",
            where=where,
            expected=list(REFERENCE_FIELDS),
            found=reference,
        )
    if event_type == ev.SUBMITTED and (payload.get("legal_basis") == "consent") != (
        "consent" in payload
    ):
        raise MalformedPayload(
            f"{event_type}: 'consent' (the consent record's hash) is required when, and only"
            " when, legal_basis is 'consent'",
            where=where,
        )


def _check_value(event_type: str, name: str, spec: Field, value: Value, where: str) -> None:
    field = f"{event_type}.{name}"
    ok = {
        "str": isinstance(value, str) and value != "",
        "int": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "hash": isinstance(value, bytes) and len(value) == 32,
        "bool": isinstance(value, bool),
        "strs": isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v for v in value),
    }[spec.kind]
    if not ok:
        wanted = {
            "str": "a non-empty str",
            "int": "a non-negative int",
            "hash": "a 32-byte bin",
            "bool": "a bool",
            "strs": "a non-empty list of non-empty str",
        }[spec.kind]
        raise MalformedPayload(f"{field} must be {wanted}", where=where)
    if spec.choices is not None and value not in spec.choices:
        raise MalformedPayload(f"{field} must be one of {sorted(spec.choices)}", where=where)


def text(payload: Mapping[str, Value], name: str) -> str:
    """A ``str`` field of a payload :func:`check_payload` accepted."""
    value = payload[name]
    if not isinstance(value, str):
        raise MalformedPayload(f"{name} must be a str, got {type(value).__name__}", where=name)
    return value


def integer(payload: Mapping[str, Value], name: str) -> int:
    """An ``int`` field of a payload :func:`check_payload` accepted."""
    value = payload[name]
    if type(value) is not int:
        raise MalformedPayload(f"{name} must be an int, got {type(value).__name__}", where=name)
    return value


def blob(payload: Mapping[str, Value], name: str) -> bytes:
    """A ``bin`` field of a payload :func:`check_payload` accepted."""
    value = payload[name]
    if not isinstance(value, bytes):
        raise MalformedPayload(f"{name} must be bin, got {type(value).__name__}", where=name)
    return value
