"""The live stream: Server-Sent Events of new messages and notifications, resumable by cursor.

SSE rather than WebSocket: it is one signed GET, passes through HTTP proxies and reverse proxies unchanged,
and resuming is built into the protocol (``Last-Event-ID``). The stream only ever flows one way.

Each event's ``id`` is the log position (seq) of the message; a client that reconnects with
``Last-Event-ID`` (or ``?cursor=``) receives everything stored after it, then live events. A read the database
fails once the stream has begun (too late for a 503) ends it with a comment saying so; the client reconnects
after the ``retry`` interval, from its last event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from murmur.errors import StoreError
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate, state_of
from murmur.server.notify import notification_for
from murmur.server.params import header_number, optional_query_number
from murmur.server.responses import raw_message
from murmur.store.notifications import target_id
from murmur.validate import load_stored

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
            entries = await state.store.log_after(cursor, PAGE)
            for entry in entries:
                cursor = entry.seq
                message = load_stored(entry.raw)
                data = orjson.dumps({"seq": entry.seq, "message": raw_message(entry.raw)})
                yield b"id: %d\nevent: message\ndata: %s\n\n" % (entry.seq, data)
                kind = await notification_for(state.store, message, caller.key, entry.seq)
                if kind is not None:
                    note = orjson.dumps(
                        {
                            "seq": entry.seq,
                            "kind": kind,
                            "actor": message.author,
                            "target_id": target_id(kind, message.tag("reply"), message.tag("target")),
                            "message": raw_message(entry.raw),
                        }
                    )
                    yield b"id: %d\nevent: notification\ndata: %s\n\n" % (entry.seq, note)
            if len(entries) == PAGE:
                continue
            if await request.is_disconnected():
                return
            if idle >= KEEPALIVE_S:
                idle = 0.0
                yield b": keepalive\n\n"
            await state.hub.wait(POLL_S)
            idle += POLL_S

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(_until_store_fails(events()), media_type="text/event-stream", headers=headers)
