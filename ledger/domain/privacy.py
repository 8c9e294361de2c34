"""Personal-data events and their post-audit rules (docs/privacy.md).

Two system streams carry them, checked by the store like dossier events:

- ``system/access`` — ``DataAccessed``: a batch of reads of personal data by
  officials (who, in which agency and role, which subject and dossier, why,
  when), signed by a ``system`` key; ``queue`` lists the pending-queue id of
  each entry, so a crash between append and clean-up can't log a read twice.
- ``system/privacy`` — ``SubjectErased``: a data subject's personal data was
  destroyed, signed by a ``leader`` (or an agency ``system``).

Pure: rules take decoded entries and dossier states, and return findings.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ledger.core.encoding import Value
from ledger.core.event import EventBody
from ledger.domain.lifecycle import TERMINAL, State
from ledger.domain.payloads import MalformedPayload
from ledger.domain.rules import RuleFinding
from ledger.domain.state import DossierState, SignerInfo, WrongRole

ACCESS_STREAM: Final = "system/access"
PRIVACY_STREAM: Final = "system/privacy"
DATA_ACCESSED: Final = "DataAccessed"
SUBJECT_ERASED: Final = "SubjectErased"

PURPOSES: Final = frozenset(
    {
        "reception",  # checking the applicant at the counter or on reception of an online dossier
        "processing",  # handling the dossier
        "result",  # preparing or signing the result
        "delivery",  # returning the result
        "audit",  # post-audit (inspectors only)
        "search",  # finding a citizen's dossiers by id number
        "citizen_request",  # answering the data subject's own request
    }
)
READER_ROLES: Final = frozenset({"reception", "handler", "leader", "inspector", "system"})
ERASURE_BASES: Final = frozenset(
    {
        "withdrawn_consent",  # the subject withdrew consent and no other basis applies
        "no_retention_duty",  # the dossier ended without a result and its retention ran out
        "unlawful_processing",  # the data should never have been processed
    }
)
_ENTRY_FIELDS: Final = ("reader", "agency", "role", "subject", "dossier", "purpose", "time")


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One official's read of one subject's personal data."""

    reader: str
    agency: str
    role: str
    subject: bytes
    dossier: str  # "" when the read was not about one dossier (a search)
    purpose: str
    time_us: int

    def as_value(self) -> dict[str, Value]:
        return {
            "reader": self.reader,
            "agency": self.agency,
            "role": self.role,
            "subject": self.subject,
            "dossier": self.dossier,
            "purpose": self.purpose,
            "time": self.time_us,
        }

    @classmethod
    def from_value(cls, value: Value, *, where: str) -> AccessEntry:
        if not isinstance(value, dict) or sorted(value) != sorted(_ENTRY_FIELDS):
            raise MalformedPayload(
                f"an access entry has exactly {list(_ENTRY_FIELDS)}", where=where
            )
        reader, agency, role = value["reader"], value["agency"], value["role"]
        subject, dossier, purpose, time = (
            value["subject"],
            value["dossier"],
            value["purpose"],
            value["time"],
        )
        if not (isinstance(reader, str) and reader and isinstance(agency, str) and agency):
            raise MalformedPayload("access entry: reader and agency are non-empty str", where=where)
        if role not in READER_ROLES or not isinstance(role, str):
            raise MalformedPayload(
                f"access entry: role must be one of {sorted(READER_ROLES)}", where=where
            )
        if purpose not in PURPOSES or not isinstance(purpose, str):
            raise MalformedPayload(
                f"access entry: purpose must be one of {sorted(PURPOSES)}", where=where
            )
        if not (isinstance(subject, bytes) and len(subject) == 32):
            raise MalformedPayload("access entry: subject is a 32-byte commitment", where=where)
        if not isinstance(dossier, str):
            raise MalformedPayload("access entry: dossier is a str", where=where)
        if not (isinstance(time, int) and not isinstance(time, bool) and time >= 0):
            raise MalformedPayload("access entry: time is a non-negative int", where=where)
        return cls(reader, agency, role, subject, dossier, purpose, time)


