"""The wake-ups between the processes of one server (murmur.server.bell), over real socket pairs, in one loop:
a supervisor's bell joined to two workers' bells, as ``WorkerPool`` joins them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from murmur.server.bell import Bell, parse
from murmur.server.hub import Hub
from tests.waiting import BOUND_S


class Topology:
    def __init__(self, workers: int) -> None:
        self.supervisor_bell = Bell()
        self.supervisor = Hub(self.supervisor_bell)
        self.workers: list[Hub] = []
        for _ in range(workers):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.supervisor_bell.add(ours, self.supervisor_bell.relaying(self.supervisor.hear))
            worker_bell = Bell()
            hub = Hub(worker_bell)
            worker_bell.add(theirs, lambda _, datagram, hub=hub: hub.hear(datagram))
            self.workers.append(hub)

    def close(self) -> None:
        self.supervisor_bell.close()
        for hub in self.workers:
            assert hub.others is not None
            hub.others.close()


@pytest.fixture
async def topology() -> AsyncIterator[Topology]:
    made = Topology(2)
    yield made
    made.close()


async def test_a_store_on_one_worker_wakes_the_other_and_the_supervisor(topology: Topology) -> None:
    first, second = topology.workers
    first.stored(41)
    assert await second.wait(BOUND_S)
    assert second.last_seq == 41
    assert topology.supervisor.last_seq == 41  # the federation loops' hub: it relayed the wake to the second
    assert first.last_seq == 41


async def test_a_store_by_the_supervisor_wakes_every_worker(topology: Topology) -> None:
    topology.supervisor.stored(7)
    # Waited on together: both workers may hear it in the same turn of the loop.
    assert all(await asyncio.gather(*(hub.wait(BOUND_S) for hub in topology.workers)))
    assert [hub.last_seq for hub in topology.workers] == [7, 7]


async def test_a_peers_confirmation_heard_by_a_worker_wakes_the_supervisors_pushers(topology: Topology) -> None:
    topology.workers[0].confirmed()  # POST /fed/v1/answers, answered by a worker
    assert await topology.supervisor.wait(BOUND_S)  # where the pushers wait
    assert topology.supervisor.confirmations == 1


def test_a_bad_datagram_is_ignored() -> None:
    assert parse(b"") is None
    assert parse(b"sx") is None
    assert parse(b"w[1]") is None
    assert parse(b"s12") == 12


async def test_stores_in_one_turn_of_the_loop_ring_once_with_the_last() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    others = Bell()
    others.add(ours, lambda _, datagram: None)
    hub = Hub(others)
    try:
        for seq in (3, 4, 5):  # a group commit's posts, answered in one turn
            hub.stored(seq)
        await asyncio.sleep(0)  # one turn: the ring scheduled for its end goes out
        theirs.setblocking(False)
        assert theirs.recv(100) == b"s5"
        with pytest.raises(BlockingIOError):
            theirs.recv(100)
    finally:
        others.close()
        theirs.close()
