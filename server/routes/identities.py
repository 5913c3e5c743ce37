"""An identity as its key-event log resolves here: its devices, home server, and any fork (docs/api.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.keys import KEY_HEX
from murmur.kinds.key_store import identity_named_by
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes


async def identity(request: Request) -> Response:
    """``{id}`` is an identity (its inception's id), a device's key (answered with the identity it is a device
    of) or a bare key (an identity with one device)."""
    state = state_of(request)
    await authenticate(request)
    asked = request.path_params["id"]
    if not KEY_HEX.fullmatch(asked):
        raise Refused("bad_id", "An identity or a key is 64 lowercase hex digits.")
    view = await identity_named_by(state.store, asked)
    if view is None:
        raise Refused("not_found", "No identity, device or key by that name is held here.")
    return JSONBytes(view)
