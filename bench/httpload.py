"""A load generator that is not the bottleneck: raw HTTP/1.1 over asyncio streams, in worker processes.

httpx tops out near 500 requests/s on this machine kind, far below what uvicorn answers, so the figures that
load a server send pre-built request bytes over kept-alive sockets instead: a request is one ``write``, a
response one ``readuntil`` for the head and one ``readexactly`` for the body. Everything that can be made
ahead (message bodies, signed messages) is made before the clock starts; only the request signature is made
just in time, because the server refuses signatures older than 60 s and remembers every nonce.

``Sink`` is a trivial HTTP server in its own process that reads each body and answers a fixed small JSON:
sending the same load to it measures the generator's own ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.corpus import mp_context
from murmur.httpsig import sign_request
from murmur.keys import Identity

HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    wire_bytes: int  # head and body as received


def build_request(
    method: str, target: str, body: bytes, identity: Identity | None, *, recipient: str, host: str = "127.0.0.1"
) -> bytes:
    """The bytes of one request, signed now by ``identity`` for the server whose key is ``recipient``."""
    path, _, query = target.partition("?")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    if body:
        lines.append("Content-Type: application/json")
    if identity is not None:
        signed = sign_request(identity, method, path, query, body, recipient=recipient).as_dict()
        lines.extend(f"{name}: {value}" for name, value in signed.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


class Connection:
    """One kept-alive HTTP/1.1 connection; a request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def send(self, request: bytes) -> Reply:
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(HEAD_END)
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return Reply(status, body, len(head) + length)

    async def close(self) -> None:
        self.writer.close()
        # The peer may already be gone at the end of a run; nothing is lost by not waiting.
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


# -- a load run in worker processes ---------------------------------------------------------------------------

MakeRequest = Callable[[int], bytes]
"""Job number -> request bytes (signed just in time)."""
CheckReply = Callable[[int, Reply], int]
"""Job number and reply -> units done (messages stored, posts accepted); raises on a wrong answer."""


@dataclass
class WorkerResult:
    units: int = 0
    requests: int = 0
    started: float = 0.0
    ended: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def _drive(
    port: int, jobs: Sequence[int], make: MakeRequest, check: CheckReply, connections: int, seconds: float
) -> WorkerResult:
    result = WorkerResult()
    queue = list(reversed(jobs))
    conns = [await Connection.open(port) for _ in range(connections)]
    result.started = time.perf_counter()
    deadline = result.started + seconds

    async def loop(conn: Connection) -> None:
        while queue and time.perf_counter() < deadline:
            job = queue.pop()
            request = make(job)
            t0 = time.perf_counter()
            reply = await conn.send(request)
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.requests += 1
            result.statuses[reply.status] = result.statuses.get(reply.status, 0) + 1
            try:
                result.units += check(job, reply)
            except AssertionError as exc:
                if len(result.errors) < 5:
                    result.errors.append(str(exc)[:300])

    await asyncio.gather(*(loop(c) for c in conns))
    result.ended = time.perf_counter()
    for conn in conns:
        await conn.close()
    return result


def _worker(
    port: int,
    jobs: Sequence[int],
    make: MakeRequest,
    check: CheckReply,
    connections: int,
    seconds: float,
    barrier: Any,
    out: Any,
) -> None:
    barrier.wait(timeout=60)
    out.put(asyncio.run(_drive(port, jobs, make, check, connections, seconds)))


@dataclass(frozen=True, slots=True)
class LoadResult:
    units: int
    requests: int
    seconds: float  # from the first worker's start to the last one's end
    latencies_ms: list[float]
    statuses: dict[int, int]
    errors: list[str]

    @property
    def rate(self) -> float:
        return self.units / self.seconds if self.seconds > 0 else 0.0


def run_load(
    port: int,
    jobs: int,
    make: MakeRequest,
    check: CheckReply,
    *,
    processes: int = 1,
    connections: int = 4,
    seconds: float = 30.0,
) -> LoadResult:
    """Send jobs ``0 .. jobs-1`` (split among ``processes``, each with ``connections`` sockets) until done or
    ``seconds`` have passed. ``make`` and ``check`` reach the workers by fork, so they may close over big data."""
    ctx = mp_context()
    barrier = ctx.Barrier(processes + 1)
    out = ctx.Queue()
    split = [list(range(p, jobs, processes)) for p in range(processes)]
    procs = [
        ctx.Process(target=_worker, args=(port, part, make, check, connections, seconds, barrier, out), daemon=True)
        for part in split
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=60)
    results: list[WorkerResult] = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    statuses: dict[int, int] = {}
    for r in results:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    # perf_counter is CLOCK_MONOTONIC on Linux: comparable across processes of one machine.
    span = max(r.ended for r in results) - min(r.started for r in results)
    return LoadResult(
        units=sum(r.units for r in results),
        requests=sum(r.requests for r in results),
        seconds=span,
        latencies_ms=[x for r in results for x in r.latencies_ms],
        statuses=statuses,
        errors=[e for r in results for e in r.errors],
    )


# -- the sink: a server that does nothing, to show the generator's ceiling ------------------------------------

SINK_REPLY = b'{"stored":0}'


async def _sink_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(HEAD_END)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (len(SINK_REPLY), SINK_REPLY)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def _sink_main(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_sink_client, sock=sock, limit=1 << 22)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Sink:
    """A do-nothing HTTP server in its own process on 127.0.0.1."""

    key = "0" * 64  # the server key requests are signed for; the sink checks nothing

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port: int = self.sock.getsockname()[1]
        self.proc: multiprocessing.process.BaseProcess = mp_context().Process(
            target=_sink_main, args=(self.sock,), daemon=True
        )

    def __enter__(self) -> Sink:
        self.proc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.pid is not None and self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.join(timeout=5)
        self.sock.close()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]
