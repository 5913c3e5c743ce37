"""The ASGI scope of a signed ``GET /api/v1/stream``, for tests that drive the stream as raw ASGI (httpx's ASGI
transport waits for a whole response, and a stream never ends)."""

from __future__ import annotations

from typing import Any

from murmur.httpsig import sign_request
from murmur.keys import Identity
from tests.server.conftest import Harness


def stream_scope(server: Harness, identity: Identity, query: str) -> dict[str, Any]:
    headers = sign_request(identity, "GET", "/api/v1/stream", query, b"", recipient=server.key).as_dict()
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/stream",
        "raw_path": b"/api/v1/stream",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"murmur.test"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 1),
        "server": ("murmur.test", 80),
    }
