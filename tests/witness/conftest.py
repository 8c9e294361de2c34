"""A hoso witness for one toy log, its state file, and its HTTP client helpers."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.core.checkpoint import Cosigner
from ledger.witness.service import Witness
from ledger.witness.state import WitnessState
from tests.support.toy_log import ToyLog, cosigner


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


def post(url: str, body: bytes, *, timeout: float = 10) -> Reply:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Reply(response.status, response.headers["Content-Type"], response.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers["Content-Type"] or "", err.read())


def get(url: str) -> Reply:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return Reply(response.status, response.headers["Content-Type"], response.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers["Content-Type"] or "", err.read())


@dataclass
class WitnessKit:
    log: ToyLog
    cosigner: Cosigner
    state_path: Path
    state: WitnessState
    witness: Witness

    def reopen(self) -> None:
        self.state.close()
        self.state = WitnessState(self.state_path)
        self.witness = Witness(
            cosigner=self.cosigner,
            logs={self.log.origin: [self.log.key.verifier]},
            state=self.state,
            clock_s=lambda: 1_767_337_500,
        )


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[WitnessKit]:
    log = ToyLog()
    path = tmp_path / "witness-state.json"
    state = WitnessState(path)
    made = WitnessKit(
        log,
        cosigner(),
        path,
        state,
        Witness(
            cosigner=cosigner(),
            logs={log.origin: [log.key.verifier]},
            state=state,
            clock_s=lambda: 1_767_337_500,
        ),
    )
    yield made
    made.state.close()
