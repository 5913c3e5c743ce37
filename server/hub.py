"""Wakes live streams when the server stores something (a message, or a peer's notice that it withheld one);
and the pushers, when a peer confirmed what a message kept from it leans on.

Streams poll the log after their cursor; the hub only tells them when to look, so a message written by
another process on the same database (an import, a restore) is still delivered at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class Hub:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.last_seq = 0
        self.clients = 0  # live streams open now (the metrics' murmur_stream_clients)
        self.confirmations = 0  # how many times a peer confirmed what something kept from it leans on

    def confirmed(self) -> None:
        """A peer confirmed, signed, messages that others lean on: what the audience rule kept from it may go now
        (``murmur.store.passed``), so the pushers look again."""
        self.confirmations += 1
        self._wake()

    def stored(self, seq: int) -> None:
        self.last_seq = max(self.last_seq, seq)
        self._wake()

    def _wake(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """Wait until something is stored or ``timeout`` passes; whether something was stored."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return event.is_set()

    @contextlib.contextmanager
    def listening(self) -> Iterator[None]:
        """Count one live stream for as long as it is open, however it ends."""
        self.clients += 1
        try:
            yield
        finally:
            self.clients -= 1
