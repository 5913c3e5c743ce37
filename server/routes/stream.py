"""The live stream: Server-Sent Events of new messages and notifications, resumable by cursor.

SSE rather than WebSocket: it is one signed GET, passes through HTTP proxies and reverse proxies unchanged,
and resuming is built into the protocol (``Last-Event-ID``). The stream only ever flows one way.

Each event's ``id`` is a log position: a message's seq, or for a notification the position at which the store
derived it (the seq of the message it tells of, or, for one derived late, such as a reply that arrived before
its parent, the position of the message whose arrival derived it). A client that reconnects with
``Last-Event-ID`` (or ``?cursor=``) receives every message stored and every notification derived after it, then
live events. Sealed messages are not sent as messages: a member is told of each one sealed to a device of their
identity by a ``sealed`` event holding only its ``seq``, and fetches it from ``GET /api/v1/sealed``. Notifications
are read from what ingest derived (``murmur.store.notifications.derived``), never
recomputed here.
A read the database fails once the stream has begun (too late for a 503) ends it with a comment saying so; the
client reconnects after the ``retry`` interval, from its last event.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from murmur.errors import StoreError
from murmur.kinds import kind
from murmur.kinds.sealed import member_devices, sealed_between
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate, state_of
from murmur.server.hub import Hub
from murmur.server.params import header_number, optional_query_number
from murmur.server.responses import raw_message
from murmur.server.routes.render import notification_json
from murmur.store.notifications import NotificationItem, derived

POLL_S = 2.0
KEEPALIVE_S = 15.0
PAGE = 200
STORE_FAILED = b": storage_unavailable: the database failed a read; reconnect to resume\n\n"

log = logging.getLogger("murmur.server")


async def _until_store_fails(events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            yield event
    except StoreError as exc:
        log.error("storage error on the live stream, which ends here: %s", exc)
        yield STORE_FAILED


async def _counted(hub: Hub, events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream's events, counted as one live client for as long as they flow (the metrics read the count)."""
    with hub.listening():
        async for event in events:
            yield event


def _notification(at: int, item: NotificationItem) -> bytes:
    """A notification event; its id is where it was derived, so resuming after it neither repeats nor skips it."""
    return b"id: %d\nevent: notification\ndata: %s\n\n" % (at, orjson.dumps(notification_json(item)))


def _cursor(request: Request) -> int | None:
    """``Last-Event-ID`` (what an SSE client sends on reconnecting) or else ``?cursor=``."""
    found = header_number(request, "last-event-id", low=0, high=MAX_NUMBER, code="bad_cursor")
    if found is None:
        found = optional_query_number(request, "cursor", low=0, high=MAX_NUMBER, code="bad_cursor")
    return found


async def stream(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    newest = await state.store.last_seq()
    cursor = _cursor(request)
    # A cursor past the end of the log (a server restored from an older backup) would mean silence until the
    # log caught up: start from the end instead.
    if cursor is None or cursor > newest:
        cursor = newest

    async def events() -> AsyncIterator[bytes]:
        nonlocal cursor
        yield b": murmur stream\nretry: 2000\n\n"
        idle = 0.0
        while True:
            # The end of the log first: everything committed up to it, messages and the notices derived with them
            # (one transaction), is then read whole; what commits meanwhile waits for the next round.
            high = await state.store.last_seq()
            entries = [e for e in await state.store.log_after(cursor, PAGE) if e.seq <= high]
            full = len(entries) == PAGE
            upto = entries[-1].seq if full else high
            notes = deque(await derived(state.store, caller.key, after=cursor, upto=upto))
            # Sealed messages are never streamed as messages, to anyone; each is announced, without its content, to
            # the members it is sealed to (their devices, read again each round: a device may have joined).
            sealed: set[int] = set()
            mine: set[int] = set()
            if entries and kind("sealed") is not None:  # a program without the kind keeps no index of it
                devices = await member_devices(state.store, caller.key)
                sealed, mine = await sealed_between(state.store, cursor, upto, devices)
            for entry in entries:
                while notes and notes[0][0] < entry.seq:  # told late, at a message no longer held
                    yield _notification(*notes.popleft())
                if entry.seq in mine:  # said, never shown: the member's devices fetch and open it themselves
                    yield b"id: %d\nevent: sealed\ndata: {\"seq\":%d}\n\n" % (entry.seq, entry.seq)
                elif entry.seq not in sealed:
                    data = orjson.dumps({"seq": entry.seq, "message": raw_message(entry.raw)})
                    yield b"id: %d\nevent: message\ndata: %s\n\n" % (entry.seq, data)
                while notes and notes[0][0] == entry.seq:
                    yield _notification(*notes.popleft())
            while notes:
                yield _notification(*notes.popleft())
            cursor = max(cursor, upto)
            if full:
                continue
            if await request.is_disconnected():
                return
            if idle >= KEEPALIVE_S:
                idle = 0.0
                yield b": keepalive\n\n"
            await state.hub.wait(POLL_S)
            idle += POLL_S

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _counted(state.hub, _until_store_fails(events())), media_type="text/event-stream", headers=headers
    )
