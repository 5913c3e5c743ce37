"""Wakes live streams when the server stores something (a message, or a peer's notice that it withheld one);
and the pushers, when a peer confirmed what a message kept from it leans on.

Streams poll the log after their cursor; the hub only tells them when to look, so a message written by
another process on the same database (an import, a restore) is still delivered at the next poll. The processes of
one server (``workers = N``) tell each other's hubs at once, by their ``Bell`` (murmur.server.bell).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from murmur.server import bell
from murmur.server.bell import Bell


class Hub:
    def __init__(self, others: Bell | None = None) -> None:
        self._event = asyncio.Event()
        self.last_seq = 0
        self.clients = 0  # live streams open now (the metrics' murmur_stream_clients)
        self.confirmations = 0  # how many times a peer confirmed what something kept from it leans on
        self.others = others
        """The other processes of this server, told of everything this one stores (None: it runs alone)."""
        self._ringing = False

    def confirmed(self) -> None:
        """A peer confirmed, signed, messages that others lean on: what the audience rule kept from it may go now
        (``murmur.store.passed``), so the pushers look again (in the supervisor, when a worker heard it)."""
        self.heard_confirmed()
        if self.others is not None:
            self.others.ring(bell.CONFIRMED)

    def heard_confirmed(self) -> None:
        self.confirmations += 1
        self._wake()

    def stored(self, seq: int) -> None:
        self.heard_stored(seq)
        if self.others is not None and not self._ringing:
            # Once per turn of the loop, however many stores it saw (a group commit answers many posts at once):
            # a wake-up says only "look", and the others read up to whatever is there.
            self._ringing = True
            asyncio.get_running_loop().call_soon(self._ring)

    def _ring(self) -> None:
        self._ringing = False
        if self.others is not None:
            self.others.ring(bell.stored(self.last_seq))

    def heard_stored(self, seq: int) -> None:
        """Something was stored up to ``seq``, here or by another process of this server."""
        self.last_seq = max(self.last_seq, seq)
        self._wake()

    def hear(self, datagram: bytes) -> None:
        """What another process of this server rang (``Bell``)."""
        if datagram == bell.CONFIRMED:
            self.heard_confirmed()
        elif (seq := bell.parse(datagram)) is not None:
            self.heard_stored(seq)

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
