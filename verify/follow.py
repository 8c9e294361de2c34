"""Following a log from its tiles alone, incrementally: the core of ``hoso monitor``.

A :class:`FollowState` is what a verifier keeps between runs (docs/formats.md §14.5): the
last verified checkpoint, the compact range at its size, each stream's head, the key
registry's records, the stream index rebuilt so far, and where each dossier's records are.
:func:`follow` takes it and a ``fetch`` of tlog-tiles paths (a mirror's files, or HTTP)
and checks, in order:

* step 6/7 on the fetched ``checkpoint`` (the log key, the origin, cosignatures and the
  trust file's quorum), and that it neither shrinks nor forks from the trusted one
  (``monitor.rollback``);
* the consistency proof from the trusted checkpoint to the new one, computed from the
  hash tiles (:class:`ledger.core.tiles.TileNodes`), and each new entry bundle against
  the level-0 tiles (``tiles.mismatch``);
* steps 1–5 and 10 on every new record, resumed from the state (signatures by keys valid
  at the record's position, chains, the index commits), and the new root at the new size;
* steps 8–9 for each dossier the new records touched (its earlier records fetched again
  from their bundles, checked against the tiles the same way).

The new state is returned only when nothing malformed or failing was found; otherwise the
caller keeps the old one. Work and fetches are proportional to what is new (and to the
touched dossiers' histories), not to the log. ``hoso verify --since STATE`` can reuse
:func:`follow` with a fetch over the database's nodes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.core import merkle, tiles
from ledger.core.checkpoint import Checkpoint
from ledger.core.errors import HosoError
from ledger.core.event import parse_record
from ledger.core.index import ResultStatus, parse_state
from ledger.core.registry import KeyRegistration, registry_change
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.law import shipped_law
from ledger.domain.procedures import Catalogue
from verify.anchors import open_checkpoints
from verify.checks import MalformedMonitorState, MerkleRootMismatch, MonitorRollback
from verify.dossiers import DossierPass
from verify.findings import DEFAULT_CAP, Findings
from verify.index import _Change
from verify.integrity import Head, LogPass
from verify.run import Report
from verify.sigpool import BatchChecker
from verify.source import LogEntry
from verify.trust import TrustRoots

FORMAT = "hoso-monitor/1"
Fetch = Callable[[str], bytes]
"""Read a tlog-tiles path (``checkpoint``, ``tile/0/000``…) of the followed log."""


@dataclass
class FollowState:
    origin: str
    size: int = 0
    root: bytes = merkle.root_from_leaves([])
    checkpoint: str = ""
    peaks: list[bytes] = field(default_factory=list)
    heads: dict[str, tuple[int, bytes, int]] = field(default_factory=dict)
    registry: list[tuple[int, bytes]] = field(default_factory=list)
    index_applied: int = 0
    index_values: list[bytes] = field(default_factory=list)
    index_pending: list[tuple[int, str, int, bytes, list[tuple[str, str, int]]]] = field(
        default_factory=list
    )
    streams: dict[str, list[int]] = field(default_factory=dict)
    verified_us: int = 0

    # --- the file --------------------------------------------------------------

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "checkpoint": self.checkpoint,
            "peaks": [p.hex() for p in self.peaks],
            "heads": {s: [n, h.hex(), t] for s, (n, h, t) in sorted(self.heads.items())},
            "registry": [[leaf, record.hex()] for leaf, record in self.registry],
            "index": {
                "applied": self.index_applied,
                "values": [v.hex() for v in self.index_values],
                "pending": [
                    [leaf, stream, n, head.hex(), [list(r) for r in results]]
                    for leaf, stream, n, head, results in self.index_pending
                ],
            },
            "streams": dict(sorted(self.streams.items())),
            "verified_us": self.verified_us,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> FollowState:
        try:
            raw = json.loads(data)
            _check_format(raw)
            index = raw["index"]
            state = cls(
                origin=_str(raw["origin"]),
                size=_int(raw["size"]),
                root=bytes.fromhex(raw["root"]),
                checkpoint=_str(raw["checkpoint"]),
                peaks=[bytes.fromhex(p) for p in raw["peaks"]],
                heads={
                    _str(s): (_int(v[0]), bytes.fromhex(v[1]), _int(v[2]))
                    for s, v in raw["heads"].items()
                },
                registry=[(_int(leaf), bytes.fromhex(r)) for leaf, r in raw["registry"]],
                index_applied=_int(index["applied"]),
                index_values=[bytes.fromhex(v) for v in index["values"]],
                index_pending=[
                    (
                        _int(leaf),
                        _str(stream),
                        _int(n),
                        bytes.fromhex(head),
                        [(_str(a), _str(b), _int(c)) for a, b, c in results],
                    )
                    for leaf, stream, n, head, results in index["pending"]
                ],
                streams={
                    _str(s): [_int(leaf) for leaf in leaves] for s, leaves in raw["streams"].items()
                },
                verified_us=_int(raw["verified_us"]),
            )
        except MalformedMonitorState:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise MalformedMonitorState(f"state file: {err}") from err
        compact = merkle.CompactRange.from_state(size=state.size, hashes=state.peaks)
        if compact.root() != state.root:
            raise MalformedMonitorState(
                "the state's peaks do not fold to its root",
                expected=state.root,
                found=compact.root(),
            )
        return state


def _check_format(raw: Any) -> None:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise MalformedMonitorState(f"not a {FORMAT} state file")


def _int(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise MalformedMonitorState(f"expected a non-negative int, found {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise MalformedMonitorState(f"expected a string, found {type(value).__name__}")
    return value


# --- resuming the log pass ---------------------------------------------------------


def _resume(state: FollowState, trust: TrustRoots, findings: Findings, size: int) -> LogPass:
    log_pass = LogPass(
        origin=trust.origin,
        authorities=trust.authorities,
        log_keys=trust.log_public_keys(),
        findings=findings,
        root_sizes={size},
    )
    log_pass.compact = merkle.CompactRange.from_state(size=state.size, hashes=state.peaks)
    log_pass.heads = {s: Head(n, h, t) for s, (n, h, t) in state.heads.items()}
    for leaf, record in state.registry:  # folded before: they fold again the same way
        change = registry_change(parse_record(record))
        log_pass.keys.state.apply(change, position=leaf)
        if isinstance(change, KeyRegistration):
            log_pass.keys.registrations[change.key_id] = change
            log_pass.keys.public_keys[change.key_id] = change.public_key
    log_pass.registry_applied = list(state.registry)
    index = log_pass.index
    index.tree.set(parse_state(v) for v in state.index_values)
    index.applied = state.index_applied
    index.pending = [
        _Change(leaf, stream, n, head, tuple(ResultStatus(a, b, c) for a, b, c in results))
        for leaf, stream, n, head, results in state.index_pending
    ]
    return log_pass


def _saved(
    log_pass: LogPass, old: FollowState, *, checkpoint: str, new_leaves: dict[str, list[int]]
) -> FollowState:
    streams = {s: list(v) for s, v in old.streams.items()}
    for stream, leaves in new_leaves.items():
        if not stream.startswith("system/"):  # only dossiers' histories are read again
            streams.setdefault(stream, []).extend(leaves)
    compact = log_pass.compact
    return FollowState(
        origin=old.origin,
        size=compact.size,
        root=compact.root(),
        checkpoint=checkpoint,
        peaks=list(compact.hashes),
        heads={s: (h.n, bytes(h.event_hash), h.time_us) for s, h in log_pass.heads.items()},
        registry=list(log_pass.registry_applied),
        index_applied=log_pass.index.applied,
        index_values=list(log_pass.index.tree.values.values()),
        index_pending=[
            (c.leaf, c.stream, c.n, bytes(c.head), [(r.number, r.status, r.n) for r in c.results])
            for c in log_pass.index.pending
        ],
        streams=streams,
        verified_us=time.time_ns() // 1000,
    )


# --- the run ------------------------------------------------------------------------


class _Entries:
    """Entry bundles of the new tree, fetched once each and checked against level-0 tiles."""

    def __init__(self, fetch: Fetch, nodes: tiles.TileNodes) -> None:
        self.fetch = fetch
        self.nodes = nodes
        self.bundles: dict[int, list[bytes]] = {}
        self.fetched = 0

    def bundle(self, index: int) -> list[bytes]:
        found = self.bundles.get(index)
        if found is None:
            bundle = tiles.bundle_for(index, self.nodes.size)
            if bundle is None:
                raise tiles.MalformedTile(f"no entry bundle {index} in size {self.nodes.size}")
            found = tiles.decode_bundle(self.fetch(bundle.path()), bundle)
            tiles.check_bundle(found, self.nodes.tile(0, index), bundle)
            self.bundles[index] = found
            self.fetched += 1
        return found

    def record(self, leaf: int) -> bytes:
        return self.bundle(leaf // tiles.TILE_WIDTH)[leaf % tiles.TILE_WIDTH]

    def since(self, start: int) -> Iterable[LogEntry]:
        for leaf in range(start, self.nodes.size):
            yield LogEntry(self.record(leaf))


@dataclass
class FollowResult:
    report: Report
    state: FollowState | None  # None: keep the old state (nothing verified, or a failure)
    new_records: int = 0
    fetched: dict[str, int] = field(default_factory=dict)


def follow(
    state: FollowState | None,
    fetch: Fetch,
    trust: TrustRoots,
    *,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    now_us: int,
    rules: bool = True,
    workers: int = 1,
    batch: int = 1000,
    cap: int = DEFAULT_CAP,
) -> FollowResult:
    """Verify what the log added since ``state`` (None: from the start); see the module."""
    old = FollowState(origin=trust.origin) if state is None else state
    findings = Findings(cap=cap)
    report = Report(
        trust.origin,
        findings=findings,
        rules_run=rules,
        calendar_version=calendar.version,
        law_version=shipped_law().version,
    )
    started = time.perf_counter()
    result = FollowResult(report, None)
    opened = _open(old, fetch, trust, report)
    if opened is None:
        return result
    checkpoint, note_bytes = opened
    nodes = tiles.TileNodes(checkpoint.size, lambda tile: fetch(tile.path()))
    entries = _Entries(fetch, nodes)
    try:
        _check_tree(old, checkpoint, nodes)
        log_pass = _resume(old, trust, findings, checkpoint.size)
        new = list(entries.since(old.size))
    except HosoError as err:
        findings.error(err, step=5)
        return result
    with BatchChecker(workers=workers, batch=batch) as checker:
        passed = log_pass.run(new, checker)
    if log_pass.compact.root() != checkpoint.root:
        findings.error(
            MerkleRootMismatch(
                "the new records do not rebuild the signed root",
                where=f"size {checkpoint.size}",
                expected=checkpoint.root,
                found=log_pass.compact.root(),
            ),
            step=5,
        )
    touched = _touched(new, old.size)
    report.records, report.streams, report.signatures = len(new), len(touched), passed.signatures
    report.seconds["log"] = time.perf_counter() - started
    if rules:
        started = time.perf_counter()
        dossier_pass = DossierPass(
            catalogue=catalogue,
            calendar=calendar,
            registrations=passed.keys.registrations,
            now_us=now_us,
            findings=findings,
        )
        try:
            histories = [
                (stream, _history(entries, old.streams.get(stream, []) + leaves))
                for stream, leaves in sorted(touched.items())
                if not stream.startswith("system/")
            ]
        except HosoError as err:
            findings.error(err, step=5)
            return result
        report.stats = dossier_pass.run(histories)
        report.seconds["dossiers"] = time.perf_counter() - started
    result.new_records = len(new)
    result.fetched = {"tiles": len(nodes.tiles), "bundles": entries.fetched}
    if findings.exit_code() == 0:
        text = note_bytes.decode("utf-8")
        result.state = _saved(log_pass, old, checkpoint=text, new_leaves=touched)
    return result


def _open(
    old: FollowState, fetch: Fetch, trust: TrustRoots, report: Report
) -> tuple[Checkpoint, bytes] | None:
    """Steps 6/7 on the log's checkpoint, and that it extends the trusted one."""
    findings = report.findings
    if old.origin != trust.origin:
        findings.error(
            MalformedMonitorState(
                "the state is for another log", expected=trust.origin, found=old.origin
            ),
            step=6,
        )
        return None
    try:
        note_bytes = fetch("checkpoint")
    except HosoError as err:
        findings.error(err, step=6, where="checkpoint")
        return None
    report.checkpoints = open_checkpoints([note_bytes], trust, findings)
    if not report.checkpoints or findings.exit_code() != 0:
        return None
    checkpoint = report.checkpoints[0].checkpoint
    if checkpoint.size < old.size or (checkpoint.size == old.size and checkpoint.root != old.root):
        findings.error(
            MonitorRollback(
                "the log's checkpoint does not extend the one verified before",
                where=f"size {old.size} → {checkpoint.size}",
                expected=f"size >= {old.size}, root {old.root.hex()} at {old.size}",
                found=f"size {checkpoint.size}, root {checkpoint.root.hex()}",
            ),
            step=6,
        )
        return None
    return checkpoint, note_bytes


