"""Several home servers in one process, talking to each other through httpx ASGI transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.federation.federator import Federator
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.peers import Peer, add_peer, get_peer
from tests.waiting import until_stored


@dataclass
class Node:
    name: str
    state: ServerState
    transport: httpx.ASGITransport
    federator: Federator
    clients: list[MurmurClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.name}.test"

    @property
    def key(self) -> str:
        return self.state.identity.public_key

    async def member(self, identity: Identity | None = None) -> tuple[Identity, MurmurClient]:
        identity = identity or Identity.generate()
        await add_member(self.state.store, identity.public_key)
        api = MurmurClient(self.url, identity, transport=self.transport)
        self.clients.append(api)
        return identity, api

    async def peer(self, other: Node) -> Peer:
        return await get_peer(self.state.store, other.key)  # type: ignore[return-value]

    async def until_stored(self, holds: Callable[[], Awaitable[bool]]) -> None:
        await until_stored(self.state.hub, holds)

    async def has(self, msg_id: str) -> bool:
        return await self.state.store.get_raw(msg_id) is not None

    async def push(self, other: Node) -> None:
        """Push to ``other`` until nothing is left."""
        client = self.federator.client(await self.peer(other))
        try:
            while await self.federator.push_once(await self.peer(other), client):
                pass
        finally:
            await client.aclose()

    async def pull(self, other: Node) -> None:
        client = self.federator.client(await self.peer(other))
        try:
            while await self.federator.pull_once(await self.peer(other), client):
                pass
        finally:
            await client.aclose()


class Network:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.nodes: dict[str, Node] = {}

    def transport_for(self, peer: Peer) -> httpx.AsyncBaseTransport | None:
        for node in self.nodes.values():
            if node.url == peer.url:
                return node.transport
        return None

    async def node(self, name: str) -> Node:
        store = await Store.open(self.tmp_path / f"{name}.db")
        state = ServerState(
            config=ServerConfig(name=name, rate_per_minute=0, peer_rate_per_minute=0),
            identity=Identity.generate(),
            store=store,
            transport_for=self.transport_for,
        )
        federator = Federator(state, backoff_base=0.01, backoff_max=0.05)
        node = Node(name, state, httpx.ASGITransport(app=create_app(state)), federator)
        self.nodes[name] = node
        return node

    async def link(self, a: Node, b: Node, *, a_mode: str = "push-pull", b_mode: str = "push-pull") -> None:
        await add_peer(a.state.store, b.key, b.url, name=b.name, mode=a_mode)
        await add_peer(b.state.store, a.key, a.url, name=a.name, mode=b_mode)

    async def close(self) -> None:
        for node in self.nodes.values():
            await node.federator.stop()
            for api in node.clients:
                await api.aclose()
            await node.state.store.close()


@pytest.fixture
async def net(tmp_path: Path) -> AsyncIterator[Network]:
    network = Network(tmp_path)
    try:
        yield network
    finally:
        await network.close()
