"""Live streams under a real uvicorn (httptools), where the shared reader writes each round straight onto the
sockets (``Wire.write_now``) with no stream task woken: a socket that pushes back, a client that hangs up in the
middle of a round and a client that reconnects from its last event each lose nothing and get nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server import eventstream, fanout
from murmur.server.app import create_app
from tests.server.conftest import Harness
from tests.server.test_stream_fanout import counted, publish_posts
from tests.waiting import BOUND_S


@dataclass
class Uvicorn:
    """The harness's server behind uvicorn on 127.0.0.1; the server's side of each connection, in order."""

    server: uvicorn.Server
    port: int
    known: set[asyncio.Protocol] = field(default_factory=set)

    def newest(self) -> Any:
        """The server's side of the one connection opened since the last call (uvicorn's protocol object)."""
        fresh = [c for c in self.server.server_state.connections if c not in self.known]
        assert len(fresh) == 1, fresh
        self.known.add(fresh[0])
        return fresh[0]


@contextlib.asynccontextmanager
async def served(harness: Harness, http: str = "httptools") -> AsyncIterator[Uvicorn]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections wait in the backlog until uvicorn accepts: nothing to wait for here
    config = uvicorn.Config(
        create_app(harness.state), http=http, lifespan="off", log_config=None, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield Uvicorn(server, sock.getsockname()[1])
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, BOUND_S)
        sock.close()


class Listening:
    """A member's stream, read by murmur's own client over HTTP: the messages' ids and the events' ids as they
    come, and a way to wait for them."""

    def __init__(self, api: MurmurClient, cursor: int | None = None) -> None:
        self.api = api
        self.cursor = cursor
        self.messages: list[str] = []
        self.ids: list[int] = []
        self.kinds: list[str] = []  # every event's name, notifications included
        self.opened = asyncio.Event()
        self._changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Listening:
        self.task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for event in self.api.stream(self.cursor):
            self.kinds.append(event.event)
            if event.event == "message":
                self.messages.append(event.data["message"]["id"])
                self.ids.append(int(event.id or 0))
                self._changed.set()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(BOUND_S):
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        await self.api.aclose()


async def open_stream(server: Harness, served: Uvicorn, who: Identity, cursor: int | None = None) -> Listening:
    await server.member(who)
    before = server.state.hub.clients
    listening = Listening(MurmurClient(f"http://127.0.0.1:{served.port}", who), cursor).start()
    await until_live(server, lambda: server.state.hub.clients > before)  # its place in the log is fixed
    return listening


async def until_live(server: Harness, holds: Callable[[], bool]) -> None:
    """Wait, on the fanout's joins and leaves, until ``holds()``."""
    changed = asyncio.Event()
    state = server.state.fanout
    join, leave = state.join, state.leave

    def joined(subscriber: fanout.Subscriber) -> bool:
        changed.set()
        return join(subscriber)

    def left(subscriber: fanout.Subscriber) -> None:
        changed.set()
        leave(subscriber)

    state.join, state.leave = joined, left  # type: ignore[method-assign]
    try:
        async with asyncio.timeout(BOUND_S):
            while not holds():
                changed.clear()
                await changed.wait()
    finally:
        state.join, state.leave = join, leave  # type: ignore[method-assign]


@pytest.mark.parametrize("http", ["httptools", "h11"])
async def test_each_round_goes_straight_onto_the_sockets_in_order(
    server: Harness, monkeypatch: pytest.MonkeyPatch, http: str
) -> None:
    """Under uvicorn's h11 protocol (which frames bodies itself) every write goes through send, as under any
    server whose writes are not known."""
    direct = counted(monkeypatch, eventstream.Wire, "write_now")
    author = Identity.generate()
    await server.member(author)
    async with served(server, http) as uv:
        streams = []
        for _ in range(3):
            streams.append(await open_stream(server, uv, Identity.generate()))
            uv.newest()
        ids = await publish_posts(server, author, 5)
        for listening in streams:
            await listening.until(len(ids))
            assert listening.messages == ids  # in order, none twice, none missing
        if http == "httptools":
            assert direct[0] >= len(streams)  # written by the reader onto each socket, not by each stream's task
        else:
            assert direct[0] == 0
        for listening in streams:
            await listening.stop()


