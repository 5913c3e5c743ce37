"""A member's own messages, every kind, for ``murmur export --mine`` (moving to another server).

``GET /api/v1/export?after=N&limit=M&local=0|1``: JSON Lines of the signed messages whose author is the
caller, in log order after cursor N; ``Murmur-Cursor`` and ``Murmur-More`` work as on the federation log.
Timelines hold posts and boosts only; a move also needs the profile, follows, reactions and deletes. Local
posts (and what is about them) come only with ``local=1``: they were written for this server's members.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.server.auth import authenticate, state_of
from murmur.sync.transfer import ExportFilter

MAX_PAGE = 1000


def _int(request: Request, name: str, default: int, high: int) -> int:
    text = request.query_params.get(name, str(default))
    if not text.isdigit() or int(text) > high:
        raise Refused("bad_request", f"{name} must be a whole number from 0 to {high}.")
    return int(text)


async def own_messages(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    after = _int(request, "after", 0, 2**53 - 1)
    limit = max(1, _int(request, "limit", 500, MAX_PAGE))
    local = _int(request, "local", 0, 1) == 1
    sql, params = ExportFilter(authors=(caller.key,), include_local=local).where()
    async with state.store.conn.execute(f"{sql} AND m.seq > ? ORDER BY m.seq LIMIT ?", (*params, after, limit)) as c:
        rows = await c.fetchall()
    body = b"".join(bytes(raw) + b"\n" for _, raw in rows)
    headers = {"Murmur-Cursor": str(rows[-1][0] if rows else after), "Murmur-More": "1" if len(rows) == limit else "0"}
    return Response(body, media_type="application/x-ndjson", headers=headers)
