"""``GET /metrics``: Prometheus metrics, when config.toml says ``metrics = true`` (the route is absent otherwise).

Answered to a client on this machine (a loopback address, and no proxy header saying the request came from
elsewhere through a proxy on this machine), or to a request signed by the key of one of this server's admins.
Anyone else gets the refusal the API gives: 401 without a signature, 403 ``not_member`` or ``not_admin``.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.responses import Response

from murmur.errors import Refused
from murmur.server.auth import authenticate, state_of
from murmur.server.metrics import CONTENT_TYPE, read

# Headers a reverse proxy adds: present, the loopback address is the proxy's, not the client's.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host", "via")


def from_this_machine(request: Request) -> bool:
    if request.client is None or any(name in request.headers for name in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:  # not an IP address (a Unix socket's peer): nothing says it is local
        return False


async def metrics(request: Request) -> Response:
    state = state_of(request)
    assert state.metrics is not None  # the route exists only with metrics on
    if not from_this_machine(request):
        caller = await authenticate(request)
        if caller.role != "admin":
            raise Refused("not_admin", "Only this server's admins may read its metrics from another machine.")
    reading = await read(state.store, state.hub.clients)
    return Response(state.metrics.render(reading), media_type=CONTENT_TYPE)