def _check_tree(old: FollowState, checkpoint: Checkpoint, nodes: tiles.TileNodes) -> None:
    """The consistency proof from the trusted tree, and the root, from the tiles alone."""
    if 0 < old.size < checkpoint.size:
        proof = merkle.consistency_proof(size1=old.size, size2=checkpoint.size, get_nodes=nodes)
        merkle.verify_consistency(
            size1=old.size,
            size2=checkpoint.size,
            root1=old.root,
            root2=checkpoint.root,
            proof=proof,
        )
    tree_root = merkle.root_at(size=checkpoint.size, get_nodes=nodes)
    if tree_root != checkpoint.root:
        raise MerkleRootMismatch(
            "the tiles do not hash to the signed root",
            where=f"size {checkpoint.size}",
            expected=checkpoint.root,
            found=tree_root,
        )
    tiles.check_tile_links(nodes)


def _touched(new: Sequence[LogEntry], start: int) -> dict[str, list[int]]:
    touched: dict[str, list[int]] = {}
    for leaf, entry in enumerate(new, start=start):
        try:
            stream = parse_record(entry.record).body.stream
        except HosoError:
            continue  # reported by the log pass
        touched.setdefault(stream, []).append(leaf)
    return touched


def _history(entries: _Entries, leaves: Sequence[int]) -> list[bytes]:
    return [entries.record(leaf) for leaf in leaves]
