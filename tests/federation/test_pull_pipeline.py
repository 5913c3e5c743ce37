"""A catch-up overlaps its pages (the next is fetched while the last is checked and written) but stays bounded,
and a page's cursor moves only once the page is written: in-process, against a fake peer's log.

The fake log counts, at every request, how many pages were asked for and not yet written (told by the store's
ingest listener, which hears a batch only after its commit). A writer made slow by yielding to the event loop
at every commit (no wall time) gives an unbounded fetcher every chance to run ahead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from urllib.parse import parse_qs

import httpx
import pytest

from murmur.server.federation import pull
from murmur.store import group
from murmur.store.ingest import IngestResult
from murmur.store.outcomes import listen
from murmur.store.peers import Peer, get_peer
from tests.federation.conftest import Network, Node
from tests.federation.test_peer_answers import fake_peer, raw_post

PAGE = 5
PAGES = 10


class FakeLog:
    """A peer's log of ``PAGES`` pages; a request after ``fail_after`` is answered with HTTP 500."""

    def __init__(self, node: Node, peer: Peer) -> None:
        self.lines = [raw_post(f"n{i}") for i in range(PAGE * PAGES)]
        self.fail_after: int | None = None
        self.asked = 0
        self.written = 0
        self.in_flight: list[int] = []  # pages asked for and not yet written, at each request
        node.federator.transport_for = lambda p: httpx.MockTransport(self.answer)

        def heard(results: Sequence[IngestResult], origin: str) -> None:
            if origin == peer.origin:
                self.written += 1

        listen(node.state.store.writer, heard)

    def answer(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        after, limit = int(query["after"][0]), int(query["limit"][0])
        self.asked += 1
        self.in_flight.append(self.asked - self.written)
        if self.fail_after is not None and after >= self.fail_after:
            return httpx.Response(500)
        page = self.lines[after : after + limit]
        cursor = after + len(page)
        headers = {"Murmur-Cursor": str(cursor), "Murmur-More": "1" if cursor < len(self.lines) else "0"}
        return httpx.Response(200, content=b"".join(line + b"\n" for line in page), headers=headers)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pull, "PULL_PAGE", PAGE)


@pytest.fixture
def slow_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    commit = group._GroupCommit._commit

    async def slow(self: group._GroupCommit, jobs: list[group._Job]) -> None:
        for _ in range(50):
            await asyncio.sleep(0)  # yields to the event loop: every other task runs before this commit
        await commit(self, jobs)

    monkeypatch.setattr(group._GroupCommit, "_commit", slow)


async def held(node: Node, log: FakeLog) -> list[bool]:
    return [await node.state.store.get_raw(json.loads(line)["id"]) is not None for line in log.lines]


@pytest.mark.usefixtures("slow_writer")
async def test_the_next_page_is_fetched_while_the_last_is_written_and_no_further(net: Network) -> None:
    a = await net.node("a")
    peer = await fake_peer(a)
    log = FakeLog(a, peer)
    report = await a.federator.sync(peer, push=False)
    assert report.error == "" and report.stored == len(log.lines) and report.round_trips == PAGES
    assert await a.state.store.count() == len(log.lines)
    # Overlap: page 2 is asked for before page 1 is written. Bound: never more than AHEAD pages waiting for the
    # writer, one being checked and one on the wire, however slow the writer.
    assert log.in_flight[1] == 2
    assert max(log.in_flight) <= pull.AHEAD + 2, log.in_flight
    after = await get_peer(a.state.store, peer.key)
    assert after is not None and after.pull_cursor == len(log.lines) and after.failures == 0


async def test_a_catch_up_cut_short_keeps_the_cursor_behind_what_is_written_and_resumes(net: Network) -> None:
    a = await net.node("a")
    peer = await fake_peer(a)
    log = FakeLog(a, peer)
    log.fail_after = 3 * PAGE  # pages 1 to 3 answer, page 4 fails
    report = await a.federator.sync(peer, push=False)
    assert "HTTP 500" in report.error
    cut = await get_peer(a.state.store, peer.key)
    assert cut is not None and cut.failures == 1
    holding = await held(a, log)
    assert all(holding[: cut.pull_cursor]), "the cursor passed a message that was never written"
    # What came before the failure is written and the cursor past it: only the failed page is asked again.
    assert cut.pull_cursor == 3 * PAGE and not all(holding)

    log.fail_after = None
    again = await a.federator.sync(peer, push=False)
    assert again.error == ""
    assert all(await held(a, log)) and await a.state.store.count() == len(log.lines)
    done = await get_peer(a.state.store, peer.key)
    assert done is not None and done.pull_cursor == len(log.lines) and done.failures == 0
