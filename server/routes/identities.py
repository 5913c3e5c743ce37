"""An identity as its key-event log resolves here: its devices, home server, and any fork (docs/api.md)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.kinds.key_backdated import backdated_removals
from murmur.kinds.key_store import event_ids, identity_named_by
from murmur.server.auth import authenticate_settling, settles_identity, state_of
from murmur.server.responses import JSONBytes


async def identity(request: Request) -> Response:
    """``{id}`` is an identity (its inception's id), a device's key (answered with the identity it is a device
    of) or a bare key (an identity with one device)."""
    return JSONBytes(await _named(request))


async def _named(request: Request) -> dict[str, Any]:
    """The identity view of what ``{id}`` names, for an authenticated request; ``bad_id``, ``not_found``."""
    state = state_of(request)
    caller = await authenticate_settling(request)  # a device a fork disputes reads its own identity, to settle it
    asked = request.path_params["id"]
    if not KEY_HEX.fullmatch(asked):
        raise Refused("bad_id", "An identity or a key is 64 lowercase hex digits.")
    view = await identity_named_by(state.store, asked)
    settles_identity(caller, "" if view is None else view["identity"])
    if view is None:
        raise Refused("not_found", "No identity, device or key by that name is held here.")
    return view


async def identity_events(request: Request) -> Response:
    """The signed key events held for the identity ``{id}`` names, as published: a device resolves them itself
    (docs/encryption.md §9.3) rather than trust the view above. A bare key has none. With them, the removals this
    server found backdated (docs/protocol.md §13.4): they can only dispute devices, never give one authority."""
    view = await _named(request)
    state = state_of(request)
    ids = [] if view["bare"] else await event_ids(state.store, view["identity"])
    raws = [await state.store.get_raw(i) for i in ids]
    events = [orjson.Fragment(r) for r in raws if r is not None]  # as signed, byte for byte
    backdated = [] if view["bare"] else await backdated_removals(state.store, view["identity"])
    return JSONBytes({"identity": view["identity"], "bare": view["bare"], "events": events, "backdated": backdated})
