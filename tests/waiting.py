"""Waiting on events, not on time: shared by every test that waits for a server to store something.

A test that sleeps "long enough" fails on a loaded machine and wastes time on an idle one. These helpers wake
on the event the code itself signals and use their bound only to fail with a reason instead of hanging.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from murmur.server.hub import Hub

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
