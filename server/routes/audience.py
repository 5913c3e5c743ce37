"""``GET /api/v1/audience``: who a message would reach before it is sent (the compose preview, ``--dry-run``).

Asked with ``audience`` (``public``, ``local``, or a label such as ``inside``, also spelt ``scope:inside``) and
``names`` (the ids a reply or reaction would name: its parent and thread root, or its target), it answers the
audience the message would have (a thread's narrows it) and every peer server that would receive it, computed
by the same rule delivery asks (``murmur.store.trust.recipients``), and the labels this server's peers carry
(the scopes a post may be addressed to here).

``GET /api/v1/manifest``: this server's newest signed trust manifest (``{"manifest": TOML text}``, null before
the first), from which a reader learns which keys are its server's peers, checking the server key's signature
itself (``murmur.receipts.Signers``): a withheld notice or delete receipt signed by any other key is unknown.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.message import visibility_for
from murmur.server.auth import authenticate, state_of
from murmur.server.responses import JSONBytes
from murmur.server.routes.render import hex_param
from murmur.store.trust import audience_of, known_labels, latest, recipients

MAX_NAMES = 3  # reply, root, target


async def preview(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    visibility = visibility_for(request.query_params.get("audience", "public"))
    given = request.query_params.get("names", "")
    names = [hex_param(n, "message id in names") for n in given.split(",") if n]
    if len(names) > MAX_NAMES:
        raise Refused("bad_request", f"names holds at most {MAX_NAMES} ids (reply, root, target).")
    servers = await recipients(state.store, visibility, names)
    audience = await audience_of(state.store, visibility, names)
    labels = await known_labels(state.store)
    body = {"audience": audience, "visibility": visibility, "servers": [s.as_dict() for s in servers], "labels": labels}
    return JSONBytes(body)


async def manifest(request: Request) -> Response:
    state = state_of(request)
    await authenticate(request)
    newest = await latest(state.store)
    return JSONBytes({"manifest": newest.to_toml() if newest is not None else None})
