"""Step 10, in the log pass: the stream index rebuilt from the log equals every committed root.

Every record changes its stream's index value (:func:`ledger.domain.streams.next_state`:
its n and head, and for result events the results' statuses). At each ``IndexCommitted``
record the changes of the log's first ``tree_size`` entries are applied to an in-memory
index (:class:`ledger.core.index.IndexTree`) and its root and stream count compared with
the committed ones (``index.root_mismatch``). Changes of later entries wait for the next
commit, so memory is the index itself (one value per stream) plus the changes since the
last commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ledger.core.errors import VerificationError
from ledger.core.index import IndexTree, ResultStatus, StreamState
from ledger.domain.streams import IndexCommit, next_state
from verify.findings import Findings


class IndexRootMismatch(VerificationError):
    """A committed index root (or stream count) differs from the one rebuilt from the log."""

    check = "index.root_mismatch"


class _Change(NamedTuple):
    leaf: int
    stream: str
    n: int
    head: bytes
    results: tuple[ResultStatus, ...]


@dataclass
class IndexCheck:
    findings: Findings
    tree: IndexTree = field(default_factory=IndexTree)
    pending: list[_Change] = field(default_factory=list)
    applied: int = 0  # the log size the tree covers
    commits: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)  # tree_size → verified root

    def observe(
        self, *, leaf: int, stream: str, n: int, head: bytes, results: tuple[ResultStatus, ...]
    ) -> None:
        self.pending.append(_Change(leaf, stream, n, head, results))

    def commit(self, commit: IndexCommit, *, leaf: int, stream: str, n: int) -> None:
        """An ``IndexCommitted`` record at ``leaf``: compare its root with the rebuilt one."""
        self.commits += 1
        where = f"leaf {leaf}"
        if commit.tree_size > leaf or commit.tree_size < self.applied:
            self.findings.error(
                IndexRootMismatch(
                    "an index commit covers a log size it can't cover here",
                    where=where,
                    expected=f"{self.applied} <= tree_size <= {leaf}",
                    found=commit.tree_size,
                ),
                step=10,
                stream=stream,
                n=n,
                leaf=leaf,
            )
            return
        self._apply(commit.tree_size)
        root = self.tree.root.hash
        streams = len(self.tree.values)
        if (root, streams) != (commit.root, commit.streams):
            self.findings.error(
                IndexRootMismatch(
                    "the index committed here is not the one the log gives",
                    where=where,
                    expected=f"root {root.hex()}, {streams} streams",
                    found=f"root {commit.root.hex()}, {commit.streams} streams",
                ),
                step=10,
                stream=stream,
                n=n,
                leaf=leaf,
            )
        else:
            self.roots[commit.tree_size] = root

    def _apply(self, size: int) -> None:
        due = [c for c in self.pending if c.leaf < size]
        self.pending = [c for c in self.pending if c.leaf >= size]
        by_stream: dict[str, StreamState | None] = {}
        for change in due:
            if change.stream not in by_stream:
                by_stream[change.stream] = self.tree.state(change.stream)
            by_stream[change.stream] = next_state(
                by_stream[change.stream],
                stream=change.stream,
                n=change.n,
                head=change.head,
                changes=change.results,
            )
        self.tree.set(s for s in by_stream.values() if s is not None)
        self.applied = size
