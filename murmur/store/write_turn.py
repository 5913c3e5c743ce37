"""Whose turn it is to write a SQLite file, among the processes of one server (``workers = N``).

SQLite lets one connection write at a time, and one that finds the file locked waits in its busy handler, which
sleeps and looks again (1, 2, 5, 10 ... 100 ms): with two processes each committing a batch every few
milliseconds, a writer often sleeps well past the other's commit, and those sleeps are the tail of every post's
latency. So the processes of one server take turns on an OS lock (flock) on a file beside the database before
BEGIN IMMEDIATE: the kernel wakes the one waiting the moment the other lets go. Uncontended, taking it is one
system call on the event loop; contended, the wait is on a thread. SQLite's own lock and busy timeout still guard
the file against every other process (an admin command, a backup).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

from murmur.errors import StoreError


class WriteTurn:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"Cannot open the write lock {path}: {exc.strerror}.") from exc

    @classmethod
    def beside(cls, database: Path) -> WriteTurn:
        return cls(database.with_name(database.name + "-write.lock"))

    async def take(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, self._fd, fcntl.LOCK_EX))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread still takes the lock, later: it must be let go then, or every writer waits forever.
            waiting.add_done_callback(lambda done: done.cancelled() or done.exception() or self.let_go())
            raise

    def let_go(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)
