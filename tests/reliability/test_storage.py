"""A full disk and a read-only data directory: writes are refused with a clear error, the server recovers when
the cause goes away, and nothing stored earlier is damaged.

A full disk is made two ways. With root, a small tmpfs is mounted and filled with a ballast file (a real ENOSPC);
deleting the ballast returns the space. Without root (or as well), RLIMIT_FSIZE is lowered on the running server
process with prlimit(2), so that growing any file past the limit fails with EFBIG (Python ignores SIGXFSZ, so the
process is not killed); raising it again returns the space. A read-only data directory is a read-only bind mount
(root only: root bypasses permission bits, and an unprivileged server user cannot run this interpreter here).
"""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from murmur.validate import check
from tests.reliability.conftest import BASE_SETTINGS
from tests.reliability.harness import Member, Server, run_cli

pytestmark = pytest.mark.timeout(120)


def mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for point in reversed(made):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made: list[Server] = []
    yield made
    for server in made:
        if server.running():
            server.kill()


def fill_and_recover(server: Server, make_full: Callable[[], None], make_room: Callable[[], None]) -> None:
    member = Member(server.url).join()
    before = []
    for i in range(30):
        message = member.post(f"stored before the disk filled {i}")
        assert member.publish(message).status_code == 201
        before.append(message)

    make_full()
    refused = 0
    for i in range(40):
        answer = member.publish(member.post(f"{'x' * 4000} {i}"))
        if answer.status_code == 201:
            continue
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "storage_unavailable" and error["reason"].endswith("Try again later."), error
        refused += 1
    assert refused >= 30, "the disk never filled"
    # Reads go on while writes are refused.
    assert member.get_raw(before[0]["id"]) is not None

    make_room()
    after = member.post("stored once there was room again")
    assert member.publish(after).status_code == 201
    for message in [*before, after]:
        body = member.get_raw(message["id"])
        assert body is not None and check(body, now=2**53 - 1).id == message["id"]
    assert server.integrity() == "ok"
    server.kill()
    server.start()
    assert server.integrity() == "ok" and {m["id"] for m in [*before, after]} <= server.ids()
    log = server.log()
    assert "Traceback" not in log, log[-3000:]
    member.close()


def test_disk_full_on_a_small_tmpfs(tmp_path: Path, mounts: list[Path], servers: list[Server]) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if not mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)):
        pytest.skip("cannot mount a tmpfs here (needs root); the RLIMIT_FSIZE variant covers a full disk")
    mounts.append(disk)
    server = Server(disk / "server", dict(BASE_SETTINGS)).start()
    servers.append(server)
    ballast = disk / "ballast"

    def make_full() -> None:
        stat = os.statvfs(disk)
        free = stat.f_bavail * stat.f_frsize
        with ballast.open("wb") as f:
            f.write(b"\0" * max(0, free - 48 * 1024))

    fill_and_recover(server, make_full, lambda: ballast.unlink())


def test_disk_full_by_file_size_limit(tmp_path: Path, servers: list[Server]) -> None:
    server = Server(tmp_path / "server", dict(BASE_SETTINGS)).start()
    servers.append(server)
    assert server.proc is not None
    pid = server.proc.pid

    def make_full() -> None:
        largest = max(p.stat().st_size for p in server.data.glob("murmur.db*"))
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (largest + 16 * 1024, resource.RLIM_INFINITY))

    def make_room() -> None:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    fill_and_recover(server, make_full, make_room)


def test_read_only_data_directory(tmp_path: Path, mounts: list[Path], servers: list[Server]) -> None:
    """A server cannot acknowledge anything it cannot write, so on a read-only data directory it does not start:
    one line saying what is wrong and what to do, exit code 3. Made writable again, it starts with all it held."""
    server = Server(tmp_path / "server", dict(BASE_SETTINGS)).start()
    servers.append(server)
    member = Member(server.url).join()
    kept = member.post("written before the directory became read-only")
    assert member.publish(kept).status_code == 201
    assert server.stop() == 0

    if not mount("--bind", str(server.data), str(server.data)):
        pytest.skip("cannot bind-mount here (needs root)")
    mounts.append(server.data)
    assert mount("-o", "remount,bind,ro", str(server.data))
    for args in (["serve", "--data", str(server.data), "--port", "0"], ["admin", "info", "--data", str(server.data)]):
        result = run_cli(*args)
        assert result.returncode == 3, result
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "read-only" in lines[0] and "writable" in lines[0], result.stderr

    subprocess.run(["umount", str(server.data)], check=True)
    mounts.remove(server.data)
    server.start()
    assert member.get_raw(kept["id"]) is not None and server.integrity() == "ok"
    assert member.publish(member.post("and writable again")).status_code == 201
    member.close()
