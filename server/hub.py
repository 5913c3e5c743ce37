"""Wakes live streams when the server stores something, or when a peer's answer may say it withheld a message.

Streams poll the log after their cursor; the hub only tells them when to look, so a message written by
another process on the same database (an import, a restore) is still delivered at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator


class Hub:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.last_seq = 0
        self.clients = 0  # live streams open now (the metrics' murmur_stream_clients)
        self._withheld: set[str] = set()

    def stored(self, seq: int) -> None:
        self.last_seq = max(self.last_seq, seq)
        self._wake()

    def withheld(self, ids: Iterable[str]) -> None:
        """Peers may have said, signed, that they withheld these messages: the live streams tell their members
        (what verified is read from the store; an id here is only where to look). Kept only while a stream is
        open, as no one else would take them."""
        if self.clients:
            self._withheld.update(ids)
            self._wake()

    def take_withheld(self) -> list[str]:
        taken, self._withheld = sorted(self._withheld), set()
        return taken

    @property
    def has_withheld(self) -> bool:
        return bool(self._withheld)

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
