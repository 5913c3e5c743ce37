"""What one process of a server tells the others it serves beside: something was stored, or a peer confirmed.

With ``workers = N``, every process keeps its own ``Hub`` (its live streams and federation loops wait on it); the
store is shared, so a hub needs only to be told *when* to look. Each worker holds one end of a datagram socket
pair whose other end the supervisor holds: a worker rings the supervisor, which wakes its own hub (the federation
loops) and passes the datagram on to every other worker. A datagram is a wake-up, never the data: whoever hears
it reads the store past its own position.

A datagram that does not fit in a full receive queue is dropped on purpose: that queue holds wake-ups the receiver
has yet to act on, and acting on any of them reads the store after this write committed, so nothing is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

CONFIRMED = b"c"  # a peer confirmed what a message kept from it leans on (``Hub.confirmed``): the pushers look again


def stored(seq: int) -> bytes:
    return b"s%d" % seq


def parse(datagram: bytes) -> int | None:
    """The seq a ``stored`` datagram names; None for anything else (nothing but our own processes can write to
    these sockets, but a bad datagram must not stop the listener)."""
    if datagram[:1] != b"s":
        return None
    try:
        return int(datagram[1:])
    except ValueError:
        return None


class Bell:
    """This process's datagram sockets to the others (one to the supervisor in a worker, one per worker in the
    supervisor), non-blocking."""

    def __init__(self) -> None:
        self.others: list[socket.socket] = []

    def add(self, other: socket.socket, on_datagram: Callable[[socket.socket, bytes], None]) -> None:
        """Ring ``other`` from now on, and call ``on_datagram`` on the running loop for each datagram it sends."""
        other.setblocking(False)
        self.others.append(other)
        asyncio.get_running_loop().add_reader(other.fileno(), self._drain, other, on_datagram)

    def ring(self, datagram: bytes, *, but: socket.socket | None = None) -> None:
        for other in self.others:
            if other is not but:
                # Full: the receiver has wake-ups queued yet (see the module docstring). Gone: it is restarting,
                # and a restarted worker reads the store from where its streams' clients say they are.
                with contextlib.suppress(BlockingIOError, ConnectionRefusedError, BrokenPipeError):
                    other.send(datagram)

    def relaying(self, hear: Callable[[bytes], None]) -> Callable[[socket.socket, bytes], None]:
        """What the supervisor does with a worker's datagram: ``hear`` it (its own hub's wake) and pass it on to
        every other worker."""

        def relay(sender: socket.socket, datagram: bytes) -> None:
            hear(datagram)
            self.ring(datagram, but=sender)

        return relay

    def forget(self, other: socket.socket) -> None:
        """Stop listening to and ringing ``other`` (its worker ended), and close it."""
        if other in self.others:
            self.others.remove(other)
            asyncio.get_running_loop().remove_reader(other.fileno())
            other.close()

    def close(self) -> None:
        for other in list(self.others):
            self.forget(other)

    @staticmethod
    def _drain(other: socket.socket, on_datagram: Callable[[socket.socket, bytes], None]) -> None:
        while True:
            try:
                datagram = other.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                datagram = b""
            if not datagram:  # the other end closed: its process ended (the supervisor forgets it and restarts it)
                asyncio.get_running_loop().remove_reader(other.fileno())
                return
            on_datagram(other, datagram)
