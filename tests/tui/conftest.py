"""A real home server in the test's event loop (uvicorn on 127.0.0.1, port 0) and a TUI bound to it.

Streaming needs a real socket (ASGITransport buffers a whole response), so pilot tests run uvicorn as a
task; snapshot tests use the same server with the live stream off, a fixed clock and fixed keys.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from murmur.client.api import MurmurClient
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.drafts import post_draft
from murmur.client.tui.settings import TuiSettings
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.members import add_member
from tests.waiting import BOUND_S, until_stored

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z: every relative time in snapshots is measured from here


def seeded(n: int) -> Identity:
    return Identity.from_seed(bytes([n]) * 32)


ME, ALICE, BOB = seeded(1), seeded(2), seeded(3)


def bind(port: int = 0, *, listen: bool = True) -> socket.socket:
    """A socket on 127.0.0.1 ``port`` (0: one the kernel picks), listening unless asked not to. SO_REUSEPORT lets a
    test server's sockets on one port overlap (``LiveServer``), so the port is never free for another program to
    take; a socket bound but not listening holds the port while connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    if listen:
        sock.listen(64)
    return sock


class ReadyServer(uvicorn.Server):
    """uvicorn's server, with an event for "started": tests wait on it instead of polling ``started``."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    async def until_ready(self, serving: asyncio.Task[None]) -> None:
        """Return once the server accepts requests; fail at once if it ended before that."""
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait({ready, serving}, timeout=BOUND_S, return_when=asyncio.FIRST_COMPLETED)
        if not self.ready.is_set():
            ready.cancel()
            raise AssertionError("the test server did not start")


@dataclass
class LiveServer:
    store: Store
    state: ServerState
    port: int
    url: str
    server: ReadyServer | None = None
    task: asyncio.Task[None] | None = None
    clients: list[MurmurClient] = field(default_factory=list)
    # The port is held from its choice to the end of the test, never free for another program to take: the first
    # start serves on the socket that chose it; while stopped, a socket bound but not listening holds it (a client
    # is refused, as by a server that is down) until a restart has bound the same port again.
    listening: socket.socket | None = None
    holding: socket.socket | None = None

    async def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.state), log_level="error", access_log=False, lifespan="off", timeout_graceful_shutdown=0
        )
        self.server = server = ReadyServer(config)
        # A fresh socket each restart: uvicorn closes the one it served on, and a restart keeps the same port.
        sock, self.listening = self.listening or bind(self.port), None
        self.release()
        self.task = asyncio.create_task(server.serve(sockets=[sock]))
        await server.until_ready(self.task)

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.holding = self.holding or bind(self.port, listen=False)
            self.server.should_exit = True
            self.server.force_exit = True
            await asyncio.wait_for(self.task, BOUND_S)
            self.server = self.task = None

    def release(self) -> None:
        """Let go of the port held while stopped."""
        if self.holding is not None:
            self.holding.close()
            self.holding = None

    async def until_stored(self, holds: Callable[[], Awaitable[bool]]) -> None:
        await until_stored(self.state.hub, holds)

    def client(self, identity: Identity) -> MurmurClient:
        # A slow answer on a loaded machine is not an offline server: only the tests that stop the server should
        # ever see the TUI go offline.
        api = MurmurClient(self.url, identity, timeout=BOUND_S)
        self.clients.append(api)
        return api

    async def ingest(self, *messages: dict[str, Any], origin: str = "local") -> None:
        results = await self.store.ingest(list(messages), origin=origin, now=2**53 - 1)
        assert all(r.status in ("stored", "duplicate") for r in results), results
        seqs = [r.seq for r in results if r.seq is not None]
        if seqs:
            self.state.hub.stored(max(seqs))

    async def post(self, who: Identity, text: str, *, at: int = NOW - 60_000, **kw: Any) -> dict[str, Any]:
        message = sign_draft(who, post_draft(text, **kw), created_at=at)
        await self.ingest(message)
        return message

    async def sign(self, who: Identity, draft: dict[str, Any], *, at: int = NOW - 30_000) -> dict[str, Any]:
        message = sign_draft(who, draft, created_at=at)
        await self.ingest(message)
        return message

    async def messages(self, kind: str) -> list[dict[str, Any]]:
        import json

        out = []
        for entry in await self.store.log_after(0, 100_000):
            message = json.loads(entry.raw)
            if message["kind"] == kind:
                out.append(message)
        return out


@pytest.fixture
async def live(tmp_path: Path, migrated: Callable[[Path], None]) -> AsyncIterator[LiveServer]:
    migrated(tmp_path / "server.db")
    store = await Store.open(tmp_path / "server.db", durability="normal")
    for who in (ME, ALICE, BOB):
        await add_member(store, who.public_key)
    listening = bind()
    port = listening.getsockname()[1]
    state = ServerState(
        config=ServerConfig(name="testbox", port=port, rate_per_minute=0), identity=seeded(9), store=store
    )
    server = LiveServer(store, state, port, f"http://127.0.0.1:{port}", listening=listening)
    await server.start()
    try:
        yield server
    finally:
        for api in server.clients:
            await api.aclose()
        await server.stop()
        server.release()
        await store.close()


def make_app(server: LiveServer, tmp_path: Path, *, live: bool = True, **kw: Any) -> MurmurApp:
    kw.setdefault("clock", lambda: NOW)
    settings = TuiSettings(
        profile="default", server=server.url, cache_path=tmp_path / "tui-cache.json", live=live, backoff_max_s=0.5, **kw
    )
    return MurmurApp(server.client(ME), settings)


async def until(pilot: Any, condition: Any, timeout: float = BOUND_S) -> None:
    """Let the app run until ``condition()`` holds (workers and the stream are asynchronous).

    Textual has no event for "some widget's state changed", so this looks again after each short pause; the
    bound is generous and only turns a hang into a failure with a reason.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {getattr(condition, '__name__', condition)}")
        await pilot.pause(0.05)


async def ran_its_course(pilot: Any) -> None:
    """Let what the last key started run its course: its handlers, then every worker they started (the live
    stream's aside, which never ends). Before asserting that a key sent nothing: a bare pause returns while a
    worker may still be on its way to the server, and the assertion could then never fail."""
    await pilot.pause()
    started = [w for w in pilot.app.workers if w.group != "stream" and not w.is_finished]
    if started:
        await pilot.app.workers.wait_for_complete(started)
    await pilot.pause()
