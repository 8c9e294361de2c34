"""Steps 5 (roots), 6 (checkpoints) and 7 (cosignatures and the trust file's quorum):
what anchors the log.

Every stored checkpoint note is parsed and verified under the trusted log key
(step 6) before the log is read, so pass 1 knows at which sizes to keep the
recomputed root. Afterwards each verified checkpoint's root is compared with
the root recomputed over the log's first ``size`` records (step 5): equal
roots at every checkpoint size mean the checkpoints are consistent with each
other and with the log — stronger than checking consistency proofs, which the
verifier would have to take from the untrusted store. Two verified
checkpoints of one size with different roots are a fork.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.core.checkpoint import Checkpoint, open_checkpoint, verify_cosignatures
from ledger.core.errors import HosoError
from ledger.core.hashing import Hash
from ledger.core.note import Note
from ledger.core.policy import QuorumNotMet
from verify.checks import (
    CheckpointFork,
    CheckpointMissing,
    CosignatureMissing,
    LogTruncated,
    MerkleRootMismatch,
)
from verify.findings import Findings
from verify.trust import TrustRoots


@dataclass(frozen=True)
class Anchor:
    checkpoint: Checkpoint
    note: Note
    witnesses: tuple[str, ...] = ()


def open_checkpoints(notes: Iterable[bytes], trust: TrustRoots, findings: Findings) -> list[Anchor]:
    """Step 6 (signatures, origin, forks) and 7 (cosignatures) over stored notes."""
    anchors: list[Anchor] = []
    for index, data in enumerate(notes):
        where = f"checkpoint {index}"
        try:
            checkpoint, note = open_checkpoint(data, origin=trust.origin, log_keys=trust.log_keys)
        except HosoError as err:
            findings.error(err, step=6, where=where)
            continue
        names: set[str] = set()
        for name, witness in trust.named_witnesses():  # one at a time: a bad line voids no other's
            try:
                if verify_cosignatures(note, [witness]):
                    names.add(name)
            except HosoError as err:
                findings.error(err, step=7, where=f"checkpoint of size {checkpoint.size}")
        anchors.append(Anchor(checkpoint, note, tuple(sorted(names))))
    anchors.sort(key=lambda a: a.checkpoint.size)
    by_size: dict[int, Anchor] = {}
    for anchor in anchors:
        size = anchor.checkpoint.size
        other = by_size.setdefault(size, anchor)
        if other.checkpoint.root != anchor.checkpoint.root:
            findings.error(
                CheckpointFork(
                    "two signed checkpoints of the same size with different roots",
                    where=f"size {size}",
                    expected=other.checkpoint.root,
                    found=anchor.checkpoint.root,
                ),
                step=6,
            )
    if not anchors:
        findings.error(
            CheckpointMissing(
                "no checkpoint verifies under the trusted log key", expected=trust.origin
            ),
            step=6,
        )
        return anchors
    latest = max(anchors, key=lambda a: (a.checkpoint.size, len(a.witnesses)))
    # Copies of the latest checkpoint (the stored one, one from a publication...) are
    # one tree: their cosignatures count together.
    cosigned = {
        w
        for a in anchors
        if (a.checkpoint.size, a.checkpoint.root)
        == (latest.checkpoint.size, latest.checkpoint.root)
        for w in a.witnesses
    }
    if len(cosigned) < trust.min_witnesses:
        findings.error(
            CosignatureMissing(
                "the latest checkpoint lacks trusted witness cosignatures",
                where=f"size {latest.checkpoint.size}",
                expected=f">= {trust.min_witnesses}",
                found=len(cosigned),
            ),
            step=7,
        )
    quorum = trust.policy.quorum
    if quorum is not None and not trust.policy.witnessed(quorum, cosigned):
        findings.error(
            QuorumNotMet(
                "the latest checkpoint's cosignatures do not meet the trust file's quorum",
                where=f"size {latest.checkpoint.size}",
                expected=quorum,
                found=", ".join(sorted(cosigned)) or "no trusted witness",
            ),
            step=7,
        )
    return anchors


def compare_roots(
    anchors: Iterable[Anchor], *, log_size: int, roots: dict[int, Hash], findings: Findings
) -> None:
    """Step 5: each checkpoint's root against the recomputed one at its size."""
    for anchor in anchors:
        size, root = anchor.checkpoint.size, anchor.checkpoint.root
        if size > log_size:
            findings.error(
                LogTruncated(
                    "the log holds fewer records than a signed checkpoint commits to",
                    where=f"checkpoint of size {size}",
                    expected=size,
                    found=log_size,
                ),
                step=5,
            )
            continue
        found = roots.get(size)
        if found is not None and found != root:
            findings.error(
                MerkleRootMismatch(
                    "the tree recomputed over the log differs from the signed root",
                    where=f"checkpoint of size {size}",
                    expected=root,
                    found=found,
                ),
                step=5,
            )
