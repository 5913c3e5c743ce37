"""An in-process server over a real store, read through its web paths with no signature at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from murmur.keys import Identity
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store
from tests.web.site import Site


@pytest.fixture
async def site(tmp_path: Path, migrated: Callable[[Path], None]) -> AsyncIterator[Site]:
    migrated(tmp_path / "server.db")
    store = await Store.open(tmp_path / "server.db")
    state = ServerState(config=ServerConfig(name="test", rate_per_minute=0), identity=Identity.generate(), store=store)
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://murmur.test") as http:
        try:
            yield Site(store, http)
        finally:
            await store.close()
