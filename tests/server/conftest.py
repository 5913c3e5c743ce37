"""An in-process home server (real SQLite file, real signatures) and signed clients for its members."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.members import add_member


@contextmanager
def handed_in_at(ms: int) -> Iterator[None]:
    """A member's door (``murmur.store.audience.MemberDoor``) reads its clock as ``ms`` meanwhile: what a test sets
    up as handed in then, without waiting for the time to pass."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("murmur.store.audience.doors.now_ms", lambda: ms)
        yield


@dataclass
class Harness:
    state: ServerState
    transport: httpx.ASGITransport
    clients: list[MurmurClient]

    @property
    def key(self) -> str:
        return self.state.identity.public_key

    def client(self, identity: Identity) -> MurmurClient:
        api = MurmurClient("http://murmur.test", identity, transport=self.transport)
        self.clients.append(api)
        return api

    async def member(self, identity: Identity | None = None) -> MurmurClient:
        identity = identity or Identity.generate()
        await add_member(self.state.store, identity.public_key)
        return self.client(identity)


@asynccontextmanager
async def serving(path: Path, database: str | None, identity: Identity | None = None) -> AsyncIterator[Harness]:
    """A home server on the store at ``path`` (or ``database``), migrated already; ``identity``: the server's key
    (one restored from a backup keeps it)."""
    store = await Store.open(path, database=database)
    state = ServerState(
        config=ServerConfig(name="test", max_body_bytes=64 * 1024, rate_per_minute=0),
        identity=identity or Identity.generate(),
        store=store,
    )
    harness = Harness(state, httpx.ASGITransport(app=create_app(state)), [])
    try:
        yield harness
    finally:
        for api in harness.clients:
            await api.aclose()
        await store.close()


@pytest.fixture
async def server(tmp_path: Path, database: str | None, migrated: Callable[[Path], None]) -> AsyncIterator[Harness]:
    if database is None:
        migrated(tmp_path / "server.db")
    async with serving(tmp_path / "server.db", database) as harness:
        yield harness


MemberFactory = Callable[[], Awaitable[MurmurClient]]
