"""A member's sealed messages: the envelopes addressed to any device of their identity (docs/api.md).

The server cannot open them; it answers with the whole signed messages, oldest first, after a cursor (a log
position), so that each of the member's devices fetches what it has not seen and opens it itself.
"""

from __future__ import annotations

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


async def sealed(request: Request) -> Response:
    """``GET /api/v1/sealed?after=CURSOR&limit=N[&group=ID]``: ``{"sealed": [{"seq", "message"}], "next_cursor",
    "more"}``. With ``group``: that private group's messages, for its members and former members only."""
    state = state_of(request)
    caller = await authenticate(request)
    after = query_number(request, "after", default=0, low=0, high=MAX_NUMBER, code="bad_cursor")
    limit = query_number(request, "limit", default=DEFAULT_LIMIT, low=1, high=MOST, code="bad_limit")
    group = query_text(request, "group", code="bad_group")
    if group is not None:
        if not KEY_HEX.fullmatch(group):
            raise Refused("bad_group", "A group is named by its id: 64 lowercase hex digits.")
        if not await in_group(state.store, caller.key, group):
            raise Refused("not_member", NOT_IN_GROUP)
        rows = await sealed_in(state.store, group, after, limit + 1)
        return _page(rows, after, limit)
    devices = await member_devices(state.store, caller.key)
    if not devices:
        raise Refused("no_identity", NO_IDENTITY)
    rows = await sealed_for(state.store, devices, after, limit + 1)
    return _page(rows, after, limit)


def _page(rows: list[Row], after: int, limit: int) -> Response:
    page = rows[:limit]
    cursor = page[-1][0] if page else after
    items = [{"seq": seq, "message": raw_message(raw), "received_at": at} for seq, raw, at in page]
    return JSONBytes({"sealed": items, "next_cursor": cursor, "more": len(rows) > limit})
