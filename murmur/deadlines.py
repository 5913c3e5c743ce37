"""How long one answer over HTTP may take: a member's client asking its home server, a server asking its peers.

httpx's timeout bounds each read, connect and write, not the answer: a server, a proxy before it or a peer
sending one byte of a chunked body every fraction of the timeout is never timed out by it, and would hold its
caller (the CLI, a TUI worker, a repair, ``murmur sync``) for as long as it liked. A fixed total would cut off
the opposite case, a large answer (a pull page, an export) coming steadily over a slow link. So an answer's
deadline is a floor on its throughput: it starts at ``ANSWER_TIMES`` the timeout of one read (the request
going out, the other side working, the first bytes), and every byte sent or received moves it later by what
that byte is worth at ``FLOOR_BYTES_PER_S``. An answer that comes, on average, faster than the floor is never
given up on while it comes; one that trickles below it (a byte a second) is, a little after ``ANSWER_TIMES`` the
timeout. Its byte cap (what was asked) bounds how long even the slowest answer at the floor may take.

A repair keeps a member waiting at a terminal while the server asks its peers: ``REPAIR_S`` is how long the
server gives them (a peer still answering then is reported as given up on, and asked again next time) and how
much longer than its ordinary read the client waits for the answer to begin, so that the person sees what each
peer did rather than a timeout of their own server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

# The deadline of one answer, sent and read whole, before any byte moved it, in multiples of the timeout of each
# read (a long poll's wait on top).
ANSWER_TIMES = 3
# 64 kbit/s: below any link a person or a server works over today, far above a peer trickling to hold us.
FLOOR_BYTES_PER_S = 8 * 1024
# How long a member's repair waits for the server's peers (docstring above).
REPAIR_S = 60.0


@dataclass
class Deadline:
    """An answer's deadline, moved later as its bytes come (``came``)."""

    scope: asyncio.Timeout

    def came(self, size: int) -> None:
        when = self.scope.when()
        if when is not None:
            self.scope.reschedule(when + size / FLOOR_BYTES_PER_S)


@asynccontextmanager
async def answer_deadline(seconds: float, *, sending: int = 0) -> AsyncIterator[Deadline]:
    """The deadline of one answer: ``seconds``, plus what the ``sending`` bytes of its request are worth at the
    floor; raises ``TimeoutError`` at the end of the block when it passed."""
    async with asyncio.timeout(seconds + sending / FLOOR_BYTES_PER_S) as scope:
        yield Deadline(scope)


def too_slow(seconds: float) -> str:
    """What an answer given up on did, for the sentence that says so: ``seconds``, its deadline's start."""
    return f"it took over {seconds:g} s, coming slower than {FLOOR_BYTES_PER_S // 1024} KiB/s"
