"""Offline bundles (docs/formats.md §10): one dossier, provable with nothing else.

A bundle is one canonical msgpack map::

    {"checkpoint": bin,            signed checkpoint note, with witness cosignatures
     "dossier": str,               the dossier's stream id
     "events": [entry, ...],       the dossier's records in the checkpoint, n = 1, 2, ...
     "kind": "hoso/bundle",
     "origin": str,
     "registry": [entry, ...],     every system/keys record in the checkpoint, in leaf order
     "result": str,                the result number it was exported for, or ""
     "v": 1}
    entry = {"leaf": int, "proof": [bin(32), ...], "record": bin}

Verification: the checkpoint under the trusted log key (step 6) and its
cosignatures (7); every record's inclusion proof against the checkpoint root
(5, ``merkle.inclusion``); then steps 1–4 over the registry and dossier
records merged in leaf order (so each signature is judged by the registry as
of its leaf); then steps 8–9 over the dossier.

What it proves, and what it can't: every included record is in the log the
checkpoint commits to, at its leaf; the dossier's chain from n = 1 to the
last included event is complete (no gap, no reordering, no substitution).
It can't prove that no later event of the dossier (or of the registry) lies in
the log before the checkpoint's size: a bundle cut short at the end looks
like a dossier that stopped there. Only the full log (``hoso verify --db``)
or a later bundle whose chain continues past that event settles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ledger.core import encoding, merkle
from ledger.core.errors import HosoError
from ledger.core.event import parse_record
from ledger.core.hashing import leaf_hash
from ledger.core.registry import REGISTRY_STREAM
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.law import shipped_law
from ledger.domain.procedures import Catalogue
from verify.anchors import open_checkpoints
from verify.checks import BundleMismatch, MalformedBundle
from verify.dossiers import DossierPass
from verify.findings import Findings
from verify.integrity import LogPass
from verify.run import Report
from verify.sigpool import BatchChecker
from verify.source import LogEntry
from verify.trust import TrustRoots

BUNDLE_KIND: Final = "hoso/bundle"
BUNDLE_VERSION: Final = 1
_KEYS: Final = frozenset(
    {"v", "kind", "origin", "checkpoint", "dossier", "result", "events", "registry"}
)
RESULT_TYPES: Final = ("ResultIssued", "ResultCorrected")


@dataclass(frozen=True)
class BundleEntry:
    leaf: int
    record: bytes
    proof: tuple[bytes, ...]

    def to_map(self) -> dict[str, encoding.Value]:
        return {"leaf": self.leaf, "record": self.record, "proof": list(self.proof)}


@dataclass(frozen=True)
class Bundle:
    origin: str
    checkpoint: bytes
    dossier: str
    result: str
    events: tuple[BundleEntry, ...]
    registry: tuple[BundleEntry, ...]

    def encode(self) -> bytes:
        return encoding.encode(
            {
                "v": BUNDLE_VERSION,
                "kind": BUNDLE_KIND,
                "origin": self.origin,
                "checkpoint": self.checkpoint,
                "dossier": self.dossier,
                "result": self.result,
                "events": [e.to_map() for e in self.events],
                "registry": [e.to_map() for e in self.registry],
            }
        )


def parse_bundle(data: bytes) -> Bundle:
    """Parse bundle bytes; raise MalformedBundle (or encoding.canonical) unless well-formed."""
    raw = encoding.decode(data)
    if not isinstance(raw, dict) or set(raw) != _KEYS:
        raise MalformedBundle(f"a bundle is a map of exactly {sorted(_KEYS)}")
    if raw["v"] != BUNDLE_VERSION or raw["kind"] != BUNDLE_KIND:
        raise MalformedBundle(f"not a {BUNDLE_KIND} v{BUNDLE_VERSION}")
    origin, checkpoint, dossier, result = (
        raw["origin"],
        raw["checkpoint"],
        raw["dossier"],
        raw["result"],
    )
    if not isinstance(origin, str) or not isinstance(dossier, str) or not isinstance(result, str):
        raise MalformedBundle("origin, dossier and result must be str")
    if not isinstance(checkpoint, bytes):
        raise MalformedBundle("checkpoint must be bin (the signed note)")
    return Bundle(
        origin=origin,
        checkpoint=checkpoint,
        dossier=dossier,
        result=result,
        events=_entries(raw["events"], "events"),
        registry=_entries(raw["registry"], "registry"),
    )


def _entries(value: Any, name: str) -> tuple[BundleEntry, ...]:
    if not isinstance(value, list):
        raise MalformedBundle(f"{name} must be an array")
    out = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(item, dict) or set(item) != {"leaf", "record", "proof"}:
            raise MalformedBundle("an entry is a map of leaf, record and proof", where=where)
        leaf, record, proof = item["leaf"], item["record"], item["proof"]
        if type(leaf) is not int or leaf < 0 or not isinstance(record, bytes):
            raise MalformedBundle("leaf must be a non-negative int, record bin", where=where)
        if not isinstance(proof, list) or not all(isinstance(h, bytes) for h in proof):
            raise MalformedBundle("proof must be an array of bin", where=where)
        out.append(BundleEntry(leaf, record, tuple(proof)))
    return tuple(out)


def verify_bundle(
    data: bytes,
    trust: TrustRoots,
    *,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    now_us: int,
) -> Report:
    """Verify an offline bundle under ``trust`` alone; return the report."""
    report = Report(
        trust.origin, calendar_version=calendar.version, law_version=shipped_law().version
    )
    findings = report.findings
    try:
        bundle = parse_bundle(data)
    except HosoError as err:
        findings.error(err, step=1, where="bundle")
        return report
    if bundle.origin != trust.origin:
        findings.error(
            BundleMismatch(
                "bundle is for another ledger", expected=trust.origin, found=bundle.origin
            ),
            step=6,
        )
        return report
    report.checkpoints = open_checkpoints([bundle.checkpoint], trust, findings)
    if not report.checkpoints:
        return report
    checkpoint = report.checkpoints[-1].checkpoint
    entries = _included(bundle, checkpoint.size, checkpoint.root, findings)
    _check_membership(bundle, findings)
    in_order = _check_order(bundle, findings)
    log_pass = LogPass(origin=trust.origin, authorities=trust.authorities, findings=findings)
    with BatchChecker(workers=1) as checker:
        result = log_pass.run(entries, checker)
    report.records, report.streams, report.signatures = (
        len(entries),
        result.streams,
        result.signatures,
    )
    if not in_order:
        return report  # steps 8-9 would judge a history the holder reordered
    dossier_pass = DossierPass(
        catalogue=catalogue,
        calendar=calendar,
        registrations=result.keys.registrations,
        now_us=now_us,
        findings=findings,
    )
    dossier_pass.one(bundle.dossier, [e.record for e in bundle.events])
    dossier_pass.finish()
    report.stats = dossier_pass.stats
    return report


def _included(bundle: Bundle, size: int, root: bytes, findings: Findings) -> list[LogEntry]:
    """Entries whose inclusion proof holds, merged in leaf order (step 5)."""
    merged = sorted((*bundle.registry, *bundle.events), key=lambda e: e.leaf)
    out: list[LogEntry] = []
    previous = -1
    for entry in merged:
        if entry.leaf == previous:
            findings.error(
                MalformedBundle("two entries at one leaf", where=f"leaf {entry.leaf}"), step=1
            )
            continue
        previous = entry.leaf
        try:
            merkle.verify_inclusion(
                index=entry.leaf,
                size=size,
                leaf_hash=leaf_hash(entry.record),
                proof=entry.proof,
                root=root,
            )
        except HosoError as err:
            findings.error(err, step=5, leaf=entry.leaf)
            continue
        out.append(LogEntry(entry.record, leaf=entry.leaf))
    return out


def _check_order(bundle: Bundle, findings: Findings) -> bool:
    """The dossier's events are listed in stream order, n = 1, 2, ... (docs/formats.md §10)."""
    leaves: set[int] = set()
    for index, entry in enumerate(bundle.events):
        if entry.leaf in leaves:
            continue  # two entries at one leaf: reported as such
        leaves.add(entry.leaf)
        try:
            n = parse_record(entry.record).body.n
        except HosoError:
            return True  # step 1 reports it; the chain check finds what is missing
        if n != len(leaves):
            findings.error(
                MalformedBundle(
                    "the dossier's events are not listed in stream order n = 1, 2, ...",
                    where=f"events[{index}]",
                    expected=len(leaves),
                    found=n,
                ),
                step=1,
            )
            return False
    return True


def _check_membership(bundle: Bundle, findings: Findings) -> None:
    """Registry entries are registry records; events are the dossier's; the result is in it."""
    results: set[str] = set()
    for name, entries, stream in (
        ("registry", bundle.registry, REGISTRY_STREAM),
        ("events", bundle.events, bundle.dossier),
    ):
        for entry in entries:
            try:
                event = parse_record(entry.record)
            except HosoError:
                continue  # step 1 reports it
            if event.body.stream != stream:
                findings.error(
                    BundleMismatch(
                        f"a {name} entry belongs to another stream",
                        where=f"leaf {entry.leaf}",
                        expected=stream,
                        found=event.body.stream,
                    ),
                    step=4,
                )
            if event.body.type in RESULT_TYPES:
                results.add(str(event.body.payload.get("result_number")))
    if bundle.result and bundle.result not in results:
        findings.error(
            BundleMismatch(
                "the dossier holds no result with this number",
                expected=bundle.result,
                found=sorted(results),
            ),
            step=9,
        )
