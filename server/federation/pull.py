"""Catching up on a peer's log: the next page is on the wire while the last one is checked and written.

A catch-up has three stages per page: fetching it (the peer's work and the network), checking it (structure on
the event loop, signatures on the verifier's worker processes) and writing it (the writer's group commit). Run one
after the other, each leaves the others' resources idle; here they overlap, through ``Store.ingest_stream`` (the
one validation path, checking a page while the one before is written) fed by ``pages`` (fetching the next page
while the last is checked).

Bounded: one page is fetched ahead, and at most ``AHEAD`` pages wait for the writer; when the writer is slow,
nothing more is fetched until it has caught up. A page's cursor is written only after the page itself committed,
in the writer's next transaction, so a catch-up cut short anywhere (a crash, a failing peer) resumes from the
last page written and never skips a message: at worst it fetches again what it already holds (a no-op).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import NamedTuple

from murmur.errors import PeerError
from murmur.server.federation import offers
from murmur.server.federation.answers import taken
from murmur.server.federation.peer_client import PeerClient, PullPage
from murmur.server.federation.repair import Counts, count
from murmur.server.state import ServerState
from murmur.store.group import group_of
from murmur.store.peers import Peer, from_peer, note_success

PULL_PAGE = 500  # messages asked for a page (a peer's log answers at most 1,000)
AHEAD = 4  # pages waiting for the writer at most: a slow writer then holds back the next request


class Bodies(NamedTuple):
    """What a page brought: its messages, the bytes they took in all, and the ids asked of the peer for them
    (a page of ids), which stay promised to it (``offers.Wanted``) until the page is written: until then an
    offer of one of them by another peer would be answered "lacking", and the body would come twice."""

    lines: list[bytes]
    size: int
    asked: Sequence[bytes] = ()


async def bodies_lacking(state: ServerState, peer: Peer, client: PeerClient, page: PullPage) -> Bodies:
    """The messages of a pulled page: a page of ids brings only those we lack, asked of this peer until the page
    is written (``catch_up`` keeps the promise)."""
    if page.ids is None:
        return Bodies(page.lines, page.size)
    lacking = await offers.lacking(state, peer, page.ids, "pull")
    if not lacking:
        return Bodies([], page.size)
    lines, size = await client.fetch([item.hex() for item in lacking])
    return Bodies(lines, page.size + size, lacking)


async def pages(client: PeerClient, after: int, *, wait: int = 0, ids: bool = False) -> AsyncIterator[PullPage]:
    """The peer's log after ``after``, page by page, each next page fetched while the caller uses the last one.

    Only the first request may wait (a long poll); the next one is asked for ahead only when the peer said more
    is waiting, so a caught-up catch-up never leaves a request behind it. ``ids``: ask for pages of ids
    (``PeerClient.pull``)."""
    ahead: asyncio.Task[PullPage] | None = asyncio.create_task(client.pull(after, limit=PULL_PAGE, wait=wait, ids=ids))
    try:
        while ahead is not None:
            page = await ahead
            ahead = asyncio.create_task(client.pull(page.cursor, limit=PULL_PAGE, ids=ids)) if page.more else None
            yield page
    finally:
        if ahead is not None:  # the caller stopped early: the page on its way is nobody's
            ahead.cancel()
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()  # it failed before it could be cancelled: retrieved, so it is not logged as lost


async def catch_up(
    state: ServerState,
    peer: Peer,
    client: PeerClient,
    bodies: Callable[[PullPage], Awaitable[Bodies]],
    *,
    wait: int = 0,
    ids: bool = False,
    clear_failures: Callable[[], bool] = lambda: True,
    report: Counts | None = None,
) -> None:
    """Store what the peer's log holds after our pull cursor, until the peer says nothing more is waiting.

    ``bodies`` gives a page's messages (a page of ids fetches those we lack, ``Bodies``). Each page's results are
    those of ``Store.ingest`` with the peer's origin and policy; once a page committed, its cursor is queued for
    the writer's next transaction (``clear_failures()``, asked then, says whether the peer's failure state goes
    with it), the promises of the ids it asked for are kept, and what it brought is noted and answered
    (``answers.taken``). Whatever
    ends the catch-up, the cursors of the pages committed are written before it returns or raises; a peer failing
    mid-way (``PeerError``) is raised once every page it sent before is written."""
    fetched: deque[tuple[PullPage, Bodies]] = deque()  # handed to ingest, oldest first
    group = group_of(state.store.writer)
    moved: list[asyncio.Future[None]] = []

    source = pages(client, peer.pull_cursor, wait=wait, ids=ids)
    failed: list[PeerError] = []

    async def lines() -> AsyncIterator[list[bytes]]:
        try:
            async for page in source:
                got = await bodies(page)
                fetched.append((page, got))
                yield got.lines
        except PeerError as error:  # raised once the pages before it are written and their cursors queued
            failed.append(error)

    stream = state.store.ingest_stream(lines(), origin=peer.origin, policy=from_peer(peer), ahead=AHEAD)
    try:
        async for results in stream:
            page, got = fetched.popleft()
            cursor = partial(note_success, key=peer.key, pull_cursor=page.cursor, clear_failures=clear_failures())
            moved.append(group.then(cursor))
            state.wanted.settle(got.asked)  # written (or not sent by the peer): others may be asked for them now
            await taken(state, client, results)
            if report is not None:
                report.fetched += len(got.lines)
                report.round_trips += 1
                report.bytes_in += got.size
                count(report, results)
        if failed:
            raise failed[0]
    finally:
        await stream.aclose()
        await source.aclose()  # closing the stream does not close what it reads: the page on its way is cancelled
        for done in moved:
            await asyncio.shield(done)
