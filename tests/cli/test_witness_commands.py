"""``hoso witness keygen | serve`` as a supervising agency runs it (a subprocess on
loopback), and the ledger's commands that submit to it: ``hoso checkpoint witness`` and
``hoso integrate --follow`` with HOSO_WITNESS_URLS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.core.checkpoint import parse_cosignature_vkey, verify_cosignatures
from ledger.core.note import parse_note
from tests.cli.test_ledger_commands import env, initialised, run
from tests.support.toy_log import free_port

pytestmark = pytest.mark.integration

__all__ = ["env"]  # the fixture, shared with the ledger commands' suite


def log_vkey(init_output: str) -> str:
    found = re.search(r"log key \(checkpoints\), vkey: (\S+)", init_output)
    assert found is not None
    return found.group(1)


@pytest.fixture(params=["ed25519", "ml-dsa-44"])
def witness_url(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[str, str]]:
    """``hoso init``, then ``hoso witness keygen`` (an Ed25519 or an ML-DSA-44 key) and
    ``hoso witness serve`` for its log."""
    vkey = log_vkey(initialised(monkeypatch))
    key = tmp_path / "witness.key"
    witness_vkey = run(
        "witness",
        "keygen",
        "--name",
        "witness.test/agency",
        "--key",
        str(key),
        "--algorithm",
        request.param,
    )
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
        [
            sys.executable,
            "-m",
            "ledger",
            "witness",
            "serve",
            "--key",
            str(key),
            "--state",
            str(tmp_path / "witness-state.json"),
            "--log",
            vkey,
            "--port",
            str(port),
        ],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/{'0' * 64}/checkpoint", timeout=1)  # noqa: S310
            except urllib.error.HTTPError:
                break  # 404: it answers
            except OSError:
                time.sleep(0.05)
        monkeypatch.setenv(
            "HOSO_WITNESS_URLS", f'[{{"url": "{url}", "vkey": "{witness_vkey.strip()}"}}]'
        )
        yield url, witness_vkey.strip()
    finally:
        server.terminate()
        server.wait(timeout=10)


def cosigned_by(vkey: str, note_text: str) -> dict[str, int]:
    return verify_cosignatures(parse_note(note_text.encode()), [parse_cosignature_vkey(vkey)])


def test_checkpoint_witness_against_the_served_witness(witness_url: tuple[str, str]) -> None:
    _, vkey = witness_url
    run("checkpoint", "sign")
    out = run("checkpoint", "witness")
    assert re.search(r"witness witness.test/agency: cosigned size \d+", out)
    assert "witness.test/agency" in cosigned_by(vkey, run("checkpoint", "show"))


def test_follow_sends_each_checkpoint_to_the_witness(witness_url: tuple[str, str]) -> None:
    _, vkey = witness_url
    followed = run(
        "integrate",
        "--follow",
        "--poll",
        "0.05",
        "--checkpoint-every",
        "0.1",
        "--max-seconds",
        "1.5",
    )
    assert "checkpoint at size 1" in followed  # the index commit
    assert "witness witness.test/agency: cosigned size 1" in followed
    assert "witness.test/agency" in cosigned_by(vkey, run("checkpoint", "show", "--size", "1"))
