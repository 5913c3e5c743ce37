"""A member's sealed messages: the envelopes addressed to any device of their identity (docs/api.md).

The server cannot open them; it answers with the whole signed messages, oldest first, after a cursor (a log
position), so that each of the member's devices fetches what it has not seen and opens it itself.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds.sealed import member_devices, sealed_for
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate, state_of
from murmur.server.params import query_number
from murmur.server.responses import JSONBytes, raw_message

DEFAULT_LIMIT, MOST = 100, 500
NO_IDENTITY = (
    "This key speaks for no identity (or was removed from it), so nothing is sealed to it; make it one with"
    " `murmur identity create`, or pair it with one with `murmur device add IDENTITY`."
)


async def sealed(request: Request) -> Response:
    """``GET /api/v1/sealed?after=CURSOR&limit=N``: ``{"sealed": [{"seq", "message"}], "next_cursor", "more"}``."""
    state = state_of(request)
    caller = await authenticate(request)
    after = query_number(request, "after", default=0, low=0, high=MAX_NUMBER, code="bad_cursor")
    limit = query_number(request, "limit", default=DEFAULT_LIMIT, low=1, high=MOST, code="bad_limit")
    devices = await member_devices(state.store, caller.key)
    if not devices:
        raise Refused("no_identity", NO_IDENTITY)
    rows = await sealed_for(state.store, devices, after, limit + 1)
    page = rows[:limit]
    cursor = page[-1][0] if page else after
    items = [{"seq": seq, "message": raw_message(raw)} for seq, raw in page]
    return JSONBytes({"sealed": items, "next_cursor": cursor, "more": len(rows) > limit})
