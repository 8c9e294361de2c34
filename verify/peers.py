"""Inter-log references, checked against the other log's tiles (docs/formats.md §15).

A ``TransferredInterAgency`` event to an agency on another log may name that log's entry
by ``ref_origin``, ``ref_index`` and ``ref_event_hash``. Given the other log's tlog-tiles
(a fetch, as for ``hoso monitor``) and its trust roots, :func:`check_reference` opens the
other log's checkpoint (its log key, origin, cosignatures and quorum, steps 6/7), checks
the hash tiles hash to its root, that ``ref_index`` is inside it, that the entry bundle
holding it hashes to the level-0 tile, and that the entry is a signed record of that
origin whose event hash is ``ref_event_hash``. A reference to a log not given is counted,
not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ledger.core import merkle, tiles
from ledger.core.errors import HosoError
from ledger.core.event import parse_record
from ledger.domain import lifecycle as ev
from verify.anchors import open_checkpoints
from verify.checks import MerkleRootMismatch, ReferenceMismatch
from verify.findings import Findings
from verify.follow import Fetch
from verify.source import LogEntry
from verify.trust import TrustRoots


@dataclass(frozen=True)
class Reference:
    leaf: int  # where the referring record is, in this log
    stream: str
    n: int
    origin: str
    index: int
    event_hash: bytes


@dataclass(frozen=True)
class Peer:
    fetch: Fetch
    trust: TrustRoots


@dataclass
class PeerReport:
    checked: int = 0
    unchecked: dict[str, int] = field(default_factory=dict)  # origin → references not judged


def references(entries: Iterable[LogEntry]) -> list[Reference]:
    """The inter-log references in a log's records (malformed ones are step 1's)."""
    found: list[Reference] = []
    for leaf, entry in enumerate(entries):
        try:
            body = parse_record(entry.record).body
        except HosoError:
            continue
        if body.type != ev.TRANSFERRED:
            continue
        p = body.payload
        keys = ("ref_origin", "ref_index", "ref_event_hash")
        if not all(k in p for k in keys):
            continue  # none (or some: the payload check reports a partial reference)
        origin, index, digest = p["ref_origin"], p["ref_index"], p["ref_event_hash"]
        if isinstance(origin, str) and isinstance(index, int) and isinstance(digest, bytes):
            found.append(Reference(leaf, body.stream, body.n, origin, index, digest))
    return found


def check_references(
    refs: Iterable[Reference], peers: Mapping[str, Peer], findings: Findings
) -> PeerReport:
    report = PeerReport()
    for ref in refs:
        peer = peers.get(ref.origin)
        if peer is None:
            report.unchecked[ref.origin] = report.unchecked.get(ref.origin, 0) + 1
            continue
        report.checked += 1
        try:
            check_reference(ref, peer, findings)
        except HosoError as err:
            findings.error(err, step=6, stream=ref.stream, n=ref.n, leaf=ref.leaf)
    return report


def check_reference(ref: Reference, peer: Peer, findings: Findings) -> None:
    """Raise unless the other log's latest signed tree holds ``ref``'s entry."""
    where = f"{ref.origin} entry {ref.index}"
    if peer.trust.origin != ref.origin:
        raise ReferenceMismatch(
            "the peer's trust roots are for another log",
            where=where,
            expected=ref.origin,
            found=peer.trust.origin,
        )
    anchors = open_checkpoints([peer.fetch("checkpoint")], peer.trust, findings)
    if not anchors:
        raise ReferenceMismatch("the other log's checkpoint does not verify", where=where)
    checkpoint = anchors[0].checkpoint
    if not 0 <= ref.index < checkpoint.size:
        raise ReferenceMismatch(
            "the referenced entry is not in the other log's signed tree",
            where=where,
            expected=f"index < {checkpoint.size}",
            found=ref.index,
        )
    nodes = tiles.TileNodes(checkpoint.size, lambda tile: peer.fetch(tile.path()))
    root = merkle.root_at(size=checkpoint.size, get_nodes=nodes)
    if root != checkpoint.root:
        raise MerkleRootMismatch(
            "the other log's tiles do not hash to its signed root",
            where=where,
            expected=checkpoint.root,
            found=root,
        )
    bundle = tiles.bundle_for(ref.index // tiles.TILE_WIDTH, checkpoint.size)
    if bundle is None:
        raise ReferenceMismatch("no entry bundle holds the referenced entry", where=where)
    entries = tiles.decode_bundle(peer.fetch(bundle.path()), bundle)
    tiles.check_bundle(entries, nodes.tile(0, bundle.index), bundle)
    record = parse_record(entries[ref.index % tiles.TILE_WIDTH])
    if record.body.origin != ref.origin or record.event_hash != ref.event_hash:
        raise ReferenceMismatch(
            "the other log's entry at this index is not the referenced event",
            where=where,
            expected=ref.event_hash,
            found=record.event_hash,
        )
