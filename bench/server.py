"""A real ``murmur serve`` process on 127.0.0.1 for the figures that go over HTTP, and its data directory.

Members and peers are written into the database before the server starts (as ``murmur admin`` and
``murmur peer add`` would), so no request of the timed load is spent on setting up. The server runs with the
config a first start writes (durability ``full``: WAL with an fsync per commit), except where a figure says.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg

from murmur.keys import Identity
from murmur.server.config import DataDir, ServerConfig
from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.peers import add_peer

SERVE_LINE = re.compile(r"murmur serving (\S+) server key ([0-9a-f]{64})")


def seeded(label: str) -> Identity:
    """A fixed identity for a role in the benchmarks (the load generator's server key, a member...)."""
    return Identity.from_seed(hashlib.sha256(b"murmur-bench:" + label.encode()).digest())


def create(data: Path, config: ServerConfig | None = None) -> DataDir:
    data_dir = DataDir(data)
    if not data_dir.exists():
        data_dir.create(config or ServerConfig())
    return data_dir


async def _seed(db: Path, peers: Sequence[str], members: Sequence[str], database: str | None) -> None:
    async with await Store.open(db, database=database) as store:
        for key in peers:
            await add_peer(store, key, "", mode="serve-only")
        for key in members:
            await add_member(store, key, invited_by="bench")


def seed(
    data_dir: DataDir, *, peers: Sequence[str] = (), members: Sequence[str] = (), database: str | None = None
) -> None:
    """Write members and peers into the directory's store, or into ``database`` (a PostgreSQL URL) when given."""
    asyncio.run(_seed(data_dir.db_path, peers, members, database))


def rss_mb(pid: int) -> float:
    """Resident memory of a process from /proc (VmRSS), in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid``, and by those, from /proc (the server's signature workers)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user and system) the processes ``pids`` have used so far, from /proc; one that has ended counts 0."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def backends(database: str) -> list[int]:
    """The PostgreSQL backends connected to the database at ``database`` (a URL), other than the one asking."""
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(r[0]) for r in rows]


def _tree_sum(pid: int, measure: Callable[[int], float]) -> float:
    """``measure`` of a process plus that of every process it started that is still running."""
    total = measure(pid)
    for child in descendants(pid):
        try:
            total += measure(child)
        except FileNotFoundError:
            continue
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all it started; pages shared between them are counted in each."""
    return _tree_sum(pid, rss_mb)


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (stat fields 14, 15)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and of those it started that are still running."""
    return _tree_sum(pid, cpu_s)


class ServerProcess:
    """``murmur serve --data DIR --host 127.0.0.1 --port 0`` (``--database URL``, ``--workers N`` when given them);
    ``start`` returns once it has said where it is."""

    def __init__(self, data: Path, database: str = "", workers: int = 1) -> None:
        self.data = data
        self.database = database
        self.workers = workers
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = 0
        self.key = ""

    def start(self, timeout: float = 60.0) -> ServerProcess:
        args = [sys.executable, "-m", "murmur.client.cli", "serve", "--data", str(self.data)]
        args += ["--host", "127.0.0.1", "--port", "0"]
        if self.database:
            args += ["--database", self.database]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("murmur serve exited early: " + "".join(seen))
            seen.append(line)
            match = SERVE_LINE.search(line)
            if match:
                self.url, self.key = match.group(1), match.group(2)
                self.port = int(self.url.rsplit(":", 1)[1])
                return self
        self.stop()
        raise TimeoutError("murmur serve did not say where it listens in time")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        """The server's memory with its signature worker processes, once it has started them."""
        return tree_rss_mb(self.pid)

    def cpu_s(self) -> float:
        """CPU seconds the server and its signature workers have used so far."""
        return tree_cpu_s(self.pid)

    def processes(self) -> int:
        return 1 + len(descendants(self.pid))

    def cpu_seconds(self) -> float:
        """CPU used so far by the server, its signature workers and, on PostgreSQL, its database's backends: what a
        load costs, whatever else the machine runs meanwhile."""
        pids = [self.pid, *descendants(self.pid), *(backends(self.database) if self.database else [])]
        return cpu_seconds(pids)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
