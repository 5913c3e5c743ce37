"""Repair between peers: set reconciliation and fetching by id (peer-signed, like the rest of /fed/v1).

- ``POST /fed/v1/reconcile``: the body is one reconciliation message from the initiator
  (``application/x-murmur-reconcile``, see murmur.sync.wire); the answer is this server's message. Nothing is
  kept between requests: each message names the ranges it is about, so a peer may stop and start again.
- ``POST /fed/v1/fetch``: ``{"ids": [hex, ...]}`` (at most 1000); the answer is JSON Lines of the signed
  messages among them that the peer may see. Ids not held, or not for peers, are simply absent, so fetching
  tells a peer nothing reconciliation would not.

Both use the repair set of ``murmur.sync.index``: public messages not about a local post.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.server.auth import authenticate_peer, state_of
from murmur.store.peers import record_contact
from murmur.sync.index import index_for, visible_raws
from murmur.sync.reconcile import respond

MEDIA_TYPE = "application/x-murmur-reconcile"
MAX_FETCH = 1000


async def reconcile(request: Request) -> Response:
    state = state_of(request)
    peer, body = await authenticate_peer(request)
    items = await index_for(state.store, peer).current()
    answer = respond(items, body)
    await record_contact(state.store, peer.key)
    return Response(answer, media_type=MEDIA_TYPE)


def _fetch_ids(body: bytes) -> list[bytes]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused("bad_request", 'A fetch body is JSON: {"ids": ["<64 hex digits>", ...]}.') from exc
    ids = payload.get("ids") if isinstance(payload, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) and len(i) == 64 for i in ids):
        raise Refused("bad_request", 'A fetch body is JSON: {"ids": ["<64 hex digits>", ...]}.')
    if len(ids) > MAX_FETCH:
        raise Refused("too_large", f"A fetch asks for at most {MAX_FETCH} ids; this one asks for {len(ids)}.")
    try:
        return [bytes.fromhex(i) for i in ids]
    except ValueError as exc:
        raise Refused("bad_request", "Every id to fetch is 64 hexadecimal digits.") from exc


async def fetch(request: Request) -> Response:
    state = state_of(request)
    peer, body = await authenticate_peer(request)
    raws = await visible_raws(state.store, _fetch_ids(body), peer.key)
    await record_contact(state.store, peer.key)
    return Response(b"".join(raw + b"\n" for raw in raws), media_type="application/x-ndjson")
