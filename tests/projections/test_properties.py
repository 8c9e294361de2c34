"""Property: for random ledgers (random lifecycles, interleaved with the follower at random
points and with random page sizes), the followed views equal the rebuilt views equal the
domain's pure fold of each dossier."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.demo.scenarios import SCENARIOS
from ledger.services.dossiers import fold
from projections import queries
from projections.fold import Folded
from projections.rebuild import rebuild
from projections.runner import Follower, select_views
from projections.views.dossiers import COLUMNS, dossier_row
from tests.projections.ledger_kit import CALENDAR, CATALOGUE, open_kit
from tests.projections.test_views import snapshot

pytestmark = pytest.mark.integration

steps = st.lists(
    st.tuples(
        st.integers(0, len(SCENARIOS) - 1),  # which lifecycle
        st.integers(0, 3),  # which week
        st.one_of(st.none(), st.integers(1, 40)),  # follow after it, with this page size
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None)
@given(steps=steps, rebuild_page=st.integers(1, 60))
def test_followed_equals_rebuilt_equals_folded(
    steps: list[tuple[int, int, int | None]], rebuild_page: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kit = open_kit(f"sqlite:///{tmp}/ledger.sqlite")
        try:
            follower = Follower(kit.engine, select_views(None))
            codes = []
            for scenario, week, page in steps:
                codes.append(kit.scenario(SCENARIOS[scenario], week=week))
                if page is not None:
                    follower.catch_up(page=page)
            follower.catch_up(page=7)
            followed = snapshot(kit)
            rebuild(kit.engine, page=rebuild_page)
            assert snapshot(kit) == followed
            for code in codes:
                state = fold(kit.service.history(code), CATALOGUE)
                assert state is not None
                row = queries.get_dossier(kit.backend.sql, code)
                assert row is not None
                expected = dossier_row(Folded(state, int(row["position"])), CALENDAR)
                assert tuple(row[c] for c in COLUMNS) == expected
                assert row["valid_results"] == sum(
                    1 for r in state.results.values() if r.status == "valid"
                )
        finally:
            kit.close()
