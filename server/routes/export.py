"""A member's own messages, every kind, out and in: ``murmur export --mine`` and ``murmur import --mine``.

``GET /api/v1/export?after=N&limit=M&local=0|1``: JSON Lines of the signed messages whose author is the
caller, in log order after cursor N; ``Murmur-Cursor`` and ``Murmur-More`` work as on the federation log.
Timelines hold posts and boosts only; a move also needs the profile, follows, reactions and deletes. Local
posts (and what the caller wrote about their own local posts) come only with ``local=1``: they were written for
this server's members. What the caller wrote about someone else's local post never leaves (it would land public).

``POST /api/v1/import``: JSON Lines of signed messages (at most 1000), stored like a push batch with one result
per line; only messages signed by the caller are accepted (``wrong_author`` otherwise). This is the one way a
local post comes to a new server: with its author, who is a member here (murmur.store.audience).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate, state_of
from murmur.server.params import query_number
from murmur.server.responses import batch_answer
from murmur.server.routes.federation import split_lines
from murmur.store.audience import moved_in
from murmur.store.export import ExportFilter, page

MAX_PAGE = 1000
MAX_IMPORT_LINES = 1000


async def own_messages(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    after = query_number(request, "after", default=0, low=0, high=MAX_NUMBER, code="bad_cursor")
    limit = query_number(request, "limit", default=500, low=1, high=MAX_PAGE, code="bad_limit")
    local = query_number(request, "local", default=0, low=0, high=1, code="bad_number") == 1
    chosen = ExportFilter(authors=(caller.key,), include_local=local, moving=True)
    rows = await page(state.store, chosen, after=after, limit=limit)
    body = b"".join(raw + b"\n" for _, raw in rows)
    headers = {"Murmur-Cursor": str(rows[-1][0] if rows else after), "Murmur-More": "1" if len(rows) == limit else "0"}
    return Response(body, media_type="application/x-ndjson", headers=headers)


async def import_own(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    lines = split_lines(caller.body)
    if len(lines) > MAX_IMPORT_LINES:
        raise Refused("too_large", f"An import holds at most {MAX_IMPORT_LINES} messages; this one has {len(lines)}.")
    results = await state.store.ingest_grouped(lines, origin="import", policy=moved_in(caller.key))
    stored = [r.seq for r in results if r.status == "stored" and r.seq is not None]
    if stored:
        state.hub.stored(max(stored))
    return batch_answer(results)
