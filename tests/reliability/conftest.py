"""Fixtures for the reliability suite: server processes that are always ended, whatever the test did."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import Server

ServerFactory = Callable[..., Server]

# Settings every server in this suite starts with: anyone may join (no invite round trip per member), no rate
# limit unless a test sets one, and short federation timings so that convergence takes seconds, not minutes.
BASE_SETTINGS: dict[str, Any] = {
    "open_registration": True,
    "rate_per_minute": 0,
    "peer_rate_per_minute": 0,
    "retry_max_seconds": 2,
    "pull_interval_seconds": 2,
}


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[ServerFactory]:
    made: list[Server] = []

    def make(name: str = "server", start: bool = True, **settings: Any) -> Server:
        server = Server(tmp_path / name, {**BASE_SETTINGS, **settings})
        made.append(server)
        return server.start() if start else server

    yield make
    for server in made:
        if server.running():
            server.kill()