async def test_a_socket_pushing_back_is_written_by_its_own_stream_and_loses_nothing(server: Harness) -> None:
    """uvicorn pauses writing when the socket's buffer passes its high-water mark (``pause_writing``, as the
    transport calls it): the reader writes nothing onto it then, its stream waits alone, falls behind, and reads
    the log from its last event once the socket drains."""
    server.state.fanout.behind = 2  # the fourth post puts the held stream behind
    author = Identity.generate()
    await server.member(author)
    async with served(server) as uv:
        held = await open_stream(server, uv, Identity.generate())
        held_side = uv.newest()
        quick = await open_stream(server, uv, Identity.generate())
        uv.newest()
        held_side.pause_writing()
        ids = await publish_posts(server, author, 4)
        await quick.until(len(ids))
        assert quick.messages == ids
        assert held.messages == []  # nothing was written past uvicorn's flow control
        held_side.resume_writing()
        await held.until(len(ids))
        ids += await publish_posts(server, author, 2, "after")
        for listening in (held, quick):
            await listening.until(len(ids))
            assert listening.messages == ids  # in order, none twice, none missing
            assert listening.ids == sorted(set(listening.ids))
            await listening.stop()


async def test_a_client_hanging_up_in_the_middle_of_a_round_leaves_the_others_whole(
    server: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    author, leaving_one = Identity.generate(), Identity.generate()
    await server.member(author)
    async with served(server) as uv:
        first = await open_stream(server, uv, Identity.generate())
        uv.newest()
        leaving = await open_stream(server, uv, leaving_one)
        leaving_side = uv.newest()
        last = await open_stream(server, uv, Identity.generate())
        uv.newest()
        ids = await publish_posts(server, author, 1, "before")
        for listening in (first, leaving, last):
            await listening.until(1)
        wake, write_now = fanout.Subscriber.wake, eventstream.Wire.write_now
        gone: list[bytes] = []  # written straight onto the cut connection: uvloop refuses that, failing the round

        def cut_first(subscriber: fanout.Subscriber) -> None:
            # The connection drops between the first stream's write of this round and the last one's.
            if subscriber.key == leaving_one.public_key and leaving_side.transport is not None:
                leaving_side.transport.abort()
            wake(subscriber)

        def noted(wire: eventstream.Wire, data: bytes) -> None:
            if wire._cycle is leaving_side.cycle and leaving_side.transport.is_closing():
                gone.append(data)
            write_now(wire, data)

        monkeypatch.setattr(fanout.Subscriber, "wake", cut_first)
        monkeypatch.setattr(eventstream.Wire, "write_now", noted)
        ids += await publish_posts(server, author, 1, "during")
        await until_live(server, lambda: server.state.hub.clients == 2)
        monkeypatch.setattr(fanout.Subscriber, "wake", wake)
        assert gone == []
        ids += await publish_posts(server, author, 2, "after")
        for listening in (first, last):
            await listening.until(len(ids))
            assert listening.messages == ids
        assert server.state.fanout.live == 2
        for listening in (first, leaving, last):
            await listening.stop()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_a_client_reconnecting_from_its_last_event_gets_the_rest_once(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    author, member = Identity.generate(), Identity.generate()
    await server.member(author)
    async with served(server) as uv:
        kept = await open_stream(server, uv, Identity.generate())  # keeps the reader ahead of the reconnecting one
        uv.newest()
        first = await open_stream(server, uv, member)
        uv.newest()
        ids = await publish_posts(server, author, 3, "first")
        await first.until(3)
        await first.stop()
        await until_live(server, lambda: server.state.hub.clients == 1)
        ids += await publish_posts(server, author, 2, "away")
        direct = counted(monkeypatch, eventstream.Wire, "write_now")
        again = await open_stream(server, uv, member, cursor=first.ids[-1])
        ids += await publish_posts(server, author, 2, "back")
        await again.until(4)
        assert first.messages + again.messages == ids  # nothing lost, nothing twice
        assert direct[0] >= 2  # the live part went straight onto its socket
        await kept.until(len(ids))
        for listening in (kept, again):
            await listening.stop()


async def test_a_member_with_its_own_events_in_a_round_gets_them_framed_as_its_own(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round writes the shared bytes, framed once, to most streams, and a mentioned member's own bytes to it."""
    direct = counted(monkeypatch, eventstream.Wire, "write_now")
    ada, bob, cy = Identity.generate(), Identity.generate(), Identity.generate()
    await server.member(cy)
    async with served(server) as uv:
        for_ada = await open_stream(server, uv, ada)
        for_bob = await open_stream(server, uv, bob)
        mention = sign_draft(cy, {"body": {"text": f"hi @{ada.public_key}"}, "tags": [["mention", ada.public_key]]})
        await server.client(cy).publish(mention)
        ids = [mention["id"], *await publish_posts(server, cy, 1, "later")]
        for listening in (for_ada, for_bob):
            await listening.until(2)
            assert listening.messages == ids
        assert for_ada.kinds == ["message", "notification", "message"]
        assert for_bob.kinds == ["message", "message"]
        assert direct[0] >= 4
        for listening in (for_ada, for_bob):
            await listening.stop()