def access_entries(body: EventBody) -> list[AccessEntry]:
    """The entries of a ``DataAccessed`` event, checked."""
    where = f"stream {body.stream} n={body.n}"
    payload = body.payload
    queue, entries = payload.get("queue"), payload.get("entries")
    if sorted(payload) != ["entries", "queue"]:
        raise MalformedPayload("DataAccessed has exactly queue, entries", where=where)
    if not isinstance(entries, list) or not entries:
        raise MalformedPayload("DataAccessed: entries is a non-empty list", where=where)
    if (
        not isinstance(queue, list)
        or len(queue) != len(entries)
        or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in queue)
        or any(a >= b for a, b in itertools.pairwise(queue))  # type: ignore[operator]
    ):
        raise MalformedPayload(
            "DataAccessed: queue lists each entry's pending-queue id, increasing", where=where
        )
    return [AccessEntry.from_value(e, where=f"{where} entry {i}") for i, e in enumerate(entries)]


def erasure(body: EventBody) -> tuple[bytes, str, list[str]]:
    """(subject, basis, dossiers) of a ``SubjectErased`` event, checked."""
    where = f"stream {body.stream} n={body.n}"
    p = body.payload
    if sorted(p) != ["basis", "dossiers", "request", "subject"]:
        raise MalformedPayload(
            "SubjectErased has exactly subject, basis, request, dossiers", where=where
        )
    subject, basis, request, dossiers = p["subject"], p["basis"], p["request"], p["dossiers"]
    if not (isinstance(subject, bytes) and len(subject) == 32):
        raise MalformedPayload("SubjectErased.subject is a 32-byte commitment", where=where)
    if not (isinstance(request, bytes) and len(request) == 32):
        raise MalformedPayload("SubjectErased.request is the request's 32-byte hash", where=where)
    if basis not in ERASURE_BASES or not isinstance(basis, str):
        raise MalformedPayload(
            f"SubjectErased.basis must be one of {sorted(ERASURE_BASES)}", where=where
        )
    if not isinstance(dossiers, list) or not all(isinstance(d, str) and d for d in dossiers):
        raise MalformedPayload("SubjectErased.dossiers is a list of dossier codes", where=where)
    return subject, basis, [str(d) for d in dossiers]


def check_privacy_event(body: EventBody, signers: Sequence[SignerInfo]) -> None:
    """The store's check for ``system/access`` and ``system/privacy`` records."""
    where = f"stream {body.stream} n={body.n}"
    expected = {
        ACCESS_STREAM: (DATA_ACCESSED, {"system"}),
        PRIVACY_STREAM: (SUBJECT_ERASED, {"leader", "system"}),
    }
    event_type, roles = expected[body.stream]
    if body.type != event_type:
        raise MalformedPayload(f"{body.stream} holds only {event_type} events", where=where)
    if body.type == DATA_ACCESSED:
        access_entries(body)
    else:
        erasure(body)
    actor = [s for s in signers if s.actor == body.actor]
    if not actor or not (actor[0].roles & roles):
        raise WrongRole(
            f"{body.type} is signed by the actor's key with one of the roles {sorted(roles)}",
            where=where,
            expected=sorted(roles),
            found=sorted(actor[0].roles) if actor else [],
        )


# --- post-audit -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handled:
    """What the access rules need of a dossier: its state and who was assigned when."""

    state: DossierState
    assignments: tuple[tuple[int, str], ...] = ()  # (time, handler actor), in order


def audit_access(
    entries: Iterable[tuple[str, int, AccessEntry]], dossiers: Mapping[str, Handled]
) -> list[RuleFinding]:
    """Rule findings for reads outside the reader's scope (DOMAIN.md 2.7; docs/privacy.md).

    ``entries`` are (stream, n, entry) from ``DataAccessed`` events. Inspectors
    read anything for an audit; anyone else reads a dossier of their own agency
    (or one transferred to it), a handler only once assigned to it, and a
    search only finds subjects with a dossier at the reader's agency.
    """
    by_subject: dict[bytes, list[Handled]] = {}
    for handled in dossiers.values():
        by_subject.setdefault(handled.state.applicant, []).append(handled)
    findings: list[RuleFinding] = []
    for stream, n, e in entries:
        findings.extend(_access_findings(stream, n, e, dossiers, by_subject))
    return findings


