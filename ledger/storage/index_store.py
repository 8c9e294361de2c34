"""The stream index on disk (docs/formats.md §12; the trie itself is :mod:`ledger.core.index`).

Three tables, every row tagged with the **version** it was built for — the log size whose
first entries the index covers:

* ``hoso_index_nodes`` — internal nodes (depth, prefix, version) with both children's
  hashes and, for a one-leaf child, its key;
* ``hoso_index_values`` — each stream's value (key, version);
* ``hoso_index_roots`` — the root at each built version.

A build for version ``V`` reads the trie as it stands (the latest rows) and writes new rows
at ``V`` in chunks, so memory is bounded by a chunk of the log, not by the streams; it
reads only the paths of the streams the chunk changed, level by level. Rows are never
overwritten by another version, so a lookup at any built version reads the latest row
``<= V`` of each node on its path: the committed index stays readable while a new one is
built, and a build that never got committed leaves rows that are simply a later state of
the same log (every change is "set this stream's state", so a later build that reads them
ends at the same trie). Which version is *committed* is the ledger's business (the
``IndexCommitted`` events on ``system/index``; :mod:`ledger.storage.checkpoints`).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg

from ledger.core import index
from ledger.core.errors import StateConflict
from ledger.core.event import parse_stored
from ledger.core.index import Child, LookupProof, Node, StreamState, index_key, prefix_of
from ledger.domain.streams import RESULT_TYPES, next_state, result_changes
from ledger.storage.database import Backend
from ledger.storage.sql import EVENTS_TABLE, Cursor, Sql

CHUNK = 50_000
"""Log entries per build chunk: the build's memory is about this many entries' worth."""
CACHE_DEPTH = 16
"""Depths of the trie a builder keeps in memory (:class:`IndexStore`)."""
_CACHE_CATCH_UP = 4 * CHUNK
"""Entries built elsewhere past which the cache is dropped rather than mended."""
_BUILD_LOCK = 0x686F736F_696E6478  # "hosoindx": the advisory lock builders take
_FOLLOWER_LOCK = (0x686F736F, 0x666F6C6C)  # "hoso" "foll": held by the running follower
FOLLOWER_WAIT_S = 30.0
"""How long a checkpoint signer waits for a running follower before building itself."""
PATH_BATCH = 40
"""Depths of a key's path read per query by :meth:`IndexStore.prove`."""


class FollowerRunning(StateConflict):
    """A second index follower on one database."""

    check = "index.follower_running"


class _Table(NamedTuple):
    """One of the index's versioned tables, as :meth:`IndexStore._upsert` writes it."""

    name: str
    columns: str
    types: tuple[str, ...]  # PostgreSQL types, for COPY
    conflict: str


_NODE_COLUMNS = "depth, prefix, version, left_hash, right_hash, left_key, right_key"
_NODES = _Table(
    "hoso_index_nodes",
    _NODE_COLUMNS,
    ("int4", "bytea", "int8", "bytea", "bytea", "bytea", "bytea"),
    " ON CONFLICT (depth, prefix, version) DO UPDATE SET left_hash = excluded.left_hash,"
    " right_hash = excluded.right_hash, left_key = excluded.left_key,"
    " right_key = excluded.right_key",
)
_VALUES = _Table(
    "hoso_index_values",
    "key, version, stream, value",
    ("bytea", "int8", "text", "bytea"),
    " ON CONFLICT (key, version) DO UPDATE SET value = excluded.value",
)
_UPSERT_ROOT = (
    "INSERT INTO hoso_index_roots (version, root, root_key, streams) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (version) DO UPDATE SET root = excluded.root, root_key = excluded.root_key,"
    " streams = excluded.streams"
)


