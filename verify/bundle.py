"""Offline bundles (docs/formats.md §10; the bytes are :mod:`verify.bundle_format`): one
dossier, provable with nothing else.

Verification: the checkpoint under the trusted log key (step 6) and its
cosignatures (7); every record's inclusion proof against the checkpoint root
(5, ``merkle.inclusion``); then steps 1–4 over the registry and dossier records
merged in leaf order (so each signature is judged by the registry as of its leaf),
and the index commit that ends the checkpoint; then **completeness** (10): the
commit's lookup proofs say how many events the dossier and the key registry have
in the checkpoint, and their heads, and the bundle must carry exactly those
(``bundle.incomplete``); then steps 8–9 over the dossier.

What it proves: every included record is in the log the checkpoint commits to, at
its leaf; the dossier's chain from n = 1 is complete; and no event of the dossier or
of the key registry in the checkpoint was left out (a dropped revocation, refusal or
replacement is found). What no bundle can prove: that nothing happened after the
checkpoint — its cosignatures' times say how fresh it is.
"""

from __future__ import annotations

from ledger.core import merkle
from ledger.core.checkpoint import Checkpoint
from ledger.core.errors import HosoError
from ledger.core.event import parse_record
from ledger.core.hashing import leaf_hash
from ledger.core.registry import REGISTRY_STREAM
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.law import shipped_law
from ledger.domain.procedures import Catalogue
from verify.anchors import open_checkpoints
from verify.bundle_format import RESULT_TYPES, Bundle, BundleEntry, parse_bundle
from verify.checks import BundleIncomplete, BundleMismatch, MalformedBundle
from verify.dossiers import DossierPass
from verify.evidence import look_up, open_commit
from verify.findings import Findings
from verify.integrity import LogPass
from verify.run import Report
from verify.sigpool import BatchChecker
from verify.source import LogEntry
from verify.trust import TrustRoots


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
    _check_complete(bundle, checkpoint, trust, findings)
    log_pass = LogPass(
        origin=trust.origin,
        authorities=trust.authorities,
        log_keys=trust.log_public_keys(),
        findings=findings,
        rebuild_index=False,
    )
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


def _check_complete(
    bundle: Bundle, checkpoint: Checkpoint, trust: TrustRoots, findings: Findings
) -> None:
    """Step 10 for a bundle: the index says what the dossier and the registry hold."""
    if bundle.index is None:
        findings.error(
            BundleIncomplete(
                "a version-1 bundle carries no index proof: nothing shows it holds every "
                "event of the dossier",
                expected="bundle v2 with index evidence",
                found="v1",
            ),
            step=10,
        )
        return
    try:
        commit = open_commit(bundle.index, checkpoint=checkpoint, log_keys=trust.log_public_keys())
    except HosoError as err:
        findings.error(err, step=10, where="bundle index commit")
        return
    for stream, entries in ((bundle.dossier, bundle.events), (REGISTRY_STREAM, bundle.registry)):
        try:
            state = look_up(bundle.index, commit, stream)
        except HosoError as err:
            findings.error(err, step=10, stream=stream)
            continue
        last = _last(entries)
        found = "no event" if last is None else f"n={last[0]} head {last[1].hex()}"
        expected = "no event" if state is None else f"n={state.n} head {state.head.hex()}"
        if found != expected:
            findings.error(
                BundleIncomplete(
                    "the bundle does not hold every event the index says the stream has at "
                    "this checkpoint",
                    where=f"stream {stream}",
                    expected=expected,
                    found=found,
                ),
                step=10,
                stream=stream,
            )


def _last(entries: tuple[BundleEntry, ...]) -> tuple[int, bytes] | None:
    """(n, event hash) of the last entry, by n (None: no entry)."""
    best: tuple[int, bytes] | None = None
    for entry in entries:
        try:
            event = parse_record(entry.record)
        except HosoError:
            continue
        if best is None or event.body.n > best[0]:
            best = (event.body.n, event.event_hash)
    return best


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
