from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.seal_world import World, open_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    opened = open_world(tmp_path_factory.mktemp("seal-world"))
    yield opened
    opened.close()