def _access_findings(  # noqa: PLR0911 (one return per rule, in order)
    stream: str,
    n: int,
    e: AccessEntry,
    dossiers: Mapping[str, Handled],
    by_subject: Mapping[bytes, list[Handled]],
) -> list[RuleFinding]:
    def finding(rule: str, message: str, expected: str, found: str) -> RuleFinding:
        return RuleFinding(rule, stream, n, f"{e.reader}: {message}", expected, found, e.agency)

    if e.role == "inspector":
        return []
    if e.purpose == "audit":
        return [
            finding("privacy.access_purpose", "audit reads are for inspectors", "inspector", e.role)
        ]
    if not e.dossier:
        agencies = {a for h in by_subject.get(e.subject, []) for a in _agencies(h.state)}
        if e.agency in agencies:
            return []
        return [
            finding(
                "privacy.access_scope",
                "searched a subject with no dossier at the reader's agency",
                " or ".join(sorted(agencies)) or "a dossier at the reader's agency",
                e.agency,
            )
        ]
    handled = dossiers.get(e.dossier)
    if handled is None or handled.state.applicant != e.subject:
        return [
            finding(
                "privacy.access_scope",
                f"read a subject through dossier {e.dossier}, which is not theirs",
                "the subject's own dossier",
                e.dossier,
            )
        ]
    agencies = _agencies(handled.state)
    if e.agency not in agencies:
        return [
            finding(
                "privacy.access_scope",
                f"read dossier {e.dossier} of another agency",
                " or ".join(sorted(agencies)),
                e.agency,
            )
        ]
    if e.role == "handler":
        assigned = [h for t, h in handled.assignments if t <= e.time_us]
        if not assigned or assigned[-1] != e.reader:
            return [
                finding(
                    "privacy.access_assignment",
                    f"read dossier {e.dossier} without being its assigned handler",
                    assigned[-1] if assigned else "an assigned handler",
                    e.reader,
                )
            ]
    return []


def _agencies(state: DossierState) -> set[str]:
    return {state.agency, *(t.to_agency for t in state.transfers)}


# --- retention ------------------------------------------------------------------


def retention_blockers(
    states: Iterable[DossierState], *, now_us: int, retention_us: int
) -> list[tuple[str, str]]:
    """(dossier, why) for each of a subject's dossiers whose data must still be kept.

    An open dossier, and one that ended with a result, are under the archive
    law's retention duty; one that ended without a result (refused, withdrawn,
    stopped) is kept ``retention_us`` after it ended (docs/privacy.md §Erasure).
    """
    blockers: list[tuple[str, str]] = []
    for s in states:
        if s.results:
            blockers.append((s.code, "it holds a result (archive retention)"))
        elif s.state not in TERMINAL or s.state is State.DELIVERED:
            blockers.append((s.code, f"it is still {s.state.label}"))
        elif s.finished_us is not None and s.finished_us + retention_us > now_us:
            blockers.append((s.code, "its retention period after closing has not ended"))
    return blockers


def audit_erasures(
    erasures: Iterable[tuple[str, int, int, bytes]],
    states_of: Mapping[bytes, Sequence[DossierState]],
    *,
    retention_us: int,
) -> list[RuleFinding]:
    """``privacy.erasure_retention``: an erasure (stream, n, time, subject) while a
    retention duty still applied to one of the subject's dossiers."""
    findings: list[RuleFinding] = []
    for stream, n, time_us, subject in erasures:
        blockers = retention_blockers(
            states_of.get(subject, ()), now_us=time_us, retention_us=retention_us
        )
        for code, why in blockers:
            findings.append(
                RuleFinding(
                    "privacy.erasure_retention",
                    stream,
                    n,
                    f"erased while dossier {code} was under retention: {why}",
                    "no retention duty",
                    code,
                )
            )
    return findings
