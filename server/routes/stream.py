"""The live stream: Server-Sent Events of new messages and notifications, resumable by cursor.

SSE rather than WebSocket: it is one signed GET, passes through HTTP proxies and reverse proxies unchanged,
and resuming is built into the protocol (``Last-Event-ID``). The stream only ever flows one way.

Each event's ``id`` is the log position (seq) of the message; a client that reconnects with
``Last-Event-ID`` (or ``?cursor=``) receives everything stored after it, then live events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from murmur.server.auth import authenticate, state_of
from murmur.server.notify import notification_for
from murmur.server.responses import raw_message
from murmur.server.state import ServerState
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from murmur.errors import Refused
from murmur.validate import load_stored

POLL_S = 2.0
KEEPALIVE_S = 15.0
PAGE = 200


async def last_seq(state: ServerState) -> int:
    async with state.store.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _cursor(request: Request) -> int | None:
    text = request.headers.get("last-event-id") or request.query_params.get("cursor")
    if text is None:
        return None
    if not text.isdigit():
        raise Refused("bad_cursor", "The stream cursor must be a log position returned by an earlier event.")
    return int(text)


async def stream(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    cursor = _cursor(request)
    if cursor is None:
        cursor = await last_seq(state)

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
                kind = await notification_for(state.store, message, caller.key)
                if kind is not None:
                    note = orjson.dumps({"seq": entry.seq, "kind": kind, "actor": message.author, "id": message.id})
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
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
