"""The tests' PostgreSQL cluster (tests/postgres_server.py) dies with the process that started it, however it dies."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres_server import INSTALL, PostgresServer, binaries

ROOT = Path(__file__).resolve().parent.parent
# A test process of its own: starts a cluster, says where it is, and waits to be killed.
OWNER = """
import sys
from tests.postgres_server import PostgresServer, binaries
server = PostgresServer(binaries())
server.start()
assert server.watchdog is not None
print(server.root, server.watchdog.pid, flush=True)
sys.stdin.read()
"""


def _bindir() -> Path:
    bindir = binaries()
    if bindir is None:
        pytest.fail(f"PostgreSQL is not installed: run `{INSTALL}` (make test does).")
    return bindir


def _postmaster(root: Path) -> int:
    return int((root / "data" / "postmaster.pid").read_text().split()[0])


def _exits(pid: int, timeout: float = 60.0) -> bool:
    """Whether process ``pid`` (not a child of this one) has exited within ``timeout``: woken by its pidfd."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], timeout)[0])
    finally:
        os.close(pidfd)


def test_a_cluster_stops_when_its_test_process_is_killed() -> None:
    _bindir()
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline().split()
        assert len(line) == 2, f"the owner did not start its cluster (exit {owner.poll()})"
        root, watchdog = Path(line[0]), int(line[1])
        postmaster = _postmaster(root)
        os.kill(postmaster, 0)  # running
    finally:
        owner.kill()  # SIGKILL: no finaliser runs in the owner
        owner.wait()
    assert _exits(postmaster), "the PostgreSQL server outlived the test process that started it"
    assert _exits(watchdog)
    assert not root.exists()


def test_a_cluster_stopped_by_its_owner_leaves_no_watchdog_behind() -> None:
    server = PostgresServer(_bindir())
    try:
        server.start()
        assert server.watchdog is not None
        watchdog, postmaster = server.watchdog.pid, _postmaster(server.root)
    finally:
        server.stop()
    assert _exits(postmaster, timeout=0) and _exits(watchdog, timeout=0)
    assert not server.root.exists()
