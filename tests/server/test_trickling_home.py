"""A home server (or a proxy before it) answering a byte at a time, each before the read timeout: the client gives
up on the answer as a whole, saying so, rather than holding the CLI or a TUI worker for as long as it likes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from murmur.client.api import MurmurClient, ServerUnreachable
from murmur.client.cli.doctor import _home
from murmur.keys import Identity
from tests.trickling import trickling_server

TIMEOUT_S = 0.5
BOUND_S = 3.0  # six times the timeout: past the answer's deadline


@pytest.fixture
def trickling() -> Iterator[str]:
    with trickling_server(TIMEOUT_S / 5) as url:
        yield url


async def test_a_home_server_trickling_its_answer_is_given_up_on(trickling: str) -> None:
    async with MurmurClient(trickling, Identity.generate(), timeout=TIMEOUT_S) as api:
        with pytest.raises(ServerUnreachable, match="too slow") as raised:
            await asyncio.wait_for(api.health(), BOUND_S)
    assert "Try again" in str(raised.value)


async def test_a_signed_request_to_a_trickling_home_server_is_given_up_on(trickling: str) -> None:
    """A signed request first learns the server's key from its info: both within the one deadline."""
    async with MurmurClient(trickling, Identity.generate(), timeout=TIMEOUT_S) as api:
        with pytest.raises(ServerUnreachable, match="too slow"):
            await asyncio.wait_for(api.request("GET", "/api/v1/timeline/home"), BOUND_S)


async def test_doctor_says_a_trickling_home_server_is_too_slow(trickling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("murmur.client.cli.doctor.PROBE_TIMEOUT_S", TIMEOUT_S)
    findings = await asyncio.wait_for(_home(trickling), BOUND_S)
    assert [f.message for f in findings] == [f"too slow: /health took over {TIMEOUT_S:g} s to answer"]
