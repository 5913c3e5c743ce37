"""The live stream's answer ends when its client leaves, however the server says so, and its stream leaves the
shared reader with it: nothing keeps writing to a client that is gone."""

from __future__ import annotations

import asyncio
from typing import Any

from murmur.keys import Identity
from murmur.server.app import create_app
from tests.server.conftest import Harness
from tests.server.streaming import client_receive, stream_scope
from tests.waiting import BOUND_S


async def test_a_client_hanging_up_ends_the_stream_and_its_place_in_the_reader(server: Harness) -> None:
    """An ASGI 2.3 server (uvicorn) says so only through ``receive``: sending to a client gone does nothing."""
    listener = Identity.generate()
    await server.member(listener)
    opened, hang_up = asyncio.Event(), asyncio.Event()
    receive = client_receive(hang_up)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            opened.set()

    answering = asyncio.create_task(create_app(server.state)(stream_scope(server, listener, ""), receive, send))
    await asyncio.wait_for(opened.wait(), BOUND_S)
    assert server.state.hub.clients == 1
    hang_up.set()
    await asyncio.wait_for(answering, BOUND_S)  # ends by itself, nothing cancels it
    assert server.state.hub.clients == 0 and server.state.fanout.live == 0


async def test_a_send_failing_because_the_client_left_ends_the_stream_quietly(server: Harness) -> None:
    """A server of ASGI 2.4 or later says the client left by failing the send with an OSError."""
    listener = Identity.generate()
    await server.member(listener)
    never = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            raise ConnectionResetError("the client reset the connection")

    app = create_app(server.state)
    await asyncio.wait_for(app(stream_scope(server, listener, ""), receive, send), BOUND_S)  # no error raised
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert server.state.hub.clients == 0 and server.state.fanout.live == 0
