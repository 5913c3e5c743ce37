"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1, for putting between two murmur servers.

A server's peer URL points at the proxy; the proxy forwards each request to the real peer, except that, while
``faulty`` is set, it picks a fault per request from a seeded generator:

    drop      close the connection without forwarding (the request never arrives)
    lose      forward, then close without answering (it arrives, but the sender never hears so: a resend follows)
    reset     answer with a TCP reset (SO_LINGER 0)
    delay     wait 0.1-1.5 s, then forward
    error     answer 500 without forwarding
    limit     answer 429 with Retry-After: 1 without forwarding
    dup       forward twice, answer with the first answer (the second is a replay the peer must refuse)
    reorder   answer 503 and hold the request; forward it after the next request has been forwarded

Faults are taken in turn (in an order shuffled by the seed), so that every kind is injected once the proxy has
faulted as many requests as there are kinds, however the requests happen to be timed. With ``partitioned`` set,
every connection is closed at once: a network cut. The proxy runs its own event loop in a thread so that tests
can stay synchronous around real processes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import socket
import struct
import threading

FAULTS = ("drop", "lose", "reset", "delay", "error", "limit", "dup", "reorder")
HEAD_LIMIT = 64 * 1024


class Request:
    def __init__(self, head: bytes, body: bytes) -> None:
        self.head = head
        self.body = body

    def upstream_bytes(self) -> bytes:
        """The request as sent upstream: one request per connection, so the answer ends at EOF."""
        lines = [line for line in self.head.split(b"\r\n") if line and not line.lower().startswith(b"connection:")]
        return b"\r\n".join([*lines, b"Connection: close", b"", b""]) + self.body


def _canned(status: int, reason: str, extra: str = "") -> bytes:
    body = b'{"error":{"code":"proxy_fault","reason":"injected by the test proxy"}}'
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class FaultProxy:
    def __init__(self, upstream_port: int, *, seed: int = 0, faults: tuple[str, ...] = FAULTS) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.faults = list(faults)
        self.rng.shuffle(self.faults)
        self._turn = 0
        self.fault_rate = 0.5
        self.faulty = False
        self.partitioned = False
        self.counts: collections.Counter[str] = collections.Counter()
        self.port = 0
        self._held: list[Request] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault-proxy")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def heal(self) -> None:
        """Stop injecting faults and forward what is still held back."""
        self.faulty = False
        self.partitioned = False
        asyncio.run_coroutine_threadsafe(self._flush_held(), self._loop).result(30)

    def close(self) -> None:
        async def shut() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- one client connection -------------------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                if self.partitioned:
                    self.counts["partition"] += 1
                    return
                request = await self._read_request(reader)
                if request is None:
                    return
                if not await self._handle(request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = await reader.readexactly(length) if length else b""
        return Request(head, body)

    async def _handle(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the client connection must end."""
        fault = "pass"
        if self.partitioned:
            fault = "partition"
        elif self.faulty and self.rng.random() < self.fault_rate:
            fault = self.faults[self._turn % len(self.faults)]
            self._turn += 1
        self.counts[fault] += 1
        if fault == "partition" or fault == "drop":
            return False
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault == "error":
            writer.write(_canned(500, "Internal Server Error"))
        elif fault == "limit":
            writer.write(_canned(429, "Too Many Requests", "retry-after: 1\r\n"))
        elif fault == "reorder":
            self._held.append(request)
            writer.write(_canned(503, "Service Unavailable"))
        else:
            if fault == "delay":
                await asyncio.sleep(self.rng.uniform(0.1, 1.5))
            answer = await self._forward(request)
            if fault == "dup":
                await self._forward(request)
            await self._flush_held()
            if answer is None:
                return False
            if fault == "lose":
                return False
            writer.write(answer)
        await writer.drain()
        return True

    async def _flush_held(self) -> None:
        held, self._held = self._held, []
        for request in held:
            await self._forward(request)

    async def _forward(self, request: Request) -> bytes | None:
        """Send one request to the real server; its whole answer, made keep-alive for our client."""
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            return None
        try:
            up_writer.write(request.upstream_bytes())
            await up_writer.drain()
            data = await up_reader.read(-1)
        except (ConnectionError, OSError):
            return None
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                up_writer.close()
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
        assert not any(line.lower().startswith(b"transfer-encoding:") for line in lines), "chunked answers unhandled"
        if not any(line.lower().startswith(b"content-length:") for line in lines):
            lines.append(b"content-length: %d" % len(body))
        return b"\r\n".join(lines) + b"\r\n\r\n" + body
