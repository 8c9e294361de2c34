"""The citizen views: data-access log entries and erased subjects.

A citizen is known here only by the applicant commitment of their dossiers
(``DossierSubmitted.applicant``, stable per data subject); the API maps an id
number to it through the keyed index of the personal-data store. The citizen
index itself is the dossiers view's ``applicant`` column (indexed), read
through :func:`projections.queries.citizen_dossiers`, which shows an erased
subject's applicant as erased while keeping the dossier rows.

* ``access``: one row per entry of a ``DataAccessed`` event on ``system/access``
  (who read which subject's data, for which dossier and purpose, when); only
  ``entries`` is read, so the payload's other fields (the pending-queue ids)
  don't matter here.
* ``erasures``: one row per subject of a ``SubjectErased`` event on
  ``system/privacy`` (legal basis, request hash, the dossiers named).
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from ledger.core.encoding import Value
from ledger.core.errors import MalformedError
from projections.schema import Table, delete_keys
from projections.views.base import Page, View, Writer

ACCESS_STREAM = "system/access"
ACCESS_EVENT = "DataAccessed"
PRIVACY_STREAM = "system/privacy"
ERASED_EVENT = "SubjectErased"


class MalformedSystemEvent(MalformedError):
    """A system event the citizen views read lacks a field or has one of the wrong type."""

    check = "projection.system_payload"


ACCESS_LOG = Table(
    "hoso_v_access_log",
    (
        ("position", "int"),
        ("entry", "int"),
        ("subject", "blob"),
        ("time_us", "int"),
        ("reader", "text"),
        ("agency", "text"),
        ("role", "text"),
        ("dossier", "text"),
        ("purpose", "text"),
    ),
    ("position", "entry"),
    (("subject", "time_us", "position", "entry"),),
)

ERASURES = Table(
    "hoso_v_erasures",
    (
        ("subject", "blob"),
        ("position", "int"),
        ("erased_us", "int"),
        ("basis", "text"),
        ("request", "blob"),
        ("dossiers", "text"),
    ),
    ("subject",),
)


_V = TypeVar("_V")


def _field(payload: dict[str, Value] | Value, name: str, kind: type[_V], where: str) -> _V:
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, kind):
        raise MalformedSystemEvent(f"field {name!r} must be {kind.__name__}", where=where)
    return value


def access_rows(position: int, payload: dict[str, Value], where: str) -> list[tuple[object, ...]]:
    """The view rows of one ``DataAccessed`` event (pure)."""
    entries = _field(payload, "entries", list, where)
    rows: list[tuple[object, ...]] = []
    for i, entry in enumerate(entries):
        at = f"{where} entry {i}"
        subject = _field(entry, "subject", bytes, at)
        rows.append(
            (
                position,
                i,
                subject,
                _field(entry, "time", int, at),
                _field(entry, "reader", str, at),
                _field(entry, "agency", str, at),
                _field(entry, "role", str, at),
                _field(entry, "dossier", str, at),
                _field(entry, "purpose", str, at),
            )
        )
    return rows


class AccessLogView(View):
    name: ClassVar[str] = "access"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = (ACCESS_LOG,)
    description: ClassVar[str] = "per-citizen data-access log (system/access DataAccessed)"
    needs_folds: ClassVar[bool] = False

    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        rows = [
            row
            for p, e in page.system(ACCESS_STREAM, ACCESS_EVENT, after)
            for row in access_rows(p, e.body.payload, e.body.position)
        ]
        out.insert(ACCESS_LOG, rows)


class ErasuresView(View):
    name: ClassVar[str] = "erasures"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = (ERASURES,)
    description: ClassVar[str] = "erased data subjects (system/privacy SubjectErased)"
    needs_folds: ClassVar[bool] = False

    def write_page(self, out: Writer, page: Page, *, after: int) -> None:
        for p, e in page.system(PRIVACY_STREAM, ERASED_EVENT, after):
            where = e.body.position
            payload = e.body.payload
            subject = _field(payload, "subject", bytes, where)
            dossiers = _field(payload, "dossiers", list, where)
            row = (
                subject,
                p,
                e.body.time_us,
                _field(payload, "basis", str, where),
                _field(payload, "request", bytes, where),
                ",".join(str(d) for d in dossiers),
            )
            delete_keys(out.sql, out.curs, out.table(ERASURES), "subject", [subject])
            out.insert(ERASURES, [row])
