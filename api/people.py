"""Officials reading personal data: always through :meth:`PersonalData.read`, which logs
the access (an entry queued durably, then appended as a signed ``system/access`` batch by
the flush: after ``flush_every`` reads and on the app's timer, HOSO_API_ACCESS_FLUSH_S)."""

from __future__ import annotations

from api.auth import Principal, require
from api.context import ApiContext
from api.schemas import ApplicantPublic
from ledger.domain.privacy import READER_ROLES
from ledger.privacy.service import Reader


def reader_role(context: ApiContext, actor: str) -> str:
    """The actor's role as the key registry has it (the first that may read personal data)."""
    roles = {
        role
        for listing in context.ledger.keys.list()
        if listing.registration.actor == actor and listing.revoked_n is None
        for role in listing.registration.roles
    }
    allowed = sorted(roles & READER_ROLES)
    return allowed[0] if allowed else (min(roles) if roles else "none")


def read_applicant(
    context: ApiContext, principal: Principal | None, code: str, purpose: str
) -> ApplicantPublic:
    who = require(principal, "officer", "system", "inspector")
    reader = Reader(who.actor, who.agency, reader_role(context, who.actor))
    record = context.ledger.privacy.read(reader, dossier=code, purpose=purpose)
    return ApplicantPublic(
        id_kind=record.id_kind,
        id_number=record.id_number,
        full_name=record.full_name,
        birth_date=record.birth_date,
        address=record.address,
        phone=record.phone,
        email=record.email,
    )


def flush_access_log(context: ApiContext) -> int:
    """Append queued reads as signed batches (no-op without the access-log key)."""
    return context.ledger.privacy.access.flush()