@dataclass(slots=True)
class _Change:
    """What one build chunk does to a stream: first and last positions, head, results."""

    first: int
    n: int
    head: bytes
    results: list[tuple[str, int, str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Built:
    """A built index version: the log size it covers, its root, how many streams."""

    version: int
    root: Child
    streams: int


def prefix_bytes(depth: int, prefix: int) -> bytes:
    return prefix.to_bytes(max(1, (depth + 7) // 8), "big")


class IndexStore:
    def __init__(self, backend: Backend, *, cache_depth: int = CACHE_DEPTH) -> None:
        """``cache_depth``: the trie's nodes above this depth are kept in memory between
        builds (at most ``2**cache_depth`` of them: about 30 MB at the default), so a
        build reads only the deeper part of each changed stream's path."""
        self.backend = backend
        self.sql: Sql = backend.sql
        self.cache_depth = cache_depth
        self._cache: dict[tuple[int, int], Node] = {}
        self._cache_version: int | None = None  # the version the cache holds the trie at

    # --- reads --------------------------------------------------------------------

    def latest_built(self, *, at_most: int | None = None) -> Built | None:
        """The last version built (at or below ``at_most``)."""
        query = "SELECT version, root, root_key, streams FROM hoso_index_roots"
        params: list[Any] = []
        if at_most is not None:
            query += " WHERE version <= %s"
            params.append(at_most)
        rows = self.sql.rows(query + " ORDER BY version DESC LIMIT 1", params)
        if not rows:
            return None
        return _built(rows[0])

    def built(self, version: int) -> Built | None:
        rows = self.sql.rows(
            "SELECT version, root, root_key, streams FROM hoso_index_roots WHERE version = %s",
            [version],
        )
        return _built(rows[0]) if rows else None

    def nodes(
        self, wanted: Sequence[tuple[int, int]], *, version: int
    ) -> dict[tuple[int, int], Node]:
        """The latest rows ``<= version`` of the nodes at (depth, prefix), any mix of
        depths, 1,000 per query."""
        out: dict[tuple[int, int], Node] = {}
        pairs = list(wanted)
        for start in range(0, len(pairs), 1000):
            for row in self._latest_nodes(pairs[start : start + 1000], version):
                depth = int(row["depth"])
                p = int.from_bytes(bytes(row["prefix"]), "big")
                out[(depth, p)] = Node(depth, p, _child(row, "left"), _child(row, "right"))
        return out

    def _latest_nodes(self, pairs: Sequence[tuple[int, int]], version: int) -> list[Any]:
        depths = [d for d, _ in pairs]
        keys = [prefix_bytes(d, p) for d, p in pairs]
        if self.sql.dialect == "postgresql":
            query = (
                "SELECT n.* FROM unnest(%s::int[], %s::bytea[]) AS w(depth, prefix)"
                f" CROSS JOIN LATERAL (SELECT {_NODE_COLUMNS} FROM hoso_index_nodes"
                " WHERE depth = w.depth AND prefix = w.prefix AND version <= %s"
                " ORDER BY version DESC LIMIT 1) n"
            )
            return self.sql.rows(query, [depths, keys, version])
        wanted = " OR ".join(["(depth = %s AND prefix = %s)"] * len(pairs))
        query = (
            f"SELECT {_NODE_COLUMNS} FROM hoso_index_nodes n WHERE ({wanted})"
            " AND version = (SELECT MAX(version) FROM hoso_index_nodes m"
            " WHERE m.depth = n.depth AND m.prefix = n.prefix AND m.version <= %s)"
        )
        flat = [x for pair in zip(depths, keys, strict=True) for x in pair]
        return self.sql.rows(query, [*flat, version])

    def values(self, keys: Sequence[bytes], *, version: int) -> dict[bytes, bytes]:
        """The latest value ``<= version`` of each key that has one."""
        out: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 1000):
            part = list(keys[start : start + 1000])
            if self.sql.dialect == "postgresql":
                query = (
                    "SELECT v.key, v.value FROM unnest(%s::bytea[]) AS w(key) CROSS JOIN LATERAL"
                    " (SELECT key, value FROM hoso_index_values WHERE key = w.key"
                    " AND version <= %s ORDER BY version DESC LIMIT 1) v"
                )
                rows = self.sql.rows(query, [part, version])
            else:
                query = (
                    f"SELECT key, value FROM hoso_index_values v WHERE key IN"
                    f" ({self.sql.in_list(len(part))}) AND version = (SELECT MAX(version)"
                    " FROM hoso_index_values w WHERE w.key = v.key AND w.version <= %s)"
                )
                rows = self.sql.rows(query, [*part, version])
            out.update((bytes(r["key"]), bytes(r["value"])) for r in rows)
        return out

    def state(self, stream: str, *, version: int) -> StreamState | None:
        value = self.values([index_key(stream)], version=version).get(index_key(stream))
        return None if value is None else index.parse_state(value)

    def prove(self, stream: str, *, version: int) -> LookupProof:
        """The lookup proof of ``stream`` in the index built at ``version``.

        The nodes on the key's path are read :data:`PATH_BATCH` depths per query (one
        query at any realistic size: a trie of a billion streams is about 30 deep), not
        one query per depth of the 256 a key could have."""
        built = self.built(version)
        if built is None:
            raise ValueError(f"no index was built at version {version}")
        key = index_key(stream)
        path: dict[tuple[int, int], Node] = {}
        fetched = 0

        def node_at(depth: int, prefix: int) -> Node | None:
            nonlocal fetched
            while depth >= fetched:
                stop = min(fetched + PATH_BATCH, index.KEY_BITS)
                wanted = [(d, prefix_of(key, d)) for d in range(fetched, stop)]
                path.update(self.nodes(wanted, version=version))
                fetched = stop
            return path.get((depth, prefix))

        return index.prove(
            node_at, built.root, key, lambda k: self.values([k], version=version).get(k)
        )

    # --- build ------------------------------------------------------------------

    def build(self, *, end: int) -> Built:
        """Bring the index up to the log's first ``end`` entries; return that version.

        Chunk by chunk, each chunk one transaction that writes its nodes, values and root
        at the version it ends at (a true index of that shorter prefix): an interrupted
        build leaves only whole versions behind. Builders serialise on a lock (PostgreSQL:
        an advisory transaction lock); one that finds its version already built by another
        (a follower, :meth:`follow`, and a checkpoint signer building the tail) keeps
        that one and goes on from it."""
        while True:
            last = self.latest_built(at_most=end)
            if last is not None and last.version == end:
                return last
            start = 0 if last is None else last.version
            stop = min(start + CHUNK, end)
            self._sync_cache(last)
            self._apply(self._changes(start, stop), base=last, version=stop)

    # --- the follower -----------------------------------------------------------------

    @contextmanager
    def following(self) -> Iterator[None]:
        """Be the index follower while inside (``hoso index follow``): PostgreSQL holds a
        session advisory lock for it, so checkpoint signers know one is running (and wait
        for it, :meth:`wait_for_follower`) and a second follower is refused. It goes with
        the follower's connection, so a follower that dies holds nothing."""
        if self.sql.dialect != "postgresql":
            yield  # embedded: one process, the checkpoint builds what the follower hasn't
            return
        with self.sql.datastore.get_connection() as conn:
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s) AS got", _FOLLOWER_LOCK
            ).fetchone()
            if row is None or not row["got"]:
                raise FollowerRunning("another index follower is already running")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", _FOLLOWER_LOCK)

    def follower_running(self) -> bool:
        if self.sql.dialect != "postgresql":
            return False
        rows = self.sql.rows(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
            " AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())",
            list(_FOLLOWER_LOCK),
        )
        return bool(rows)

    def wait_for_follower(self, end: int, *, timeout_s: float = FOLLOWER_WAIT_S) -> None:
        """While a follower runs and has not built ``end`` yet, wait for it (at most
        ``timeout_s``): a checkpoint signer building the same entries beside it would only
        slow both down. Then :meth:`build` does whatever is left."""
        if not self.follower_running():
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            last = self.latest_built(at_most=end)
            if last is not None and last.version == end:
                return
            time.sleep(0.005)

    def catch_up(self, size: int) -> Built | None:
        """Build up to ``size`` (the integrated log's) unless built that far; the latest."""
        last = self.latest_built()
        if size == 0 or (last is not None and last.version >= size):
            return last
        return self.build(end=size)

    def _changes(self, first: int, stop: int) -> dict[str, _Change]:
        """Per stream changed by log entries [first, stop): its first and last positions
        there, its last event hash, and the result changes of its result events, in
        stream order."""
        rows = self.sql.rows(
            "SELECT stream, n, event_hash, notification_id FROM hoso_leaves"
            " WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index",
            [first, stop],
        )
        changed: dict[str, _Change] = {}
        for r in rows:
            stream, n = str(r["stream"]), int(r["n"])
            was = changed.get(stream)
            if was is None:
                changed[stream] = _Change(n, n, bytes(r["event_hash"]), [])
            else:
                was.n, was.head = n, bytes(r["event_hash"])
        if not rows:
            return changed
        low, high = int(rows[0]["notification_id"]), int(rows[-1]["notification_id"])
        for event in self._result_events(low, high):
            if event[0] in changed:
                changed[event[0]].results.append(event)
        return changed

    def _result_events(self, low: int, high: int) -> Iterator[tuple[str, int, str, dict[str, Any]]]:
        column = "notification_id" if self.sql.dialect == "postgresql" else "rowid"
        types = sorted(RESULT_TYPES)
        marks = self.sql.in_list(len(types))
        rows = self.sql.rows(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE}"
            f" WHERE {column} >= %s AND {column} <= %s AND topic IN ({marks})"
            f" ORDER BY {column}",
            [low, high, *types],
        )
        for r in rows:
            payload = parse_stored(bytes(r["state"])).body.payload
            yield str(r["originator_id"]), int(r["originator_version"]), str(r["topic"]), payload

    def _apply(self, changed: dict[str, _Change], *, base: Built | None, version: int) -> None:
        """Write the index at ``version``: ``base`` (None: empty) with ``changed`` set."""
        root = Child(index.EMPTY, None) if base is None else base.root
        at = 0 if base is None else base.version
        keys = {index_key(s): s for s in changed}
        # A stream whose first event here is its first event at all is new: the index
        # covers a prefix of the log, and a stream's events are in the log in order.
        known = sorted(k for k, s in keys.items() if changed[s].first > 1)
        before = self.values(known, version=at) if base is not None and known else {}
        states: dict[bytes, bytes] = {}
        for key, stream in keys.items():
            change = changed[stream]
            old = before.get(key)
            results = tuple(
                c for _, n, topic, p in change.results for c in result_changes(topic, p, n)
            )
            state = next_state(
                None if old is None else index.parse_state_trusted(old),
                stream=stream,
                n=change.n,
                head=change.head,
                changes=results,
            )
            states[key] = state.encode()
        ordered = sorted(keys)
        reader = _Prefetched(self, ordered, root=root, version=at)
        written = index.update(reader, root, [(k, index.value_hash(states[k])) for k in ordered])
        added = sum(1 for s in changed.values() if s.first == 1)
        streams = (0 if base is None else base.streams) + added
        node_rows = [
            (
                n.depth,
                prefix_bytes(n.depth, n.prefix),
                version,
                n.left.hash,
                n.right.hash,
                n.left.leaf_key,
                n.right.leaf_key,
            )
            for n in written.nodes
        ]
        value_rows = [(k, version, keys[k], states[k]) for k in ordered]
        with self.sql.transaction() as curs:
            if self.sql.dialect == "postgresql":
                curs.execute("SELECT pg_advisory_xact_lock(%s)", [_BUILD_LOCK])
            curs.execute("SELECT 1 FROM hoso_index_roots WHERE version = %s", [version])
            if curs.fetchall():
                return  # another builder built this version meanwhile: theirs stands
            self._upsert(curs, _NODES, node_rows)
            self._upsert(curs, _VALUES, value_rows)
            curs.execute(_UPSERT_ROOT, [version, written.root.hash, written.root.leaf_key, streams])
        self._remember(base, version, written.nodes)

    # --- the node cache -------------------------------------------------------------

    def _sync_cache(self, base: Built | None) -> None:
        """Make the cache hold the trie at ``base``: drop the nodes on the paths of the
        streams another builder changed since the version the cache holds."""
        if self.cache_depth == 0:
            return
        held = self._cache_version
        target = 0 if base is None else base.version
        if held == target:
            return
        if held is None or held > target or target - held > _CACHE_CATCH_UP:
            self._cache.clear()
        else:
            rows = self.sql.rows(
                "SELECT DISTINCT stream FROM hoso_leaves WHERE leaf_index >= %s"
                " AND leaf_index < %s",
                [held, target],
            )
            for r in rows:
                key = index_key(str(r["stream"]))
                for depth in range(self.cache_depth):
                    self._cache.pop((depth, prefix_of(key, depth)), None)
        self._cache_version = target

    def _remember(self, base: Built | None, version: int, nodes: Sequence[Node]) -> None:
        """After writing ``version`` from ``base``: the cache holds the new trie."""
        if self.cache_depth == 0:
            return
        if self._cache_version != (0 if base is None else base.version):
            self._cache.clear()
        for node in nodes:
            if node.depth < self.cache_depth:
                self._cache[(node.depth, node.prefix)] = node
        self._cache_version = version

    def cached(self, depth: int, prefix: int) -> Node | None:
        return self._cache.get((depth, prefix)) if depth < self.cache_depth else None

    def cache(self, node: Node) -> None:
        if node.depth < self.cache_depth:
            self._cache[(node.depth, node.prefix)] = node

    def _upsert(self, curs: Cursor, table: _Table, rows: list[Any]) -> None:
        """Insert ``rows`` (unique keys among themselves) at a version no builder wrote.
        PostgreSQL: binary ``COPY`` straight into the table, in a savepoint; should rows of
        that version be there after all (left by a build before builds were whole
        versions), the savepoint is rolled back and the rows go through a staging table
        and one ``INSERT ... ON CONFLICT`` that replaces them. SQLite: ``executemany``."""
        if not rows:
            return
        name, columns, types, conflict = table
        names = columns.split(", ")
        if self.sql.dialect != "postgresql":
            marks = ", ".join(["%s"] * len(names))
            curs.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks}){conflict}", rows)
            return
        try:
            with curs.raw.connection.transaction():
                curs.insert_many(name, names, types, rows)
        except psycopg.errors.UniqueViolation:
            pass
        else:
            return
        staging = f"{name}_in"
        curs.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {name}) ON COMMIT DELETE ROWS"
        )
        curs.insert_many(staging, names, types, rows)
        curs.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {staging}{conflict}")


