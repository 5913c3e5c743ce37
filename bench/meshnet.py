"""N real ``murmur serve`` processes joined in a topology, every link through a byte-counting TCP relay.

Each ordered pair (dialer, target) has a relay of its own on 127.0.0.1: the dialer's peer URL for the target
is that relay, so the bytes it carries toward the target are what the target received from that dialer
(requests, heads and bodies) and the bytes back are what the dialer received (answers). Summed per server,
they are everything that server received over federation, whichever side opened the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import ServerProcess, create, seed
from murmur.server.config import ServerConfig
from murmur.store import Store
from murmur.store.peers import add_peer

TOPOLOGIES = ("chain", "ring", "full")


def links(topology: str, count: int) -> list[tuple[int, int]]:
    """The undirected links of a topology over servers 0..count-1 (each pair once, lower index first)."""
    if topology == "full":
        return [(i, j) for i in range(count) for j in range(i + 1, count)]
    chain = [(i, i + 1) for i in range(count - 1)]
    if topology == "ring" and count > 2:
        return [*chain, (0, count - 1)]
    return chain


@dataclass
class Link:
    """One direction of one link: the dialer's connections to the target, counted."""

    target_port: int
    port: int = 0
    to_target: int = 0  # bytes the target received
    to_dialer: int = 0  # bytes the dialer received
    connections: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # by path, as their request lines passed


async def pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Callable[[bytes], None] | None = None
) -> None:
    """Copy ``reader`` to ``writer`` until it ends (or a connection fails), handing each chunk to ``count`` on
    its way; then close ``writer``, so the far end sees the close as it would have without a relay in between."""
    try:
        while data := await reader.read(65536):
            if count is not None:
                count(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Relays:
    """Every counting relay, served by one event loop in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.links: dict[tuple[int, int], Link] = {}
        self.last = time.monotonic()  # when bytes last passed any relay

    def open(self, dialer: int, target: int, target_port: int) -> Link:
        link = Link(target_port)

        def up(data: bytes) -> None:
            link.to_target += len(data)
            self.last = time.monotonic()
            if data[:5] in (b"POST ", b"GET /"):  # a read that starts a request (keep-alive: one at a time)
                link.requests[data.split(b" ", 2)[1].split(b"?")[0].decode("latin-1")] += 1

        def down(data: bytes) -> None:
            link.to_dialer += len(data)
            self.last = time.monotonic()

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            link.connections += 1
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", link.target_port)
            except OSError:  # the target is down: the dialer sees its connection closed, as it would
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_writer, up), pipe(up_reader, writer, down))

        async def serve() -> int:
            server = await asyncio.start_server(relay, "127.0.0.1", 0)
            return int(server.sockets[0].getsockname()[1])

        link.port = asyncio.run_coroutine_threadsafe(serve(), self.loop).result()
        self.links[(dialer, target)] = link
        return link

    def reset(self) -> None:
        for link in self.links.values():
            link.to_target = link.to_dialer = 0
            link.requests.clear()

    def requests(self) -> dict[str, int]:
        """Requests sent over every link since the last reset, by path."""
        total: Counter[str] = Counter()
        for link in self.links.values():
            total.update(link.requests)
        return dict(sorted(total.items()))

    def received(self, count: int) -> list[int]:
        """Bytes each server received since the last reset."""
        got = [0] * count
        for (dialer, target), link in self.links.items():
            got[target] += link.to_target
            got[dialer] += link.to_dialer
        return got

    def quiet(self, seconds: float, bound: float) -> bool:
        """Wait until no byte passed any relay for ``seconds`` (at most ``bound``); whether it went quiet."""
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last
            if idle >= seconds:
                return True
            time.sleep(seconds - idle)
        return False

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@dataclass
class Mesh:
    servers: list[ServerProcess]
    relays: Relays
    topology: str
    edges: list[tuple[int, int]] = field(default_factory=list)

    def close(self) -> None:
        if self.servers:
            with ThreadPoolExecutor(max_workers=len(self.servers)) as pool:  # each stop waits on its own process
                list(pool.map(ServerProcess.stop, self.servers))
        self.relays.close()


async def _add_peers(db: Path, peers: Iterable[tuple[str, str, str]]) -> None:
    async with await Store.open(db) as store:
        for key, url, name in peers:
            await add_peer(store, key, url, name=name)


def start(root: Path, topology: str, count: int, member: str) -> Mesh:
    """Start ``count`` servers (``member`` a member of the first), then join them in ``topology`` through relays;
    the peers are added while the servers run, as ``murmur peer add`` does."""
    config = ServerConfig(rate_per_minute=0, peer_rate_per_minute=0)
    dirs = [create(root / f"{topology}-{n}", config) for n in range(count)]
    seed(dirs[0], members=[member])
    servers: list[ServerProcess] = []
    relays = Relays()
    mesh = Mesh(servers, relays, topology, links(topology, count))
    try:
        servers.extend(ServerProcess(data.root) for data in dirs)
        with ThreadPoolExecutor(max_workers=count) as pool:  # each start waits on its own process
            list(pool.map(ServerProcess.start, servers))
        for here, there in mesh.edges:
            for dialer, target in ((here, there), (there, here)):
                relays.open(dialer, target, servers[target].port)
        for n, data in enumerate(dirs):
            peers = [
                (servers[t].key, f"http://127.0.0.1:{relays.links[(d, t)].port}", f"s{t}")
                for (d, t) in relays.links
                if d == n
            ]
            asyncio.run(_add_peers(data.db_path, peers))
    except BaseException:
        mesh.close()
        raise
    return mesh


def holding(db: Path, ids: list[bytes]) -> int:
    """How many of ``ids`` the server's database holds (read-only, beside the running server)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(ids))
        return int(conn.execute(f"SELECT count(*) FROM messages WHERE id IN ({marks})", ids).fetchone()[0])
    finally:
        conn.close()
