"""Live-stream load: many members holding ``GET /api/v1/stream`` open while others publish at a steady rate.

Two processes besides the server, so neither side's Python is the server's: the listeners (one uvloop process,
an ``asyncio.Protocol`` per stream, which only finds ``id: N`` of each ``event: message`` and notes when it came)
and the publisher (posts signed ahead, each request signed just before it is sent, started on the clock at the
given rate, not when the previous one is answered, over enough kept-alive connections that a slow answer
does not hold the next post back). Both read ``time.perf_counter`` (CLOCK_MONOTONIC on Linux), so a post's
send time and its arrival on a stream compare across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.corpus import mp_context
from bench.httpload import Connection, build_request
from murmur.keys import Identity

STREAM = "/api/v1/stream"
PUBLISH = "/api/v1/messages"
OPENED = b": murmur stream"
EVENT = re.compile(rb"id: (\d+)\nevent: message\n")
SEQ = re.compile(rb'"seq":(\d+)')
PUBLISH_CONNECTIONS = 32


class _Listener(asyncio.Protocol):
    """One open stream: when each message event arrived, by seq."""

    def __init__(self, opened: asyncio.Event) -> None:
        self.opened_event = opened
        self.opened = False
        self.rest = b""
        self.arrivals: list[tuple[int, float]] = []
        self.closed = False

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.rest + data
        end = buf.rfind(b"\n\n")
        if end < 0:
            self.rest = buf
            return
        whole, self.rest = buf[: end + 2], buf[end + 2 :]
        if not self.opened and OPENED in whole:
            self.opened = True
            self.opened_event.set()
        self.arrivals.extend((int(m.group(1)), now) for m in EVENT.finditer(whole))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True


async def _listen(port: int, key: str, members: Sequence[Identity], pipe: Any) -> None:
    loop = asyncio.get_running_loop()
    listeners: list[_Listener] = []
    for member in members:
        opened = asyncio.Event()
        transport, listener = await loop.create_connection(lambda o=opened: _Listener(o), "127.0.0.1", port)
        listeners.append(listener)
        transport.write(build_request("GET", STREAM, b"", member, recipient=key))
        await asyncio.wait_for(opened.wait(), 60)
    pipe.send(("ready", len(listeners)))
    sends: dict[int, float] = await loop.run_in_executor(None, pipe.recv)
    wanted = len(sends)
    deadline = time.perf_counter() + 30.0
    while time.perf_counter() < deadline and any(len(x.arrivals) < wanted and not x.closed for x in listeners):
        await asyncio.sleep(0.05)
    latencies: list[float] = []
    missing = 0
    for listener in listeners:
        got = {seq: at for seq, at in listener.arrivals if seq in sends}
        missing += wanted - len(got)
        latencies.extend((at - sends[seq]) * 1000 for seq, at in got.items())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send(("done", latencies, missing, usage.ru_utime + usage.ru_stime))


def _listen_main(port: int, key: str, members: Sequence[Identity], pipe: Any) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_listen(port, key, members, pipe))


@dataclass
class Published:
    sends: dict[int, float] = field(default_factory=dict)  # seq -> perf_counter when its request was written
    latencies_ms: list[float] = field(default_factory=list)
    refused: int = 0


async def _publish(port: int, key: str, posts: Sequence[tuple[Identity, bytes]], rate: float) -> Published:
    done = Published()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    conns = [await Connection.open(port) for _ in range(PUBLISH_CONNECTIONS)]
    for conn in conns:
        pool.put_nowait(conn)

    async def one(member: Identity, body: bytes) -> None:
        conn = await pool.get()
        request = build_request("POST", PUBLISH, body, member, recipient=key)
        sent = time.perf_counter()
        reply = await conn.send(request)
        done.latencies_ms.append((time.perf_counter() - sent) * 1000)
        pool.put_nowait(conn)
        found = SEQ.search(reply.body)
        if reply.status != 201 or found is None:
            done.refused += 1
            return
        done.sends[int(found.group(1))] = sent

    start = time.perf_counter()
    tasks = []
    for n, (member, body) in enumerate(posts):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(member, body)))
    await asyncio.gather(*tasks)
    for conn in conns:
        await conn.close()
    return done


def _publish_main(port: int, key: str, posts: Sequence[tuple[Identity, bytes]], rate: float, pipe: Any) -> None:
    pipe.send(asyncio.run(_publish(port, key, posts, rate)))


@dataclass(frozen=True, slots=True)
class FanoutResult:
    streams: int
    publish_ms: list[float]
    delivery_ms: list[float]
    missing: int  # (stream, post) pairs never delivered
    refused: int  # posts not answered 201
    listener_cpu_s: float
    server_cpu_s: float  # from the moment every stream was open until every post had arrived everywhere


def run_fanout(
    port: int,
    key: str,
    listeners: Sequence[Identity],
    posts: Sequence[tuple[Identity, bytes]],
    rate: float,
    server_cpu: Callable[[], float],
) -> FanoutResult:
    """Open a stream for each of ``listeners``, then publish ``posts`` at ``rate`` per second; every stream
    must see every post (waiting up to 30 s after the last is answered). ``server_cpu()``: the CPU seconds the
    server has used so far, read once the streams are open and again at the end."""
    ctx = mp_context()
    listen_end = None
    listen_proc = None
    if listeners:
        listen_end, child = ctx.Pipe()
        listen_proc = ctx.Process(target=_listen_main, args=(port, key, listeners, child), daemon=True)
        listen_proc.start()
        tag, count = listen_end.recv()
        assert tag == "ready" and count == len(listeners)
    cpu_before = server_cpu()
    pub_end, child = ctx.Pipe()
    pub_proc = ctx.Process(target=_publish_main, args=(port, key, posts, rate, child), daemon=True)
    pub_proc.start()
    published: Published = pub_end.recv()
    pub_proc.join(timeout=10)
    delivery: list[float] = []
    missing, cpu = 0, 0.0
    if listen_end is not None and listen_proc is not None:
        listen_end.send(published.sends)
        _, delivery, missing, cpu = listen_end.recv()
        listen_proc.join(timeout=10)
    server_cpu_s = server_cpu() - cpu_before
    return FanoutResult(len(listeners), published.latencies_ms, delivery, missing, published.refused, cpu, server_cpu_s)
