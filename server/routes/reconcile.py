"""Repair between peers: set reconciliation and fetching by id (peer-signed, like the rest of /fed/v1).

- ``POST /fed/v1/reconcile``: the body is one reconciliation message from the initiator
  (``application/x-murmur-reconcile``, see murmur.sync.wire); the answer is this server's message. Nothing is
  kept between requests: each message names the ranges it is about, so a peer may stop and start again.
- ``POST /fed/v1/fetch``: ``{"ids": [hex, ...]}`` and/or ``{"counted": [{"device": hex, "from": N, "to": N}]}``
  (a device's counters, docs/protocol.md §13.8), at most 1000 messages in all; the answer is JSON Lines of the
  signed messages among them that the peer may see. Ids not held, or not for peers, are simply absent, so
  fetching tells a peer nothing reconciliation would not; counted messages are public ones.

Both use the repair set of ``murmur.sync.index``: public messages not about a local post.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.jcs import MAX_SAFE_INTEGER
from murmur.keys import KEY_HEX
from murmur.server.auth import authenticate_peer, state_of
from murmur.store import gaps
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


FETCH_SHAPE = (
    'A fetch body is JSON: {"ids": ["<64 hex digits>", ...]} and/or'
    ' {"counted": [{"device": "<64 hex digits>", "from": N, "to": N}, ...]}.'
)


@dataclass(frozen=True, slots=True)
class Counted:
    """A run of one device's counters (docs/protocol.md §13.8), both ends included."""

    device: str
    low: int
    high: int

    @property
    def size(self) -> int:
        return self.high - self.low + 1


def _range(value: object) -> Counted:
    device = value.get("device") if isinstance(value, dict) else None
    if not isinstance(value, dict) or not isinstance(device, str) or not KEY_HEX.fullmatch(device):
        raise Refused("bad_request", FETCH_SHAPE)
    low, high = value.get("from"), value.get("to")
    if not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_SAFE_INTEGER for n in (low, high)):
        raise Refused("bad_request", "A counted range's from and to are whole numbers from 1 to 2^53 - 1.")
    assert isinstance(low, int) and isinstance(high, int)
    if low > high:
        raise Refused("bad_request", f"A counted range runs upwards; this one is from {low} to {high}.")
    return Counted(device, low, high)


def fetch_request(body: bytes) -> tuple[list[bytes], list[Counted]]:
    """The ids and counted ranges a fetch asks for; together at most ``MAX_FETCH`` messages."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused("bad_request", FETCH_SHAPE) from exc
    if not isinstance(payload, dict) or not ({"ids", "counted"} & payload.keys()):
        raise Refused("bad_request", FETCH_SHAPE)
    ids, ranges = payload.get("ids", []), payload.get("counted", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) and KEY_HEX.fullmatch(i) for i in ids):
        raise Refused("bad_request", FETCH_SHAPE)
    if not isinstance(ranges, list):
        raise Refused("bad_request", FETCH_SHAPE)
    counted = [_range(r) for r in ranges[: MAX_FETCH + 1]]
    asked = len(ids) + sum(min(r.size, MAX_FETCH + 1) for r in counted)
    if asked > MAX_FETCH or len(ranges) > MAX_FETCH:
        raise Refused("too_large", f"A fetch asks for at most {MAX_FETCH} messages; this one asks for more.")
    return [bytes.fromhex(i) for i in ids], counted


async def fetch(request: Request) -> Response:
    state = state_of(request)
    peer, body = await authenticate_peer(request)
    ids, ranges = fetch_request(body)
    for r in ranges:  # the ids of the counters asked for, of which the audience rule below keeps what may go
        ids.extend(await gaps.ids_in(state.store, r.device, r.low, r.high, limit=r.size))
    raws = await visible_raws(state.store, list(dict.fromkeys(ids)), peer.key)
    await record_contact(state.store, peer.key)
    return Response(b"".join(raw + b"\n" for raw in raws), media_type="application/x-ndjson")
