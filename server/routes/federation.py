"""The federation API, for trusted peer servers only (requests signed by a server key in the allowlist).

- ``POST /fed/v1/messages``: a push batch, JSON Lines (one signed message per line). Each line goes through
  the same validation as any other message; the answer lists a result per line, so good messages in a batch
  are stored while bad ones are reported.
- ``POST /fed/v1/offers``: the ids of messages the peer would push (32 bytes each, back to back); the answer
  is the ids among them it should send, the others being held here or already asked of another peer
  (murmur.server.federation.offers). The push that follows brings those bodies only.
- ``GET /fed/v1/log?after=N&limit=M&wait=S``: the public log after cursor N, as JSON Lines of signed
  messages; ``Murmur-Cursor`` is the cursor to ask after next and ``Murmur-More`` says whether more is
  waiting. With ``wait``, an empty answer is held up to S seconds until something arrives (long poll), which
  is how a server that can only dial out still hears of new messages at once. With ``ids=1`` the answer is
  the ids alone (as an offer's, ``Murmur-Ids: 1`` saying so); the puller fetches those it lacks. What a pull (or
  our push) passed while the audience rule kept it from the peer is answered first once the rule lets it, the
  cursor unmoved (``murmur.store.peers.pulled``).
- ``POST /fed/v1/answers``: ``{"answers": [...]}``, the peer's signed answers (``murmur.receipts``) about messages
  it took from here other than by our push (pulled, fetched): its receipts for deletes and its notices of what it
  withheld. Kept as a push's answers are, only those that verify and speak of a message this server holds and may
  send that peer; the answer is ``{"kept": N}``.
"""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.numbers import MAX_NUMBER
from murmur.server.auth import authenticate_peer, state_of
from murmur.server.federation import offers as offered
from murmur.server.federation.answers import heard
from murmur.server.params import query_number
from murmur.server.responses import JSONBytes, batch_answer
from murmur.store import receipts
from murmur.store.peers import from_peer, peer_origin, pulled, record_contact
from murmur.store.trust import note_refusals
from murmur.sync.index import visible_raws

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
    with offered.pushing(state, peer):  # the peer's retry of this push, should it give up on it, waits for it
        # Grouped: concurrent pushes (and publishes) that wait for the writer share one commit and its fsync.
        results = await state.store.ingest_grouped(lines, origin=peer_origin(peer.key), policy=from_peer(peer))
        offered.settle(state, results)
    await note_refusals(state.store, peer.key, results)
    stored = [r.seq for r in results if r.status == "stored" and r.seq is not None]
    if stored:
        state.hub.stored(max(stored))
    await record_contact(state.store, peer.key)
    return batch_answer(results, signer=state.identity)


async def offers(request: Request) -> Response:
    state = state_of(request)
    peer, body = await authenticate_peer(request)
    ids = offered.unpacked(body, "An offer")
    if len(ids) > MAX_BATCH_MESSAGES:
        raise Refused("too_large", f"An offer holds at most {MAX_BATCH_MESSAGES} ids; this one has {len(ids)}.")
    wanted = await offered.lacking(state, peer, ids, "offer")
    await record_contact(state.store, peer.key)
    return Response(offered.packed(wanted), media_type=offered.MEDIA_TYPE)


async def log(request: Request) -> Response:
    state = state_of(request)
    peer, _ = await authenticate_peer(request)
    after = query_number(request, "after", default=0, low=0, high=MAX_NUMBER, code="bad_cursor")
    limit = query_number(request, "limit", default=500, low=1, high=MAX_PAGE, code="bad_limit")
    wait = query_number(request, "wait", default=0, low=0, high=MAX_WAIT_S, code="bad_number")
    ids_only = query_number(request, "ids", default=0, low=0, high=1, code="bad_number") == 1
    deadline = time.monotonic() + wait
    while True:
        page = await pulled(state.store, peer, after=after, limit=limit)
        if page.entries or page.more or time.monotonic() >= deadline or await request.is_disconnected():
            break
        after = page.next_cursor
        await state.hub.wait(min(2.0, max(0.0, deadline - time.monotonic())))
    await record_contact(state.store, peer.key)
    headers = {"Murmur-Cursor": str(page.next_cursor), "Murmur-More": "1" if page.more else "0"}
    if ids_only:
        headers["Murmur-Ids"] = "1"
        return Response(offered.packed(page.ids), media_type=offered.MEDIA_TYPE, headers=headers)
    body = b"".join(raw + b"\n" for _, raw in page.entries)
    return Response(body, media_type="application/x-ndjson", headers=headers)


ANSWERS_SHAPE = 'The body is JSON: {"answers": [{"id", "status", "code", "reason", "sig"}, ...]}.'


async def answers(request: Request) -> Response:
    state = state_of(request)
    peer, body = await authenticate_peer(request)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused("bad_request", ANSWERS_SHAPE) from exc
    lines = payload.get("answers") if isinstance(payload, dict) else None
    if not isinstance(lines, list) or not all(isinstance(a, dict) for a in lines):
        raise Refused("bad_request", ANSWERS_SHAPE)
    if len(lines) > MAX_BATCH_MESSAGES:
        raise Refused("too_large", f"At most {MAX_BATCH_MESSAGES} answers at once; these are {len(lines)}.")
    ids = list({a["id"] for a in lines if isinstance(a.get("id"), str) and KEY_HEX.fullmatch(a["id"])})
    # Only what the peer may have had from here: the ids this server holds and would send it (the audience rule).
    sent = receipts.sent_ids(await visible_raws(state.store, [bytes.fromhex(i) for i in ids], peer.key))
    kept = await heard(state, peer.key, sent, lines)
    await record_contact(state.store, peer.key)
    return JSONBytes({"kept": kept})
