"""Tasks that must not die quietly: backoff with jitter, and a watched task that is restarted when it ends.

A background task whose exception nobody reads is a silent outage (the first version's push loop died and
was restarted twenty times in two seconds without a line in the log). ``Watched`` runs a coroutine as a task
with a done-callback, as uvicorn's supervisors do: if the task ends other than by ``close()``, the callback
logs how it ended (with the traceback) and starts it again after a backoff that grows with each ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("murmur.federation")


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """The wait before retry number ``failures`` (1 for the first): doubling from ``base`` up to ``cap``,
    times a random factor in [0.5, 1] so that peers that failed together do not retry together."""
    return min(cap, base * 2 ** min(max(failures, 1) - 1, 30)) * random.uniform(0.5, 1.0)


class Watched:
    """One task kept running: restarted with backoff whenever it ends, until ``close()``."""

    def __init__(
        self,
        name: str,
        factory: Callable[[], Coroutine[Any, Any, None]],
        *,
        backoff_base: float = 1.0,
        backoff_max: float = 300.0,
    ) -> None:
        self.name = name
        self.factory = factory
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.restarts = 0
        self.last_error = ""
        self.restarted = asyncio.Event()  # set on every restart, for whoever waits on one (tests, a status view)
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._closing = False

    def start(self) -> None:
        self._pending = None
        if self._closing:
            return
        self._task = asyncio.create_task(self.factory(), name=self.name)
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._closing or task.cancelled():
            return
        error = task.exception()
        self.restarts += 1
        self.last_error = f"{type(error).__name__}: {error}" if error else "it returned"
        delay = backoff_delay(self.restarts, self.backoff_base, self.backoff_max)
        log.error(
            "%s stopped (%s); restart %d in %.1f s", self.name, self.last_error, self.restarts, delay, exc_info=error
        )
        self._pending = asyncio.get_running_loop().call_later(delay, self._restart)

    def _restart(self) -> None:
        self.start()
        self.restarted.set()

    async def close(self) -> None:
        self._closing = True
        if self._pending is not None:
            self._pending.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
