"""Private PostgreSQL clusters for the fault and standby tests: a primary made with
``initdb`` in a temporary folder, on a free loopback port, and a streaming standby
copied from it with ``pg_basebackup``; both stopped (fast) at teardown.

They never touch the shared test server: an outage is this cluster stopping, a
standby is this cluster's copy. Missing PostgreSQL binaries FAIL the test, unless
HOSO_SKIP_POSTGRES=1 (the skip says so). Run as root, the servers run as ``postgres``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_binary(name: str) -> str:
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        if os.environ.get("HOSO_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL skipped: HOSO_SKIP_POSTGRES=1")
        pytest.fail(f"{name} (PostgreSQL server binaries) is required for this test")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(path, user.pw_uid, user.pw_gid)


def _run(*command: str) -> None:
    subprocess.run([*_as_server_user(), *command], check=True, capture_output=True)  # noqa: S603


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        _run(
            pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", f"-p {self.port} -k {self.data}", "start",
        )  # fmt: skip

    def stop(self) -> None:
        _run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(mode=0o700)
    _own(folder)
    return folder


def make_primary(root: Path) -> Cluster:
    data = _folder(root, "primary")
    _run(pg_binary("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-N")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            "listen_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\n"
            "full_page_writes = off\nwal_level = replica\nmax_wal_senders = 4\n"
            "shared_buffers = 16MB\nmax_connections = 40\n"
        )
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    cluster = Cluster(data, free_port(), root / "primary.log")
    _own_log(cluster.log)
    cluster.start()
    return cluster


def make_standby(primary: Cluster, root: Path) -> Cluster:
    data = _folder(root, "standby")
    _run(
        pg_binary("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-D", str(data), "-R", "-X", "stream",
    )  # fmt: skip
    cluster = Cluster(data, free_port(), root / "standby.log")
    _own_log(cluster.log)
    cluster.start()
    return cluster


def _own_log(log: Path) -> None:
    log.touch()
    _own(log)


def create_database(cluster: Cluster, dbname: str) -> str:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return cluster.url(dbname)


def wait_replayed(primary: Cluster, standby: Cluster, *, timeout_s: float = 30.0) -> None:
    """Until the standby has replayed everything the primary wrote so far."""
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    target = row[0]
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            done = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            ).fetchone()
            if done is not None and done[0]:
                return
            time.sleep(0.05)
    pytest.fail(f"the standby did not replay to {target} within {timeout_s} s")


@pytest.fixture
def cluster_root() -> Iterator[Path]:
    """A folder the server user can enter (pytest's own are the test user's alone)."""
    root = Path(tempfile.mkdtemp(prefix="hoso-pg-"))
    _own(root)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def primary(cluster_root: Path) -> Iterator[Cluster]:
    cluster = make_primary(cluster_root)
    try:
        yield cluster
    finally:
        if cluster.running():
            cluster.stop()
