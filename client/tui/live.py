"""Following the server's event stream, reconnecting with backoff for as long as the TUI runs.

A plain coroutine with callbacks, so it can be tested without a screen. The stream resumes from the last
event id it saw, so nothing stored while the connection was down is missed; its first connection resumes from
where the log ended before the first pages were read (``first_reads``), so nothing stored between those reads
and the stream's start is missed either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import httpx

from murmur.client.api import GarbledEvent, MurmurClient, StreamEvent
from murmur.errors import MurmurError, Refused
from murmur.numbers import MAX_NUMBER, parse_number

log = logging.getLogger("murmur.client.tui")

OnEvent = Callable[[StreamEvent], None]
OnState = Callable[[bool, str], None]


def log_end(health: object) -> int | None:
    """Where the server's log ends, from its health check's ``seq``; None from a server that does not say."""
    seq = health.get("seq") if isinstance(health, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_NUMBER else None


async def follow_stream(
    api: MurmurClient,
    on_event: OnEvent,
    on_state: OnState,
    *,
    first_reads: Callable[[], None] = lambda: None,
    backoff_max_s: float = 15.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run forever: connect, deliver events, and on any failure report it, wait, and connect again.

    ``first_reads`` is called once, when the server first answers, after the log's end was read and before the
    stream opens: what it reads holds everything up to there, and the stream everything after."""
    cursor: int | None = None
    started = False
    delay = 1.0
    while True:
        try:
            # The stream says nothing until something happens; this proves we are connected.
            health = await api.health()
            if not started:
                started = True
                cursor = log_end(health)
                first_reads()
            on_state(True, "")
            delay = 1.0
            async for event in api.stream(cursor):
                if event.id:
                    # The same grammar as every other number from elsewhere: "٣" or "+3" is no cursor.
                    with contextlib.suppress(Refused):
                        cursor = parse_number(event.id, name="event id", low=0, high=MAX_NUMBER, code="bad_cursor")
                on_event(event)
            reason = "The server closed the live stream."
        except (GarbledEvent, ValueError) as exc:  # a garbled event: drop the connection and start clean
            log.info("bad stream event: %s", exc)
            reason = "The server sent a garbled event."
        except MurmurError as exc:
            reason = exc.message
        except httpx.HTTPError as exc:
            reason = f"The connection to the server was lost ({exc.__class__.__name__})."
        on_state(False, f"{reason} Retrying in {delay:.0f}s.")
        await sleep(delay)
        delay = min(delay * 2, backoff_max_s)
