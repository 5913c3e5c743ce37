"""Waiting on events, not on time: a server's stores (its hub), a process's readiness line and its exit, and,
only for state in another process's files, a bounded poll.

A test that sleeps "long enough" fails on a loaded machine and wastes time on an idle one. These helpers wake
on the event the code itself signals and use their bound only to fail with a reason instead of hanging.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterable

from murmur.server.hub import Hub

SERVE_LINE = re.compile(r"murmur serving (\S+) server key ([0-9a-f]{64})")

BOUND_S = 60.0
"""How long a test waits for an event: generous, for a loaded 2-core machine. Tests assert on state, never on
how long it took."""


async def until_stored(hub: Hub, holds: Callable[[], Awaitable[bool]], bound: float = BOUND_S) -> None:
    """Wait until ``holds()`` is true, checking again each time the server behind ``hub`` stores something.

    Every path that stores (a client's publish, a peer's push, a pull, a repair) tells the hub, so nothing here
    sleeps or polls on a timer. A store that lands while ``holds()`` runs raises ``last_seq``, which is read
    before and after, so it is never missed.
    """
    while True:
        seen = hub.last_seq
        if await holds():
            return
        if hub.last_seq == seen:  # nothing was stored while we looked: wait for the next store
            await hub.wait(bound)
            if hub.last_seq == seen:
                raise AssertionError(f"nothing was stored for {bound} s and the condition still fails")


def poll(holds: Callable[[], bool], bound: float = BOUND_S, interval: float = 0.2) -> bool:
    """Whether ``holds()`` became true within ``bound`` seconds, looking again every ``interval``.

    Only for state held by another process (its database file, its children), which has no event to wait on;
    the bound is generous and the caller asserts on the state, never on how long it took.
    """
    deadline = time.monotonic() + bound
    while not holds():
        if time.monotonic() >= deadline:
            return holds()
        time.sleep(interval)
    return True


class ServeOutput:
    """What a ``murmur serve`` process writes on stderr, read as it is written.

    The readiness line (``murmur serving URL server key KEY``, printed once the socket listens) is an event to
    wait on, not a file to poll; and the pipe is drained for the life of the process, so a server that logs a
    lot never blocks on a full pipe. Every line also goes to ``sink`` (a list, a log file).
    """

    def __init__(self, proc: subprocess.Popen[bytes], sink: Callable[[str], None]) -> None:
        assert proc.stderr is not None
        self._stderr = proc.stderr
        self._sink = sink
        self._ready = threading.Event()
        self._ended = threading.Event()
        self.lines: list[str] = []
        self.match: re.Match[str] | None = None
        threading.Thread(target=self._read, name="murmur-serve-stderr", daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in iter(self._stderr.readline, b""):
                line = raw.decode("utf-8", "replace")
                self.lines.append(line)
                self._sink(line)
                if self.match is None and (found := SERVE_LINE.search(line)):
                    self.match = found
                    self._ready.set()
        finally:
            self._ended.set()
            self._ready.set()  # wakes a waiter when the process ended without ever being ready

    def ready(self, bound: float = BOUND_S) -> tuple[str, str]:
        """The URL and server key, once the server said it listens; fails with its output if it ended first."""
        if not self._ready.wait(bound):
            raise AssertionError(f"murmur serve said nothing for {bound} s: {''.join(self.lines)}")
        if self.match is None:
            raise AssertionError(f"murmur serve exited before it was ready: {''.join(self.lines)}")
        return self.match.group(1), self.match.group(2)

    def ended(self, bound: float = BOUND_S) -> None:
        """Wait until the process closed its stderr (it exited), so every line it wrote has been read."""
        if not self._ended.wait(bound):
            raise AssertionError(f"murmur serve kept its stderr open {bound} s after it was stopped")


def until_exited(pids: Iterable[int], bound: float = BOUND_S) -> None:
    """Wait until every process in ``pids`` has exited, woken by the kernel (a pidfd is readable once its
    process has exited, zombie or reaped), never by a timer. Fails after ``bound`` seconds without an exit."""
    pending: dict[int, int] = {}
    try:
        for pid in pids:
            try:
                pending[os.pidfd_open(pid)] = pid
            except ProcessLookupError:
                continue  # already exited and reaped
        while pending:
            ready, _, _ = select.select(list(pending), [], [], bound)
            if not ready:
                raise AssertionError(f"processes {sorted(pending.values())} still running after {bound} s")
            for fd in ready:
                del pending[fd]
                os.close(fd)
    finally:
        for fd in pending:
            os.close(fd)
