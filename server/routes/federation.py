"""The federation API, for trusted peer servers only (requests signed by a server key in the allowlist).

- ``POST /fed/v1/messages``: a push batch, JSON Lines (one signed message per line). Each line goes through
  the same validation as any other message; the answer lists a result per line, so good messages in a batch
  are stored while bad ones are reported.
- ``GET /fed/v1/log?after=N&limit=M&wait=S``: the public log after cursor N, as JSON Lines of signed
  messages; ``Murmur-Cursor`` is the cursor to ask after next and ``Murmur-More`` says whether more is
  waiting. With ``wait``, an empty answer is held up to S seconds until something arrives (long poll), which
  is how a server that can only dial out still hears of new messages at once.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate_peer, state_of
from murmur.server.params import query_number
from murmur.server.responses import batch_answer
from murmur.store.group import ingest_grouped
from murmur.store.peers import from_peer, outbound, peer_origin, record_contact
from murmur.store.trust import note_refusals

MAX_BATCH_MESSAGES = 1000
MAX_PAGE = 1000
MAX_WAIT_S = 30


def split_lines(body: bytes) -> list[bytes]:
    return [line for line in body.split(b"\n") if line.strip()]


async def push(request: Request) -> Response:
    state = state_of(request)
    peer, body = await authenticate_peer(request)
    lines = split_lines(body)
    if len(lines) > MAX_BATCH_MESSAGES:
        raise Refused("too_large", f"A batch holds at most {MAX_BATCH_MESSAGES} messages; this one has {len(lines)}.")
    # Grouped: concurrent pushes (and publishes) that wait for the writer share one commit and its fsync.
    results = await ingest_grouped(state.store.writer, lines, origin=peer_origin(peer.key), policy=from_peer(peer))
    await note_refusals(state.store, peer.key, results)
    stored = [r.seq for r in results if r.status == "stored" and r.seq is not None]
    if stored:
        state.hub.stored(max(stored))
    await record_contact(state.store, peer.key)
    return batch_answer(results, signer=state.identity)


async def log(request: Request) -> Response:
    state = state_of(request)
    peer, _ = await authenticate_peer(request)
    after = query_number(request, "after", default=0, low=0, high=MAX_NUMBER, code="bad_cursor")
    limit = query_number(request, "limit", default=500, low=1, high=MAX_PAGE, code="bad_limit")
    wait = query_number(request, "wait", default=0, low=0, high=MAX_WAIT_S, code="bad_number")
    deadline = time.monotonic() + wait
    while True:
        page = await outbound(state.store, after=after, limit=limit, exclude_origin=peer.origin, to=peer.key)
        if page.entries or page.more or time.monotonic() >= deadline or await request.is_disconnected():
            break
        after = page.next_cursor
        await state.hub.wait(min(2.0, max(0.0, deadline - time.monotonic())))
    await record_contact(state.store, peer.key)
    body = b"".join(raw + b"\n" for _, raw in page.entries)
    headers = {"Murmur-Cursor": str(page.next_cursor), "Murmur-More": "1" if page.more else "0"}
    return Response(body, media_type="application/x-ndjson", headers=headers)
