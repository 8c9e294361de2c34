"""docs/verify.md lists every step and every check id the verifier adds, as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

from verify.checks import NEW_CHECKS, STEPS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_steps_table_matches_the_code() -> None:
    doc = (DOCS / "verify.md").read_text(encoding="utf-8")
    for step in STEPS:
        row = next(
            (
                line
                for line in doc.splitlines()
                if line.startswith(f"| {step.number} | {step.name} |")
            ),
            None,
        )
        assert row is not None, step
        for check in step.checks:
            assert f"`{check}`" in row, (step.number, check)


def test_new_check_ids_table_matches_the_code() -> None:
    doc = (DOCS / "verify.md").read_text(encoding="utf-8")
    section = doc.split("### Check ids the verifier adds")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE))
    in_code = {cls.check for cls in NEW_CHECKS} | {"due.version_unknown"}
    assert documented == in_code


def test_formats_doc_has_the_bundle_section_and_vector() -> None:
    doc = (DOCS / "formats.md").read_text(encoding="utf-8")
    assert "## 10. Offline bundle" in doc
    assert "tests/vectors/bundle.json" in doc
