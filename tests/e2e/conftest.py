"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import ServerProcess


@pytest.fixture
def procs() -> Iterator[list[ServerProcess]]:
    """Servers a test starts; whichever still run at the end are stopped."""
    started: list[ServerProcess] = []
    yield started
    for proc in started:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.stop()
