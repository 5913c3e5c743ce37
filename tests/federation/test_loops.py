"""Federation never fails silently: every failure in a peer loop or in the supervisor is logged, counted against
the peer (``murmur peer list`` shows it), and retried with a growing backoff; nothing restarts in a tight loop.

The federator's waits go through an injected ``sleep``: here it records each delay and wakes the test, so the
tests wait on those events, never on the clock.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.federator import Federator
from murmur.store.peers import Peer, add_peer, get_peer
from tests.federation.conftest import Network, Node

FAKE_URL = "http://fake.test"
GOOD_PUSH_ANSWER = b'{"results": [{"status": "stored"}]}'  # one message waits to be pushed


class Clock:
    """Stands in for asyncio.sleep: records each delay asked for and lets the caller go on at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.changed = asyncio.Condition()

    async def sleep(self, delay: float) -> None:
        async with self.changed:
            self.delays.append(delay)
            self.changed.notify_all()
        await asyncio.sleep(0)

    async def wait_for(self, count: int) -> list[float]:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: len(self.delays) >= count), 30)
        return self.delays[:count]


def fake(push_body: bytes) -> httpx.MockTransport:
    """A peer that answers pushes with ``push_body`` and pulls with an empty, well-formed page; it knows no
    offers (an older murmur), so every message goes to it whole, by push."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/fed/v1/offers":
            return httpx.Response(404)
        if request.url.path == "/fed/v1/log":
            return httpx.Response(200, headers={"Murmur-Cursor": "0", "Murmur-More": "0"})
        return httpx.Response(200, content=push_body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


async def setup(net: Network, push_body: bytes, clock: Clock) -> tuple[Node, Peer, Federator]:
    a = await net.node("a")
    peer = await add_peer(a.state.store, Identity.generate().public_key, FAKE_URL, name="fake")
    await a.state.store.ingest([sign_draft(Identity.generate(), {"body": {"text": "to push"}})])
    transport = fake(push_body)
    federator = Federator(
        a.state, transport_for=lambda p: transport, sleep=clock.sleep, pull_interval=3600, repair_interval=0
    )
    return a, peer, federator


def assert_doubling(delays: list[float], base: float = 1.0) -> None:
    """Each delay is the doubling backoff from ``base``, times the jitter factor in [0.5, 1]."""
    for n, delay in enumerate(delays):
        assert base * 2**n * 0.5 <= delay <= base * 2**n, delays


async def test_a_push_answered_with_a_json_array_is_logged_counted_and_backed_off(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    a, peer, federator = await setup(net, b"[]", clock)
    caplog.set_level(logging.WARNING, logger="murmur.federation")
    await federator.reconcile()
    [push_task, _pull_task] = federator._running[peer.key][1]
    delays = await clock.wait_for(4)
    assert_doubling(delays)
    current = await get_peer(a.state.store, peer.key)
    assert current is not None and current.failures >= 4
    assert "answered a push with an array, not an object" in current.last_error
    assert current.push_cursor == 0  # nothing acknowledged: the message waits for a peer that answers well
    lines = [r for r in caplog.records if "answered a push with an array" in r.getMessage()]
    assert lines and all(r.levelno == logging.WARNING for r in lines)
    assert not push_task.done()  # one loop, backing off: not a loop dying and being restarted
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await federator.stop()


async def test_an_unexpected_error_in_a_loop_is_logged_with_its_traceback_and_counted(
    net: Network, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    a, peer, federator = await setup(net, b"{}", clock)

    async def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("a bug in push_once")

    monkeypatch.setattr(federator, "push_once", broken)
    await federator.reconcile()
    assert_doubling(await clock.wait_for(3))
    current = await get_peer(a.state.store, peer.key)
    assert current is not None and current.failures >= 3
    assert "RuntimeError: a bug in push_once" in current.last_error
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "push loop failed" in r.getMessage()]
    assert errors and errors[0].exc_info is not None  # the traceback goes to the log
    assert not federator._running[peer.key][1][0].done()
    await federator.stop()


async def test_the_supervisor_survives_failing_to_read_the_peers(
    net: Network, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    _, peer, federator = await setup(net, GOOD_PUSH_ANSWER, clock)
    calls = 0
    real = federator.reconcile

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise RuntimeError(f"the peers table is unreadable ({calls})")
        await real()

    monkeypatch.setattr(federator, "reconcile", flaky)
    runner = asyncio.create_task(federator.run())
    delays = await clock.wait_for(4)
    assert_doubling(delays[:3])  # three failures back off; the fourth wait is the normal re-read interval
    assert delays[3] == federator.peers_poll and peer.key in federator._running
    logged = [r for r in caplog.records if "reading the peers failed" in r.getMessage()]
    assert len(logged) == 3 and all(r.exc_info for r in logged)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner


async def test_a_supervisor_that_stops_is_logged_and_restarted_with_backoff(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    _, _, federator = await setup(net, GOOD_PUSH_ANSWER, clock)
    federator.backoff_base = 0.01  # the restart is scheduled on the loop's own timer
    runs = 0
    settled = asyncio.Event()

    async def dies_twice() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise RuntimeError(f"supervisor bug {runs}")
        settled.set()
        await asyncio.Event().wait()

    federator.run = dies_twice  # type: ignore[method-assign]
    federator.start()
    await asyncio.wait_for(settled.wait(), 30)
    assert federator.watched is not None and federator.watched.restarts == 2
    logged = [r for r in caplog.records if "federation supervisor stopped" in r.getMessage()]
    assert len(logged) == 2 and "supervisor bug 2" in logged[1].getMessage() and logged[1].exc_info
    await federator.close()
    assert federator.watched._task is not None and federator.watched._task.done()


async def test_a_peer_loop_that_ends_is_logged_and_restarted_only_after_backoff(
    net: Network, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    _, peer, federator = await setup(net, b"{}", clock)
    federator.backoff_base = 3600.0  # a restart not due for an hour: the test sees it is not immediate

    async def escapes(*args: object) -> None:
        raise RuntimeError("escaped every handler")  # standing in for the whole loop: no handler around it

    monkeypatch.setattr(federator, "_loop", escapes)
    await federator.reconcile()
    tasks = federator._running[peer.key][1]
    await asyncio.wait(tasks)
    monkeypatch.undo()
    caplog.set_level(logging.ERROR)
    await federator.reconcile()  # sees them ended: logs were written by the done-callbacks, restart is deferred
    assert peer.key not in federator._running
    assert [r for r in caplog.records if "ended: RuntimeError" in r.getMessage()]
    await federator.reconcile()
    assert peer.key not in federator._running  # still waiting out the backoff, not restarting in a tight loop
    federator._restart_at[peer.key] = 0.0  # the backoff has passed
    await federator.reconcile()
    assert peer.key in federator._running
    await federator.stop()


async def test_a_peer_that_answers_pulls_but_garbles_pushes_does_not_look_healthy(net: Network) -> None:
    clock = Clock()
    a, peer, federator = await setup(net, b"[]", clock)
    await federator.reconcile()
    await clock.wait_for(2)
    client = federator.client(peer)
    await federator.pull_once(await get_peer(a.state.store, peer.key), client)  # type: ignore[arg-type]
    await client.aclose()
    current = await get_peer(a.state.store, peer.key)
    assert current is not None and current.failures >= 2 and "array" in current.last_error
    await federator.stop()
