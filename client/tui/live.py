"""Following the server's event stream, reconnecting with backoff for as long as the TUI runs.

A plain coroutine with callbacks, so it can be tested without a screen. The stream resumes from the last
event id it saw, so nothing stored while the connection was down is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import httpx

from murmur.client.api import MurmurClient, StreamEvent
from murmur.errors import MurmurError, Refused
from murmur.numbers import MAX_NUMBER, parse_number

log = logging.getLogger("murmur.client.tui")

OnEvent = Callable[[StreamEvent], None]
OnState = Callable[[bool, str], None]


async def follow_stream(
    api: MurmurClient,
    on_event: OnEvent,
    on_state: OnState,
    *,
    backoff_max_s: float = 15.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run forever: connect, deliver events, and on any failure report it, wait, and connect again."""
    cursor: int | None = None
    delay = 1.0
    while True:
        try:
            await api.health()  # the stream says nothing until something happens; this proves we are connected
            on_state(True, "")
            delay = 1.0
            async for event in api.stream(cursor):
                if event.id:
                    # The same grammar as every other number from elsewhere: "٣" or "+3" is no cursor.
                    with contextlib.suppress(Refused):
                        cursor = parse_number(event.id, name="event id", low=0, high=MAX_NUMBER, code="bad_cursor")
                on_event(event)
            reason = "The server closed the live stream."
        except MurmurError as exc:
            reason = exc.message
        except httpx.HTTPError as exc:
            reason = f"The connection to the server was lost ({exc.__class__.__name__})."
        except ValueError as exc:  # a garbled event: drop the connection and start clean
            log.info("bad stream event: %s", exc)
            reason = "The server sent a garbled event."
        on_state(False, f"{reason} Retrying in {delay:.0f}s.")
        await sleep(delay)
        delay = min(delay * 2, backoff_max_s)
