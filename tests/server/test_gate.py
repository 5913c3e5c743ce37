"""The gate the workers of one server share (murmur.server.gate): two clients on real socket pairs to one
``LocalGate``, as two workers ask their supervisor's."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from murmur.errors import Refused
from murmur.httpsig import ReplayCache
from murmur.server.gate import MEMBER, PEER, GateClient, GateServer, LocalGate
from murmur.server.ratelimit import RateLimiter

NOW = 1_800_000_000


@dataclass
class Guards:
    replay: ReplayCache
    limiter: RateLimiter | None
    peer_limiter: RateLimiter | None


@pytest.fixture
async def clients() -> AsyncIterator[list[GateClient]]:
    loop = asyncio.get_running_loop()
    gate = LocalGate(Guards(ReplayCache(window_s=10**10), RateLimiter(5), RateLimiter(0)))
    made: list[GateClient] = []
    ends: list[asyncio.BaseTransport] = []
    for _ in range(2):
        ours, theirs = socket.socketpair()
        server, _ = await loop.connect_accepted_socket(lambda: GateServer(gate), ours)
        client, protocol = await loop.connect_accepted_socket(GateClient, theirs)
        ends += [server, client]
        made.append(protocol)
    yield made
    for end in ends:
        end.close()


async def test_a_nonce_seen_by_one_client_is_refused_to_the_other(clients: list[GateClient]) -> None:
    first, second = clients
    assert await first.admit("k", "n1", NOW, None) == 0
    with pytest.raises(Refused) as refused:
        await second.admit("k", "n1", NOW, None)
    assert refused.value.code == "replayed"
    assert await second.admit("k", "n2", NOW, None) == 0  # another nonce, another request


async def test_both_clients_draw_from_one_bucket(clients: list[GateClient]) -> None:
    waits = [await clients[n % 2].admit("k", f"n{n}", NOW, MEMBER) for n in range(10)]
    assert sum(1 for w in waits if w == 0) == 5  # the bucket holds 5, however the requests are spread
    assert await clients[0].take(PEER, "k") == 0  # 0: the peer limit is off


async def test_many_requests_in_flight_are_answered_each_its_own(clients: list[GateClient]) -> None:
    first, _ = clients
    nonces = [f"n{n}" for n in range(200)] + ["n7"]  # the last repeats one of the first
    answers = await asyncio.gather(*(first.admit("k", n, NOW, None) for n in nonces), return_exceptions=True)
    assert answers[:200] == [0.0] * 200
    assert isinstance(answers[200], Refused) and answers[200].code == "replayed"


async def test_a_gate_gone_is_a_503_not_a_hang(clients: list[GateClient]) -> None:
    first, _ = clients
    assert first._transport is not None
    first._transport.close()
    await asyncio.sleep(0)  # the close is delivered on the next turn of the loop
    with pytest.raises(Refused) as refused:
        await first.admit("k", "n", NOW, None)
    assert refused.value.code == "storage_unavailable"
