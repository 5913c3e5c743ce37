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


async def test_a_large_answer_coming_steadily_over_a_slow_link_is_read_to_its_end() -> None:
    """Ten times the floor of murmur.deadlines, for longer in all than the deadline's start (three times the
    timeout): a deadline fixed at its start would give the answer up; one the bytes move lets it come whole."""
    timeout, server_key = 0.2, Identity.generate().public_key
    header = b"murmur-server-key: %s\r\n" % server_key.encode()
    # 4 KiB every 0.05 s: 80 KiB/s for 1.5 s, past 0.6 s
    with trickling_server(timeout / 4, b" " * 4096, 30, last=b'{"status":"ok"}', headers=header) as url:
        async with MurmurClient(url, Identity.generate(), server_key=server_key, timeout=timeout) as api:
            assert await asyncio.wait_for(api.health(), 60 * timeout) == {"status": "ok"}


async def test_a_repair_is_waited_for_while_the_server_asks_its_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server answers a repair once its peers did, up to REPAIR_S: the client waits that long past its own
    read timeout for the answer to begin, and shows what each peer did rather than a timeout of its server."""
    timeout, server_key = 0.2, Identity.generate().public_key
    monkeypatch.setattr("murmur.client.api.REPAIR_S", 10 * timeout)
    answer = b'{"key":null,"peers":[],"missing":[],"absent":[]}'
    header = b"murmur-server-key: %s\r\n" % server_key.encode()
    with trickling_server(timeout / 4, pieces=0, last=answer, late=3 * timeout, headers=header) as url:
        async with MurmurClient(url, Identity.generate(), server_key=server_key, timeout=timeout) as api:
            repaired = await asyncio.wait_for(api.repair(ids=["ab" * 32]), 60 * timeout)
    assert (repaired["peers"], repaired["absent"]) == ([], [])
