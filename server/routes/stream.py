"""The live stream: Server-Sent Events of new messages and notifications, resumable by cursor.

SSE rather than WebSocket: it is one signed GET, passes through HTTP proxies and reverse proxies unchanged,
and resuming is built into the protocol (``Last-Event-ID``). The stream only ever flows one way.

Each event's ``id`` is a log position: a message's seq, or for a notification the position at which the store
derived it (the seq of the message it tells of, or, for one derived late, such as a reply that arrived before
its parent, the position of the message whose arrival derived it). A client that reconnects with
``Last-Event-ID`` (or ``?cursor=``) receives every message stored and every notification derived after it, then
live events. Messages are those readers are shown (a device's message waiting for its identity's log goes out
when the log comes, with the id of that position). Sealed messages are not sent as messages: a member is told of
each one sealed to a device of their identity by a ``sealed`` event holding only its ``seq``, and fetches it from
``GET /api/v1/sealed``; each current device of a private group's members is told of the group's new messages by a
``sealed`` event holding its ``seq`` and ``group``, and fetches it from ``GET /api/v1/sealed?group=ID``.
Notifications are read from what ingest derived
(``murmur.store.notifications.derived``), never recomputed here. A peer's signed notices that it withheld a message
readers are shown go to every stream (``withheld``) with the log position they were kept at as their ``id``
(``murmur.store.receipts.told_between``), so a stream resuming from a cursor gets those kept after it, once.
Every open stream is fed by one reader (``murmur.server.fanout``): each new stretch of the log is read and each
message event rendered once, whatever the number of streams; a stream behind it (resuming from a cursor, or
too slow to keep up) reads the log for itself until it has caught up.
A read the database fails once the stream has begun (too late for a 503) ends it with a comment saying so; the
client reconnects after the ``retry`` interval, from its last event.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import StoreError
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate, state_of
from murmur.server.eventstream import EventStream, Wire
from murmur.server.fanout import Behind, Ended, read_alone
from murmur.server.params import header_number, optional_query_number

OPENING = b": murmur stream\nretry: 2000\n\n"
STORE_FAILED = b": storage_unavailable: the database failed a read; reconnect to resume\n\n"

log = logging.getLogger("murmur.server")


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

    async def events(wire: Wire) -> None:
        # Written straight onto the connection (murmur.server.eventstream): every live event passes through here,
        # or through the fanout writing for this task (Subscriber.wake), for every stream open, as one write per round.
        write = wire.write
        subscriber = state.fanout.subscriber(caller.key, cursor, wire)
        with state.hub.listening():  # one live client for as long as it flows (the metrics read the count)
            await write(OPENING)
            try:
                while True:
                    # Behind the live events (resuming, or too slow to keep up): read the log for this stream
                    # alone, a page at a time, until the fanout takes it.
                    while not state.fanout.join(subscriber):
                        if data := await read_alone(state.store, subscriber):
                            await write(data)
                    try:
                        while True:
                            if data := await subscriber.take():
                                await write(data)
                    except Behind:
                        state.fanout.leave(subscriber)
            except StoreError as exc:
                log.error("storage error on the live stream, which ends here: %s", exc)
                await write(STORE_FAILED)
            except Ended:
                return
            finally:
                state.fanout.leave(subscriber)

    return EventStream(events, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
