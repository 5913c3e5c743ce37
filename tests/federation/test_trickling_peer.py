"""A peer that answers a byte at a time, each before the read timeout: its answer as a whole must still end.

httpx's ``timeout`` bounds each read, connect and write, not the answer: a peer sending one byte of a chunked
body every fraction of the timeout is never timed out, and the caller (a member's repair, which waits for every
peer; ``murmur sync``; a moderator's removal told to every peer) waits for as long as the peer likes, up to the
answer's byte cap at one byte a read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from murmur.keys import Identity
from murmur.server.federation.peer_client import PeerClient, PeerError
from murmur.store.peers import Peer
from tests.trickling import trickling_server

TIMEOUT_S = 1.0
BOUND_S = 6.0  # six times the timeout: past any deadline a fix would give the whole answer


@pytest.fixture
def trickling() -> Iterator[str]:
    """A server on 127.0.0.1 that answers 200 with a chunked body of one byte every fifth of the timeout."""
    with trickling_server(TIMEOUT_S / 5) as url:
        yield url


def _client(url: str, timeout: float = TIMEOUT_S) -> PeerClient:
    peer = Peer(
        key=Identity.generate().public_key, name="slow", url=url, mode="push-pull", proxy="", added_at=0,
        push_cursor=0, pull_cursor=0, last_contact=None, last_error="", failures=0, failing_since=None,
    )  # fmt: skip
    return PeerClient(Identity.generate(), peer, timeout=timeout)


async def test_a_peer_trickling_its_answer_is_given_up_on(trickling: str) -> None:
    client = _client(trickling)
    try:
        with pytest.raises(PeerError) as raised:
            await asyncio.wait_for(client.fetch(["ab" * 32]), BOUND_S)
    finally:
        await client.aclose()
    assert "too slow" in raised.value.message and "a fetch" in raised.value.message


async def test_a_peer_trickling_its_health_is_given_up_on(trickling: str) -> None:
    """``murmur doctor``'s look at a peer's clock reads its /health by another door than the signed requests."""
    client = _client(trickling)
    try:
        with pytest.raises(PeerError, match="too slow"):
            await asyncio.wait_for(client.clock(), BOUND_S)
    finally:
        await client.aclose()


async def test_a_peer_bringing_a_large_answer_steadily_over_a_slow_link_is_read_to_its_end() -> None:
    """Ten times the floor of murmur.deadlines, for longer in all than the deadline's start (three times the
    timeout): a deadline fixed at its start would give the page up; one the bytes move lets it come whole."""
    timeout = 0.2
    piece, pieces = b"\n" * 4096, 30  # 4 KiB every 0.05 s: 80 KiB/s for 1.5 s, past 0.6 s
    with trickling_server(timeout / 4, piece, pieces) as url:
        client = _client(url, timeout)
        try:
            lines, size = await asyncio.wait_for(client.fetch([f"{n:064x}" for n in range(10)]), 60 * timeout)
        finally:
            await client.aclose()
    assert (lines, size) == ([], pieces * len(piece))
