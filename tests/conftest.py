"""Shared fixtures: temporary homes and stores on real files, deterministic identities."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from murmur.keys import Identity
from murmur.store import Store

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def alice() -> Identity:
    return Identity.from_seed(bytes(range(32)))


@pytest.fixture
def bob() -> Identity:
    return Identity.from_seed(bytes(range(1, 33)))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "murmur.db")
    try:
        yield s
    finally:
        await s.close()
