"""transparency-dev/merkle's inclusion and consistency probes (tests/vectors/, Apache-2.0).

Each JSON file is one probe named by the mutation it applies; ``wantErr: false``
probes must verify, ``wantErr: true`` ones must raise a typed hoso error.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core.errors import HosoError, MalformedError, VerificationError
from ledger.core.merkle import verify_consistency, verify_inclusion

TESTDATA = Path(__file__).parent.parent / "vectors" / "transparency-dev-merkle" / "testdata"
PROBES = sorted(TESTDATA.rglob("*.json"))
EXPECTED_PROBES = 196


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _check(probe: dict[str, Any]) -> None:
    """Run one probe through the verifier (raises on rejection)."""
    proof = [_b64(h) for h in probe["proof"] or []]
    if "leafIdx" in probe:
        verify_inclusion(
            index=probe["leafIdx"],
            size=probe["treeSize"],
            leaf_hash=_b64(probe["leafHash"]),
            proof=proof,
            root=_b64(probe["root"]),
        )
    else:
        verify_consistency(
            size1=probe["size1"],
            size2=probe["size2"],
            root1=_b64(probe["root1"]),
            root2=_b64(probe["root2"]),
            proof=proof,
        )


def _load(path: Path) -> dict[str, Any]:
    probe: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return probe


@pytest.mark.parametrize("path", PROBES, ids=[str(p.relative_to(TESTDATA)) for p in PROBES])
def test_probe(path: Path) -> None:
    probe = _load(path)
    if probe["wantErr"]:
        with pytest.raises(HosoError):
            _check(probe)
    else:
        _check(probe)


def test_every_probe_was_found() -> None:
    assert len(PROBES) == EXPECTED_PROBES
    families = {p.relative_to(TESTDATA).parts[0] for p in PROBES}
    assert families == {"inclusion", "consistency"}


def test_rejections_cover_both_error_families() -> None:
    kinds: set[type[HosoError]] = set()
    for path in PROBES:
        probe = _load(path)
        if not probe["wantErr"]:
            continue
        with pytest.raises(HosoError) as caught:
            _check(probe)
        kinds.add(MalformedError if isinstance(caught.value, MalformedError) else VerificationError)
        assert isinstance(caught.value, MalformedError | VerificationError)
    assert kinds == {MalformedError, VerificationError}
