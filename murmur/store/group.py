"""Group commit: the server's door to the store.

Batches of concurrent requests, each validated on its own, are stored together in one transaction, because
with durability ``full`` every commit costs an fsync and a fixed number of round trips whatever it holds.
Each request still gets exactly the results it would have had alone, and its answer only after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiosqlite

from murmur.errors import StoreError
from murmur.message import Verified
from murmur.store.db import Writer
from murmur.store.ingest import IngestResult, Item, Policy, store_batch, to_write, validate_all
from murmur.store.outcomes import settled

log = logging.getLogger("murmur.store")

Write = Callable[[aiosqlite.Connection], Awaitable[None]]
"""A small write riding along in a group's transaction (a peer's pull cursor): run on the connection holding it."""


@dataclass
class _Job:
    valid: list[tuple[int, Verified]]
    results: list[IngestResult | None]
    origin: str
    done: asyncio.Future[None]
    write: Write | None = None


class _GroupCommit:
    """Batches waiting for the writer, stored together once it is free.

    While one transaction commits, the batches that arrive queue here; the next transaction takes all of
    them. Each keeps its own results, in its own order, as if stored one after the other: batches are merged
    into one ``store_batch`` call, except that a batch holding a delete starts a new call (in the same
    transaction), so a delete never sees a message of an earlier batch as "in the same batch".
    """

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.pending: list[_Job] = []
        self.task: asyncio.Task[None] | None = None

    def submit(
        self, valid: list[tuple[int, Verified]], results: list[IngestResult | None], origin: str
    ) -> asyncio.Future[None]:
        """Queue a validated batch behind those already queued; the future is done once it is committed."""
        return self._queue(_Job(valid, results, origin, asyncio.get_running_loop().create_future()))

    def then(self, write: Write) -> asyncio.Future[None]:
        """Queue ``write`` for the next transaction, after the batches already queued (so after every batch whose
        commit its caller has seen); the future is done once it is committed. Nobody waits for a transaction of
        its own: a peer's cursor moves with the next batch written, and its fsync."""
        return self._queue(_Job([], [], "", asyncio.get_running_loop().create_future(), write))

    def _queue(self, job: _Job) -> asyncio.Future[None]:
        self.pending.append(job)
        if self.task is None or self.task.done():
            # A task of its own, not the first caller: a caller that goes away must not strand the others.
            self.task = asyncio.create_task(self._drain(), name="murmur-group-commit")
        return job.done

    async def store(self, valid: list[tuple[int, Verified]], results: list[IngestResult | None], origin: str) -> None:
        await asyncio.shield(self.submit(valid, results, origin))

    async def _drain(self) -> None:
        jobs: list[_Job] = []
        try:
            while self.pending:
                jobs, self.pending = self.pending, []
                await self._drain_once(jobs)
        except BaseException as exc:
            # Cancelled (the server is stopping) or broken: no waiter may be left hanging on a future that
            # nothing will settle. The writer has rolled back whatever was not committed.
            stranded = [*jobs, *self.pending]
            self.pending = []
            stopped = StoreError("The server stopped while storing this write; send it again (harmless if stored).")
            for job in stranded:
                _settle(job, stopped)
            raise exc

    async def _drain_once(self, jobs: list[_Job]) -> None:
        try:
            await self._commit(jobs)
        except Exception as exc:  # every waiter gets its own answer below
            if len(jobs) == 1:
                _settle(jobs[0], exc)
                return
            # One batch may be what the database refused: store each alone, so only it fails.
            log.warning("a group of %d batches failed (%s); storing them one by one", len(jobs), exc)
            for job in jobs:
                try:
                    await self._commit([job])
                except Exception as alone:  # handed to that batch's waiter
                    _settle(job, alone)
                else:
                    _settle(job, None)
        else:
            for job in jobs:
                _settle(job, None)

    async def _commit(self, jobs: list[_Job]) -> None:
        async with self.writer.transaction() as conn:
            for run in _runs([job for job in jobs if job.write is None]):
                await _store_run(conn, run)
            for job in jobs:
                if job.write is not None:
                    await job.write(conn)


def _settle(job: _Job, exc: BaseException | None) -> None:
    if job.done.done():
        return
    if exc is None:
        job.done.set_result(None)
    else:
        job.done.set_exception(exc)


def _runs(jobs: list[_Job]) -> list[list[_Job]]:
    runs: list[list[_Job]] = []
    for job in jobs:
        if not runs or any(m.kind == "delete" for _, m in job.valid):
            runs.append([job])
        else:
            runs[-1].append(job)
    return runs


async def _store_run(conn: aiosqlite.Connection, run: list[_Job]) -> None:
    if len(run) == 1:
        await store_batch(conn, run[0].valid, run[0].results, run[0].origin)
        return
    valid: list[tuple[int, Verified]] = []
    origins: list[str] = []
    offsets: list[int] = []
    results: list[IngestResult | None] = []  # each job's refusals too: their ids still narrow (confine_refused)
    for job in run:
        offsets.append(len(results))
        valid.extend((len(results) + index, message) for index, message in job.valid)
        origins.extend([job.origin] * len(job.valid))
        results.extend(job.results)
    await store_batch(conn, valid, results, origins)
    for job, offset in zip(run, offsets, strict=True):
        for index, _ in job.valid:
            job.results[index] = results[offset + index]


_groups: weakref.WeakKeyDictionary[Writer, _GroupCommit] = weakref.WeakKeyDictionary()


async def ingest_grouped(
    writer: Writer,
    items: Sequence[Item],
    *,
    origin: str,
    now: int | None = None,
    policy: Policy | None = None,
    reader: aiosqlite.Connection | None = None,
) -> list[IngestResult]:
    """``Store.ingest`` for a server with concurrent requests: the same validation and the same results,
    but the storing of batches that wait for the writer at the same time shares one transaction. ``reader``:
    the store's connection, which a peer's door reads (``murmur.store.audience.PeerDoor``)."""
    results, valid = await validate_all(items, now=now, policy=policy, reader=reader)
    if to_write(valid, results):
        await group_of(writer).store(valid, results, origin)
    return settled(writer, results, origin)


def group_of(writer: Writer) -> _GroupCommit:
    group = _groups.get(writer)
    if group is None:
        group = _groups[writer] = _GroupCommit(writer)
    return group
