"""A member's sealed messages: the envelopes addressed to any device of their identity (docs/api.md).

The server cannot open them; it answers with the whole signed messages, oldest first, after a cursor (a log
position), so that each of the member's devices fetches what it has not seen and opens it itself. A cursor comes
with the id of the message at its position (``at``): a server restored from a backup hands its positions out
again, so a bare number could point past messages the device never read; ``cursor_moved`` says to start over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.kinds.sealed import Row, in_group, member_devices, sealed_for, sealed_in
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate, state_of
from murmur.server.params import query_number, query_text
from murmur.server.responses import JSONBytes, raw_message

DEFAULT_LIMIT, MOST = 100, 500
NO_IDENTITY = (
    "This key speaks for no identity (or was removed from it), so nothing is sealed to it; make it one with"
    " `murmur identity create`, or pair it with one with `murmur device add IDENTITY`."
)
NOT_IN_GROUP = (
    "Only the members of a private group (and its former members) fetch its messages here; you have no place in"
    " it on this server (an invitation may not have arrived yet)."
)
CURSOR_MOVED = (
    "Position {after} of this server's log no longer holds the message {at:.16}… your cursor names (the server was"
    " restored from an older backup, or its log was rebuilt): fetch again from the start (after=0), skipping the"
    " messages you hold."
)

Feed = Callable[[int, int], Awaitable[list[Row]]]  # (after, limit) -> the caller's rows past ``after``


async def sealed(request: Request) -> Response:
    """``GET /api/v1/sealed?after=CURSOR&at=ID&limit=N[&group=ID]``: ``{"sealed": [{"seq", "message"}],
    "next_cursor", "more"}``. With ``group``: that private group's messages, for its members and former members
    only. ``at``: the id of the message at ``after`` (the last one read), checked by ``check_cursor``."""
    state = state_of(request)
    caller = await authenticate(request)
    after = query_number(request, "after", default=0, low=0, high=MAX_NUMBER, code="bad_cursor")
    at = query_text(request, "at", code="bad_cursor")
    if at is not None and not KEY_HEX.fullmatch(at):
        raise Refused("bad_cursor", "`at` is the id of the message at the cursor: 64 lowercase hex digits.")
    limit = query_number(request, "limit", default=DEFAULT_LIMIT, low=1, high=MOST, code="bad_limit")
    group = query_text(request, "group", code="bad_group")
    feed: Feed
    if group is not None:
        if not KEY_HEX.fullmatch(group):
            raise Refused("bad_group", "A group is named by its id: 64 lowercase hex digits.")
        if not await in_group(state.store, caller.key, group):
            raise Refused("not_member", NOT_IN_GROUP)
        feed = partial(sealed_in, state.store, group)
    else:
        devices = await member_devices(state.store, caller.key)
        if not devices:
            raise Refused("no_identity", NO_IDENTITY)
        feed = partial(sealed_for, state.store, devices)
    await check_cursor(feed, after, at)
    return _page(await feed(after, limit + 1), after, limit)


async def check_cursor(feed: Feed, after: int, at: str | None) -> None:
    """Refuse (``cursor_moved``) a cursor whose position in the caller's own ``feed`` no longer holds the message
    ``at``: a restored server's log reuses positions, and reading on from there would skip what came since. Read
    through the feed itself, so it tells nothing of messages the caller may not fetch. Position 0 (the start)
    and a cursor without ``at`` are taken as they come."""
    if at is None or after == 0:
        return
    held = await feed(after - 1, 1)
    if not held or held[0][0] != after or orjson.loads(held[0][1]).get("id") != at:
        raise Refused("cursor_moved", CURSOR_MOVED.format(after=after, at=at))


def _page(rows: list[Row], after: int, limit: int) -> Response:
    page = rows[:limit]
    cursor = page[-1][0] if page else after
    items = [{"seq": seq, "message": raw_message(raw), "received_at": at} for seq, raw, at in page]
    return JSONBytes({"sealed": items, "next_cursor": cursor, "more": len(rows) > limit})
