"""An answer that stays open (``text/event-stream``), written straight onto the ASGI ``send``.

Starlette's ``StreamingResponse`` pulls each chunk from an async generator and runs its writing in an anyio task
group; a live stream writes once per round to every open stream, so that machinery was paid a thousand times a
round. Here the body is a coroutine handed ``write``, which sends its bytes as they are, with nothing between the
stream and the server but the middleware. It runs in a task of its own beside one that waits for the client to
hang up (which an ASGI 2.3 server such as uvicorn says only through ``receive``: sending to a client gone does
nothing), and whichever ends first ends the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Write = Callable[[bytes], Awaitable[None]]
Body = Callable[[Write], Awaitable[None]]


class _Left(Exception):
    """The client left: a server of ASGI 2.4 or later says so by failing the send with an ``OSError``."""


class EventStream(Response):
    """``body(write)`` writes the stream; the answer ends when it returns (or raises), or when the client leaves."""

    media_type = "text/event-stream"

    def __init__(self, body: Body, headers: Mapping[str, str] | None = None) -> None:
        self.body_writer = body
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        writing = loop.create_task(self._write(send), name="murmur event stream")
        leaving = loop.create_task(_left(receive), name="murmur event stream: client")
        try:
            await asyncio.wait((writing, leaving), return_when=asyncio.FIRST_COMPLETED)
        finally:
            leaving.cancel()
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await leaving
            with contextlib.suppress(asyncio.CancelledError):
                await writing  # its own error, if it failed, is the answer's

    async def _write(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})

        async def write(data: bytes, more: bool = True) -> None:
            try:
                await send({"type": "http.response.body", "body": data, "more_body": more})
            except OSError as exc:
                raise _Left from exc

        with contextlib.suppress(_Left):
            await self.body_writer(write)
            await write(b"", more=False)


async def _left(receive: Receive) -> None:
    """Return once the client has hung up."""
    while (await receive())["type"] != "http.disconnect":
        pass
