"""An answer that stays open (``text/event-stream``), written straight onto the ASGI ``send``, or onto the socket.

Starlette's ``StreamingResponse`` pulls each chunk from an async generator and runs its writing in an anyio task
group; a live stream writes once per round to every open stream, so that machinery was paid a thousand times a
round. Here the body is a coroutine handed a ``Wire``, whose ``write`` sends its bytes as they are, with nothing
between the stream and the server but the middleware. It runs in a task of its own beside one that waits for the
client to hang up (which an ASGI 2.3 server such as uvicorn says only through ``receive``: sending to a client gone
does nothing), and whichever ends first ends the other.

A ``Wire`` can also write without waiting (``ready``, ``write_now``), from whatever task holds it: the live streams'
one reader writes each round's bytes to every stream that way, with no task of the stream's woken for it. That
goes under ASGI, so only where the server is known and its own state says the write is what its ``send`` would do
at once: uvicorn's httptools protocol, with the answer begun in chunked coding, not ended, the client still there
and the socket not pushing back (uvicorn's flow control: its ``send`` would wait). Anywhere else ``ready`` is False
and the stream's own task writes through ``send``. Only the answer's body goes under the middleware, which never
touches a body here (``ServerKeyHeader`` and ``RequestTimer`` read the start alone); its start and its end go
through them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

try:
    from uvicorn.protocols.http import httptools_impl
except ImportError:  # without httptools, uvicorn's h11 protocol frames bodies itself: every write goes through send
    httptools_impl = None

SERVER_SEND = "murmur.server_send"
"""The scope key of the server's own ``send``, before any middleware wraps it (set by the app, ``server.app``)."""

Body = Callable[["Wire"], Awaitable[None]]


class _Left(Exception):
    """The client left: a server of ASGI 2.4 or later says so by failing the send with an ``OSError``."""


class Wire:
    """One open answer's way to its client: ``write`` through the ASGI ``send``, waiting as the server makes it
    wait; ``write_now`` onto the socket at once, only when ``ready`` (see the module docstring)."""

    def __init__(self, send: Send, cycle: Any | None) -> None:
        self._send = send
        self._cycle = cycle  # uvicorn's state of this request, when the server is one whose writes we know

    async def write(self, data: bytes, more: bool = True) -> None:
        try:
            await self._send({"type": "http.response.body", "body": data, "more_body": more})
        except OSError as exc:
            raise _Left from exc

    def ready(self) -> bool:
        """Whether ``write_now`` may write: what uvicorn's ``send`` would write at once, without waiting."""
        cycle = self._cycle
        return (
            cycle is not None
            and not cycle.flow.write_paused
            and not cycle.disconnected
            and not cycle.response_complete
            and not cycle.transport.is_closing()
        )

    def write_now(self, data: bytes) -> None:
        """Write ``data`` as one chunk of the answer, as uvicorn's ``send`` frames it; only when ``ready()``."""
        self._cycle.transport.write(_chunk(data))


class _Framed:
    """The bytes last framed, and their frame: a round hands the very same bytes to every stream, framed once."""

    data = b""
    chunk = b"0\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    if data is not _Framed.data:
        _Framed.data, _Framed.chunk = data, b"%x\r\n%s\r\n" % (len(data), data)
    return _Framed.chunk


def _uvicorn_cycle(scope: Scope) -> Any | None:
    """uvicorn's state of this request, when the server is uvicorn's httptools protocol (its ``send`` is a method of
    that state, kept in the scope before any middleware wraps it)."""
    cycle = getattr(scope.get(SERVER_SEND), "__self__", None)
    if httptools_impl is None or not isinstance(cycle, httptools_impl.RequestResponseCycle):
        return None
    # What Wire reads of it: a uvicorn that keeps its state otherwise gets every write through send instead.
    known = all(hasattr(cycle, name) for name in _CYCLE) and hasattr(getattr(cycle, "flow", None), "write_paused")
    return cycle if known else None


_CYCLE = ("transport", "flow", "disconnected", "response_complete", "chunked_encoding")


class EventStream(Response):
    """``body(wire)`` writes the stream; the answer ends when it returns (or raises), or when the client leaves."""

    media_type = "text/event-stream"

    def __init__(self, body: Body, headers: Mapping[str, str] | None = None) -> None:
        self.body_writer = body
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        writing = loop.create_task(self._write(scope, send), name="murmur event stream")
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

    async def _write(self, scope: Scope, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        cycle = _uvicorn_cycle(scope)
        # Chunked once begun: no length given and not a HEAD (whose answer has no body)
        wire = Wire(send, cycle if cycle is not None and cycle.chunked_encoding is True else None)
        with contextlib.suppress(_Left):
            await self.body_writer(wire)
            await wire.write(b"", more=False)


async def _left(receive: Receive) -> None:
    """Return once the client has hung up."""
    while (await receive())["type"] != "http.disconnect":
        pass
