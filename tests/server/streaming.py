"""The live stream driven as raw ASGI, for tests: httpx's ASGI transport waits for a whole response, and a
stream never ends."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.server.app import create_app
from tests.server.conftest import Harness
from tests.waiting import BOUND_S

Event = tuple[str, dict[str, Any]]


def stream_scope(server: Harness, identity: Identity, query: str) -> dict[str, Any]:
    """The ASGI scope of a signed ``GET /api/v1/stream`` with ``query``."""
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


def client_receive(hang_up: asyncio.Event) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The ASGI ``receive`` of a stream's client: its request (no body), then its hanging up once ``hang_up`` is set."""
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    return receive


async def stream_events(
    server: Harness,
    identity: Identity,
    enough: Callable[[list[Event]], bool],
    *,
    query: str = "cursor=0",
    then: Callable[[], Awaitable[object]] | None = None,
) -> list[Event]:
    """The stream's events, ``(event name, data)``, until ``enough`` of them came (by default resumed from the start
    of the log). ``then`` runs once the stream has opened (its position fixed), while it is listening."""
    scope = stream_scope(server, identity, query)
    received = bytearray()
    events: list[Event] = []
    done, hang_up, opened = asyncio.Event(), asyncio.Event(), asyncio.Event()
    receive = client_receive(hang_up)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        received.extend(message.get("body", b""))
        opened.set()
        *whole, rest = bytes(received).split(b"\n\n")
        received[:] = rest
        for event in whole:
            lines = event.decode().split("\n")
            name = next((line[7:] for line in lines if line.startswith("event: ")), "message")
            events.extend((name, json.loads(line[6:])) for line in lines if line.startswith("data: "))
        if enough(events):
            done.set()

    serving = asyncio.create_task(create_app(server.state)(scope, receive, send))
    try:
        if then is not None:
            await asyncio.wait_for(opened.wait(), BOUND_S)
            await then()
        await asyncio.wait_for(done.wait(), BOUND_S)
    finally:
        hang_up.set()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    return events
