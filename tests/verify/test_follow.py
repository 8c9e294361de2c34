"""verify.follow over in-memory logs: following in increments finds exactly what one run
of the whole verifier finds — a key revoked in one increment and used in the next, an
index commit whose stream index was rebuilt across increments — and the state after
several increments is the state of one run from the start."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.core import merkle, tiles
from ledger.core.hashing import leaf_hash
from ledger.domain import lifecycle as ev
from tests.verify.minimal import (
    CALENDAR,
    CATALOGUE,
    DOSSIER,
    RECEPTION,
    MinimalLedger,
    clean_ledger,
    verify,
    with_index_commit,
)
from verify.checks import MalformedMonitorState
from verify.follow import FollowState, follow


def mirror(ledger: MinimalLedger, size: int) -> Callable[[str], bytes]:
    """The ledger's first ``size`` records as tlog-tiles files (the spec's formula)."""
    records = ledger.recs()[:size]
    leaves = [leaf_hash(r) for r in records]
    files = {"checkpoint": ledger.signed(size).serialise()}
    for tile in tiles.tiles_of(size):
        span = 256**tile.level
        files[tile.path()] = b"".join(
            merkle.root_from_leaves(leaves[(tile.index * 256 + i) * span :][:span])
            for i in range(tile.width)
        )
    for bundle in tiles.bundles_of(size):
        files[bundle.path()] = tiles.encode_bundle(records[bundle.index * 256 :][: bundle.width])
    return files.__getitem__


def run(ledger: MinimalLedger, sizes: list[int]) -> tuple[FollowState | None, set[str]]:
    """Follow the ledger through ``sizes``; the state reached and every check id found."""
    state: FollowState | None = None
    found: set[str] = set()
    for size in sizes:
        result = follow(
            state,
            mirror(ledger, size),
            ledger.trust(),
            catalogue=CATALOGUE,
            calendar=CALENDAR,
            now_us=ledger.now_us,
        )
        found |= set(result.report.findings.counts)
        if result.state is None:
            return state, found
        state = result.state
    return state, found


def same(a: FollowState | None, b: FollowState | None) -> bool:
    assert a is not None
    assert b is not None
    return FollowState.from_json(a.to_json()).to_json().replace(
        str(a.verified_us).encode(), b"T"
    ) == b.to_json().replace(str(b.verified_us).encode(), b"T")


@pytest.mark.parametrize("cuts", [[1], [3, 7], [2, 5, 9]])
def test_increments_reach_the_state_of_one_run(cuts: list[int]) -> None:
    ledger = with_index_commit(clean_ledger())
    assert not verify(ledger).findings.counts
    sizes = [c for c in cuts if c < ledger.size] + [ledger.size]
    stepped, found = run(ledger, sizes)
    whole, found_whole = run(ledger, [ledger.size])
    assert found == found_whole == set()
    assert stepped is not None
    assert stepped.size == ledger.size
    assert stepped.index_applied == ledger.size - 1  # the commit covers every record before it
    assert same(stepped, whole)
    state = FollowState.from_json(stepped.to_json())
    assert state.root == ledger.root()


def test_a_key_revoked_in_one_increment_and_used_in_the_next() -> None:
    ledger = clean_ledger()
    first = ledger.size
    ledger.revoke(ledger.keys.reception)
    second = ledger.size
    ledger.add(
        DOSSIER,
        ev.SUPPLEMENT_REQUESTED,
        RECEPTION,
        {"items": ["x"], "reasons": ["y"]},
        [ledger.keys.reception],
    )
    whole = set(verify(ledger).findings.counts)
    assert whole  # the full verifier finds the revoked key's use
    _, found = run(ledger, [first, second, ledger.size])
    assert found == whole


def test_a_state_that_does_not_hold_together_is_refused() -> None:
    ledger = clean_ledger()
    state, _ = run(ledger, [ledger.size])
    assert state is not None
    broken = state.to_json().replace(state.root.hex().encode(), b"00" * 32)
    with pytest.raises(MalformedMonitorState):
        FollowState.from_json(broken)
    with pytest.raises(MalformedMonitorState):
        FollowState.from_json(b'{"format": "hoso-monitor/1", "size": -1}')
