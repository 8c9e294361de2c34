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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ledger.core import index
from ledger.core.event import parse_stored
from ledger.core.index import Child, LookupProof, Node, StreamState, index_key, prefix_of
from ledger.domain.streams import RESULT_TYPES, next_state, result_changes
from ledger.storage.database import Backend
from ledger.storage.sql import EVENTS_TABLE, Cursor, Sql

CHUNK = 50_000
"""Log entries per build chunk: the build's memory is about this many entries' worth."""
PATH_BATCH = 40
"""Depths of a key's path read per query by :meth:`IndexStore.prove`."""


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


@dataclass(frozen=True, slots=True)
class Built:
    """A built index version: the log size it covers, its root, how many streams."""

    version: int
    root: Child
    streams: int


def prefix_bytes(depth: int, prefix: int) -> bytes:
    return prefix.to_bytes(max(1, (depth + 7) // 8), "big")


class IndexStore:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.sql: Sql = backend.sql

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
        """Bring the index up to the log's first ``end`` entries; return the new version."""
        last = self.latest_built(at_most=end)
        if last is not None and last.version == end:
            return last
        start = 0 if last is None else last.version
        root = Child(index.EMPTY, None) if last is None else last.root
        streams = 0 if last is None else last.streams
        for first in range(start, end, CHUNK):
            changed = self._changes(first, min(first + CHUNK, end))
            root, added = self._apply(changed, version=end, root=root)
            streams += added
        with self.sql.transaction() as curs:
            curs.execute(_UPSERT_ROOT, [end, root.hash, root.leaf_key, streams])
        return Built(end, root, streams)

    def _changes(self, first: int, stop: int) -> dict[str, tuple[int, bytes, list[Any]]]:
        """Per stream changed by log entries [first, stop): its last (n, event hash) there,
        and the result changes of its result events, in stream order."""
        rows = self.sql.rows(
            "SELECT stream, n, event_hash, notification_id FROM hoso_leaves"
            " WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index",
            [first, stop],
        )
        changed: dict[str, tuple[int, bytes, list[Any]]] = {}
        for r in rows:
            stream = str(r["stream"])
            results = changed[stream][2] if stream in changed else []
            changed[stream] = (int(r["n"]), bytes(r["event_hash"]), results)
        if not rows:
            return changed
        low, high = int(rows[0]["notification_id"]), int(rows[-1]["notification_id"])
        for event in self._result_events(low, high):
            if event[0] in changed:
                changed[event[0]][2].append(event)
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

    def _apply(
        self, changed: dict[str, tuple[int, bytes, list[Any]]], *, version: int, root: Child
    ) -> tuple[Child, int]:
        keys = {index_key(s): s for s in changed}
        before = self.values(sorted(keys), version=version)
        states: dict[bytes, bytes] = {}
        for key, stream in keys.items():
            n, head, results = changed[stream]
            old = before.get(key)
            changes = tuple(c for _, at, topic, p in results for c in result_changes(topic, p, at))
            state = next_state(
                None if old is None else index.parse_state(old),
                stream=stream,
                n=n,
                head=head,
                changes=changes,
            )
            states[key] = state.encode()
        reader = _Prefetched(self, sorted(keys), root=root, version=version)
        written = index.update(
            reader, root, sorted((k, index.value_hash(v)) for k, v in states.items())
        )
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
        value_rows = [(k, version, keys[k], v) for k, v in sorted(states.items())]
        with self.sql.transaction() as curs:
            self._upsert(curs, _NODES, node_rows)
            self._upsert(curs, _VALUES, value_rows)
        return written.root, sum(1 for k in keys if k not in before)

    def _upsert(self, curs: Cursor, table: _Table, rows: list[Any]) -> None:
        """Insert or replace ``rows`` (unique keys among themselves). PostgreSQL: binary
        ``COPY`` into a per-session staging table, then one ``INSERT ... SELECT ... ON
        CONFLICT`` (an ``executemany`` of upserts costs a statement per row: a third of a
        build's time); SQLite: ``executemany``, in-process and cheap."""
        if not rows:
            return
        name, columns, types, conflict = table
        names = columns.split(", ")
        if self.sql.dialect != "postgresql":
            marks = ", ".join(["%s"] * len(names))
            curs.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks}){conflict}", rows)
            return
        staging = f"{name}_in"
        curs.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {name}) ON COMMIT DELETE ROWS"
        )
        curs.insert_many(staging, names, types, rows)
        curs.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {staging}{conflict}")


class _Prefetched:
    """The trie as :func:`ledger.core.index.update` reads it: the nodes on the changed keys'
    paths, loaded level by level (one query per depth) before the update runs."""

    def __init__(
        self, store: IndexStore, keys: Sequence[bytes], *, root: Child, version: int
    ) -> None:
        self.nodes: dict[tuple[int, int], Node] = {}
        frontier: dict[int, list[bytes]] = {0: list(keys)} if _internal(root) else {}
        depth = 0
        while frontier:
            found = store.nodes([(depth, p) for p in frontier], version=version)
            self.nodes.update(found)
            nxt: dict[int, list[bytes]] = {}
            for prefix, under in frontier.items():
                node = found.get((depth, prefix))
                if node is None:
                    continue
                for key in under:
                    side = index.bit(key, depth)
                    child = node.right if side else node.left
                    if _internal(child):
                        nxt.setdefault((prefix << 1) | side, []).append(key)
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
