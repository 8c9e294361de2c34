"""The verifier's numbered steps and the check ids it adds to the core's (docs/verify.md).

Each step has a number, a name and the check ids it can report. Ids from
:mod:`ledger.core.errors` and :mod:`ledger.core.registry` are reused; the
classes below are the verifier's own, each a typed error like the core's
(``check``, ``where``, ``expected``, ``found``).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from ledger.core.errors import MalformedError, VerificationError
from ledger.domain.streams import SignatureRoleMissing
from verify.evidence import CommitNotProven, MalformedEvidence
from verify.index import IndexRootMismatch


class Step(NamedTuple):
    number: int
    name: str
    title: str
    checks: tuple[str, ...]


STEPS: Final = (
    Step(
        1,
        "encoding",
        "canonical encoding of every record, and each system stream's payload shapes",
        ("encoding.canonical", "record.shape", "domain.payload"),
    ),
    Step(2, "hashes", "record hashes and origin", ("event.hash", "event.origin")),
    Step(
        3,
        "signatures+keys",
        "signatures, by keys valid for the actor and role at the log position",
        (
            "signature.invalid",
            "signature.unknown_key",
            "key.invalid_at_position",
            "signature.role",
            "registry.change",
        ),
    ),
    Step(
        4,
        "chains",
        "every stream's chain: gapless n, prev links, time order",
        ("chain.position", "chain.link", "chain.time", "log.row", "stream.type"),
    ),
    Step(
        5,
        "merkle",
        "the Merkle tree over all records equals the signed roots",
        ("merkle.root", "log.truncated"),
    ),
    Step(
        6,
        "checkpoints",
        "every stored checkpoint's signature, origin and agreement with the others",
        (
            "note.syntax",
            "checkpoint.syntax",
            "note.signature",
            "note.unsigned",
            "checkpoint.origin",
            "checkpoint.fork",
            "checkpoint.missing",
        ),
    ),
    Step(
        7,
        "cosignatures",
        "witness cosignatures, and the trust file's quorum",
        ("cosignature.invalid", "cosignature.missing", "cosignature.quorum"),
    ),
    Step(
        8,
        "due dates",
        "due dates recomputed from the recorded rule and calendar versions",
        ("rule.due_date_mismatch", "due.version_unknown"),
    ),
    Step(
        9,
        "post-audit rules",
        "the post-audit rules over every dossier, then the personal-data rules",
        ("rule.*", "privacy.*"),
    ),
    Step(
        10,
        "index",
        "the stream index rebuilt from the log equals every committed root (in the log pass)",
        ("index.root_mismatch",),
    ),
)
"""The steps, in order. Steps 1–5 and 10 run in one streaming pass over the log."""

BY_NUMBER: Final = {s.number: s for s in STEPS}


class EventOriginMismatch(VerificationError):
    """A record's body names another ledger's origin."""

    check = "event.origin"


class RegistryChangeRefused(VerificationError):
    """A key-registry event makes a change the registry can't take (e.g. a key twice)."""

    check = "registry.change"


class ChainTimeBackwards(VerificationError):
    """An event claims a time earlier than its stream predecessor's."""

    check = "chain.time"


class LogRowMismatch(VerificationError):
    """A stored row's (stream, n) columns differ from the record's signed body."""

    check = "log.row"


class MerkleRootMismatch(VerificationError):
    """The root recomputed over the log's first ``size`` records differs from a signed root."""

    check = "merkle.root"


class LogTruncated(VerificationError):
    """The log holds fewer records than a signed checkpoint commits to."""

    check = "log.truncated"


class CheckpointFork(VerificationError):
    """Two validly signed checkpoints of the same size with different roots."""

    check = "checkpoint.fork"


class CheckpointMissing(VerificationError):
    """No checkpoint verifies under the trusted log key: nothing anchors the log."""

    check = "checkpoint.missing"


class CosignatureMissing(VerificationError):
    """The latest checkpoint has fewer trusted witness cosignatures than required."""

    check = "cosignature.missing"


class MalformedBundle(MalformedError):
    """An offline bundle does not follow docs/formats.md §10."""

    check = "bundle.shape"


class BundleMismatch(VerificationError):
    """A bundle's parts don't belong together (stream, origin, sizes, result)."""

    check = "bundle.mismatch"


class BundleIncomplete(VerificationError):
    """A bundle does not hold every event the committed index says its streams have."""

    check = "bundle.incomplete"


class MalformedTrust(MalformedError):
    """A trust file line can't be read (docs/verify.md §Trust file)."""

    check = "trust.syntax"


class ReferenceMismatch(VerificationError):
    """An inter-log reference does not name an entry the other log's signed tree holds."""

    check = "transfer.reference"


class MonitorRollback(VerificationError):
    """The log's checkpoint is smaller than, or forks from, the one the monitor trusted."""

    check = "monitor.rollback"


class MalformedMonitorState(MalformedError):
    """A monitor state file that is not the JSON of docs/formats.md §14.5."""

    check = "monitor.state"


NEW_CHECKS: Final = (
    IndexRootMismatch,
    EventOriginMismatch,
    SignatureRoleMissing,
    RegistryChangeRefused,
    ChainTimeBackwards,
    LogRowMismatch,
    MerkleRootMismatch,
    LogTruncated,
    CheckpointFork,
    CheckpointMissing,
    CosignatureMissing,
    MalformedBundle,
    BundleMismatch,
    BundleIncomplete,
    MalformedEvidence,
    CommitNotProven,
    MalformedTrust,
    MonitorRollback,
    MalformedMonitorState,
    ReferenceMismatch,
)
"""The check ids this package adds (docs/verify.md lists them; a test compares)."""