class _Prefetched:
    """The trie as :func:`ledger.core.index.update` reads it: the nodes on the changed keys'
    paths, from the store's cache where it has them, the rest level by level (one query
    per depth) before the update runs. The walk goes node by node, each holding the run
    of the sorted keys under it (split in two by a binary search), not key by key."""

    def __init__(
        self, store: IndexStore, keys: Sequence[bytes], *, root: Child, version: int
    ) -> None:
        self.nodes: dict[tuple[int, int], Node] = {}
        frontier: dict[int, tuple[int, int]] = {0: (0, len(keys))} if _internal(root) else {}
        depth = 0
        while frontier:
            found: dict[tuple[int, int], Node] = {}
            missing = []
            for prefix in frontier:
                hit = store.cached(depth, prefix)
                if hit is None:
                    missing.append((depth, prefix))
                else:
                    found[(depth, prefix)] = hit
            if missing:
                fetched = store.nodes(missing, version=version)
                for each in fetched.values():
                    store.cache(each)
                found.update(fetched)
            self.nodes.update(found)
            nxt: dict[int, tuple[int, int]] = {}
            for prefix, (lo, hi) in frontier.items():
                node = found.get((depth, prefix))
                if node is None:
                    continue
                mid = bisect_left(keys, index.half(depth, prefix), lo, hi)
                if mid > lo and _internal(node.left):
                    nxt[prefix << 1] = (lo, mid)
                if hi > mid and _internal(node.right):
                    nxt[(prefix << 1) | 1] = (mid, hi)
            frontier = nxt
            depth += 1

    def node(self, depth: int, prefix: int) -> Node | None:
        return self.nodes.get((depth, prefix))


def _internal(child: Child) -> bool:
    return child.hash != index.EMPTY and child.leaf_key is None


def _child(row: Any, side: str) -> Child:
    key = row[f"{side}_key"]
    return Child(bytes(row[f"{side}_hash"]), None if key is None else bytes(key))


def _built(row: Any) -> Built:
    key = row["root_key"]
    return Built(
        int(row["version"]),
        Child(bytes(row["root"]), None if key is None else bytes(key)),
        int(row["streams"]),
    )
