"""What peers said, signed, about messages this server sent them (murmur.receipts).

- ``GET /api/v1/deletes/{id}``: for the caller's delete of the message ``id`` (its id or 8+ hex digits; or the
  delete's own id), every peer the delete may go to, with its signed receipt (``confirmed``), its signed refusal
  (``refused``, with the reason), or nothing yet (``waiting``); and ``held_back`` when the delete, signed wider
  than the scoped post it names, goes only to the peers that confirmed that post (``murmur.store.audience``).
- ``GET /api/v1/messages/{id}/withheld``: the peers that refused the message, signed, and why: what readers are
  shown as "withheld by X: reason".
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.kinds.sealed import readable_by
from murmur.prefixes import checked_prefix
from murmur.receipts import CONFIRMING
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes
from murmur.store import receipts
from murmur.store.audience import held_back
from murmur.store.lookup import resolve_message_id
from murmur.validate import load_stored


async def delete_status(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    typed = checked_prefix(request.path_params["id"], "message id")
    delete_id = await receipts.own_delete_of(state.store, caller.key, typed)
    if delete_id is None:
        raise Refused("not_found", "You have not deleted a message with that id on this server.")
    answered = {r.peer: r for r in await receipts.receipts_for(state.store, delete_id)}
    peers: list[dict[str, Any]] = []
    for key, name in await receipts.owed(state.store, delete_id):
        got = answered.get(key)
        if got is None:
            peers.append({"key": key, "name": name, "status": "waiting"})
            continue
        status = "confirmed" if got.status in CONFIRMING else "refused"
        peers.append({**got.as_dict(), "status": status, "answer": got.status})
    answer: dict[str, Any] = {"delete": delete_id, "peers": peers}
    raw = await state.store.get_raw(delete_id)
    held = await held_back(state.store, load_stored(raw)) if raw is not None else None
    if held is not None:  # it goes to no peer but those that confirmed the post: say why, not just "no peers"
        answer["held_back"] = {"code": held[0], "reason": held[1]}
    return JSONBytes(answer)


async def withheld(request: Request) -> Response:
    state = state_of(request)
    caller = await authenticate(request)
    msg_id = await resolve_message_id(state.store, request.path_params["id"])
    # what peers said of a sealed message tells who it went where: only those who may fetch it learn it
    if not await readable_by(state.store, caller.key, msg_id):
        raise Refused("not_found", "No such message here (it may never have arrived, or was deleted).")
    rows = await receipts.withheld(state.store, msg_id)
    return JSONBytes({"id": msg_id, "withheld": [r.as_dict() for r in rows]})
