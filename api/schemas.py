"""Request and response bodies, named by intent: ``XCreate`` in, ``XPublic`` out.

Hashes and commitments are lowercase hex; signatures, proofs and records base64
(as in docs/formats.md); times integer microseconds UTC.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

HEX64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CODE = "000.39.05.H26-260302-0001"


def hexed(row: dict[str, Any]) -> dict[str, Any]:
    """A view row ready for a response model: bytes as hex."""
    return {k: v.hex() if isinstance(v, bytes) else v for k, v in row.items()}


class EventCreate(BaseModel):
    """A client-signed record (the canonical msgpack bytes of docs/formats.md), base64."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"record": "gqRib2R5xK..."}]})
    record: str = Field(
        max_length=1_400_000,
        pattern="^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        description="base64 of the signed record bytes",
    )


class EventAppendedPublic(BaseModel):
    stream: str = Field(examples=[CODE])
    n: int = Field(examples=[3])
    event_hash: str = Field(examples=[HEX64])
    duplicate: bool = Field(
        description="true: this exact record was already stored (an idempotent retry)"
    )
    leaf_index: int | None = Field(
        None, description="Position in the global Merkle log, once integrated (else null)"
    )


class StreamHeadPublic(BaseModel):
    """What a client needs to sign the next event of a stream."""

    origin: str = Field(examples=["hoso.example/hanoi"])
    stream: str = Field(examples=[CODE])
    n: int = Field(description="Position of the head (0: the stream is empty)", examples=[2])
    event_hash: str | None = Field(None, examples=[HEX64])
    next_n: int = Field(examples=[3])
    next_prev: str = Field(description="The prev (hex) the next event must carry", examples=[HEX64])


class DossierSummaryPublic(BaseModel):
    code: str = Field(examples=[CODE])
    state: str = Field(examples=["received"])
    portal_code: int | None = Field(None, examples=[2])
    procedure: str = Field(examples=["1.001193"])
    agency: str = Field(examples=["000.39.05.H26"])
    current_agency: str | None = None
    handler: str | None = None
    channel: str | None = None
    applicant: str | None = Field(
        None, description="The applicant's salted commitment (hex); null once erased"
    )
    submitted_us: int | None = None
    received_us: int | None = None
    due_us: int | None = None
    original_due_us: int | None = None
    legal_due_us: int | None = None
    resolved_us: int | None = None
    finished_us: int | None = None
    paused_since_us: int | None = None
    supplements: int | None = None
    rescheduled: bool = False
    is_open: bool = True
    overdue_from_us: int | None = None
    timeliness: str | None = None
    processing_hours: float | None = None
    valid_results: int | None = None
    erased: bool = False


class DossierPagePublic(BaseModel):
    items: list[DossierSummaryPublic]
    next: str | None = Field(None, description="Pass as `after` for the next page; null: last")


class SignerPublic(BaseModel):
    actor: str
    roles: list[str]
    agency: str


class HistoryEventPublic(BaseModel):
    n: int
    type: str = Field(examples=["DossierReceived"])
    actor: str
    time_us: int
    event_hash: str
    signers: list[SignerPublic]


class ResultPublic(BaseModel):
    dossier: str
    number: str = Field(examples=["KS-2026-000123"])
    result_type: str | None = None
    outcome: str | None = None
    medium: str | None = None
    issued_us: int | None = None
    n: int | None = None
    status: str | None = Field(None, examples=["valid"])
    superseded_by: str | None = None
    digitized: bool | None = None
    delivered_channel: str | None = None
    event_hash: str | None = None
    procedure: str | None = None
    agency: str | None = None


class DossierPublic(DossierSummaryPublic):
    history: list[HistoryEventPublic]
    results: list[ResultPublic]


class OverdueItemPublic(BaseModel):
    code: str
    state: str
    procedure: str
    agency: str
    current_agency: str | None = None
    handler: str | None = None
    due_us: int
    rescheduled: bool = False
    overdue: bool
    late_by_us: int


class OverduePagePublic(BaseModel):
    items: list[OverdueItemPublic]
    next: str | None = None


class StatisticsRowPublic(BaseModel):
    """Decision 766 indicators for one agency × procedure × month."""

    agency: str
    procedure: str
    period: str = Field(examples=["2026-03"])
    received: int
    received_online: int
    resolved: int
    early: int
    on_time: int
    late: int
    late_rescheduled: int
    withdrawn: int
    stopped: int
    mean_hours: float | None = None
    p90_hours: float | None = None
    currently_overdue: int
    online_share: float | None = None


class FindingPublic(BaseModel):
    code: str
    source: str = Field(description="inspector (a recorded finding) or fold (a refused event)")
    seq: int
    rule: str
    n: int | None = None
    agency: str | None = None
    severity: str | None = None
    message: str | None = None
    expected: str | None = None
    found: str | None = None
    revocation_due: bool | None = None
    actor: str | None = None
    time_us: int | None = None


class CitizenDossierPublic(BaseModel):
    code: str
    state: str
    portal_code: int | None = None
    procedure: str
    agency: str
    submitted_us: int | None = None
    erased: bool = False


class CitizenDossierPagePublic(BaseModel):
    items: list[CitizenDossierPublic]
    next: str | None = None


class AccessPublic(BaseModel):
    """One read of your personal data: who, from which agency, why, when."""

    time_us: int
    reader: str
    agency: str
    role: str
    dossier: str
    purpose: str = Field(examples=["reception"])


class AccessPagePublic(BaseModel):
    items: list[AccessPublic]
    next: str | None = None


class ApplicantPublic(BaseModel):
    """The applicant's personal record, as an official reads it (the read is logged)."""

    id_kind: str
    id_number: str
    full_name: str
    birth_date: str
    address: str
    phone: str
    email: str


class CheckpointPublic(BaseModel):
    origin: str = Field(examples=["hoso.example/hanoi"])
    size: int = Field(examples=[1024])
    root: str = Field(
        description="base64 RFC 9162 root",
        examples=["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
    )
    note: str = Field(description="The C2SP signed note, signatures and cosignatures included")


class InclusionProofPublic(BaseModel):
    index: int
    size: int
    event_hash: str | None = None
    proof: list[str] = Field(description="base64 hashes, leaf to root (RFC 9162)")


class ConsistencyProofPublic(BaseModel):
    size1: int
    size2: int
    proof: list[str] = Field(description="base64 hashes (RFC 9162)")


class CommandCreate(BaseModel):
    """Arguments of a custodial command; which ones apply depends on the command."""

    model_config = ConfigDict(extra="forbid")
    receipt_hash: str | None = Field(None, pattern="^[0-9a-f]{64}$", description="receive")
    verification: bool = Field(False, description="receive: the procedure needs verification")
    handler: str | None = Field(None, max_length=200, description="assign")
    department: str | None = Field(None, max_length=200, description="assign")
    items: list[str] | None = Field(None, max_length=100, description="supplement commands")
    reasons: list[str] | None = Field(None, max_length=100, description="refuse, supplement")
    missing: list[str] | None = Field(None, max_length=100, description="guidance")
    step: str | None = Field(None, max_length=200, description="complete-step")
    result_number: str | None = Field(None, max_length=200, description="issue-result, deliver")
    result_type: str | None = Field(None, max_length=200, description="issue-result")
    document_hash: str | None = Field(None, pattern="^[0-9a-f]{64}$", description="issue-result")
    outcome: str = Field("granted", max_length=50, description="issue-result")
    medium: str = Field("electronic", max_length=50, description="issue-result")
    channel: str | None = Field(None, max_length=50, description="deliver")
