"""The citizen's path as a newcomer meets it: ``hoso demo``, then the printed ``hoso serve``
command run as printed (no keystore: ``demo.env`` names the log key's vkey), then a
demo result's QR opened on the page, checked through the API, and verified offline with
its agency's status list by the printed ``hoso seal verify`` command."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.services.seals.qr import read_qr_file

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_env(path: Path) -> dict[str, str]:
    """The ``KEY='value'`` lines of demo.env, as ``set -a; . demo.env`` exports them."""
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = shlex.split(value)[0]
    return out


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_printed_serve_command_gives_a_working_citizen_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'hoso-data' / 'demo.sqlite'}"
    result = CliRunner().invoke(app, ["demo", "--db", db, "--dossiers", "20", "--json"])
    assert result.exit_code == 0, result.stdout
    summary = json.loads(result.stdout)
    assert "serve" in summary["commands"]
    env_file = Path(summary["files"]["serve_env"])
    settings = demo_env(env_file)
    assert "HOSO_LOG_VKEY" in settings
    assert "HOSO_KEYSTORE_PASSPHRASE" not in settings  # served without the keystore
    qr = sorted((tmp_path / "hoso-data" / "results").glob("*-qr.png"))[0]
    url = read_qr_file(qr)
    assert "/s/" in url
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        **settings,
        "HOSO_KEYSTORE_PATH": str(tmp_path / "no-keystore.json"),
    }
    server = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "ledger", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if get(f"{base}/v1/checkpoints/latest")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, page = get(f"{base}/s/{url.split('/s/', 1)[1]}")
        assert status == 200, page[:500]
        assert b'data-outcome="valid"' in page
        assert b'id="freshness"' in page
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/v1/seals/verify",
            data=json.dumps({"seal": url}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            verdict = json.loads(response.read())
        assert verdict["outcome"] == "valid"
        assert verdict["freshness"]["cosigned"] == 1
        agency = verdict["claims"]["agency"]
        status, listed = get(f"{base}/v1/status-lists/{agency}/0")
        assert status == 200
        assert listed == next(
            p.read_bytes() for p in qr.parent.glob(f"{agency}-0.hsl")
        )  # the published list is the one written beside the sheets
    finally:
        server.terminate()
        server.wait(timeout=20)
    printed = shlex.split(summary["commands"]["seal_verify"])
    offline = CliRunner().invoke(app, printed[1:])
    assert offline.exit_code == 0, offline.output
    assert "✓ valid as of" in offline.output
