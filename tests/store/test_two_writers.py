"""Two stores writing one database at once, as the processes of a server run with ``workers = N`` do: every batch
is numbered from the log's end under the engine's write lock (SQLite's BEGIN IMMEDIATE with a busy timeout, and
the write turns a server's workers take; PostgreSQL's advisory lock), so no write is refused, no seq is handed
out twice, and a message both store is stored once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from store_people import Person

from murmur.store import Store

ROUNDS = 20
BATCH = 5


@pytest.mark.parametrize("shared", [False, True], ids=["busy-timeout", "write-turns"])
async def test_two_stores_writing_at_once_lose_and_repeat_nothing(
    tmp_path: Path, database: str | None, ann: Person, ben: Person, shared: bool
) -> None:
    path = tmp_path / "murmur.db"
    first = await Store.open(path, database=database, shared=shared)
    second = await Store.open(path, database=database, shared=shared)
    try:
        batches = [
            [(person.post(f"{person.key[:4]} {r}.{i}"), store) for i in range(BATCH)]
            for r in range(ROUNDS)
            for person, store in ((ann, first), (ben, second))
        ]
        results = await asyncio.gather(
            *(batch[0][1].ingest([message for message, _ in batch]) for batch in batches)
        )
        stored = [r for batch in results for r in batch]
        assert {r.status for r in stored} == {"stored"}
        seqs = [r.seq for r in stored]
        assert len(set(seqs)) == len(seqs) == 2 * ROUNDS * BATCH
        assert await first.count() == await second.count() == len(seqs)
        assert await second.last_seq() == max(s for s in seqs if s is not None)
    finally:
        await first.close()
        await second.close()


async def test_one_message_written_by_both_at_once_is_stored_once(
    tmp_path: Path, database: str | None, ann: Person
) -> None:
    path = tmp_path / "murmur.db"
    first = await Store.open(path, database=database, shared=True)
    second = await Store.open(path, database=database, shared=True)
    try:
        messages = [ann.post(f"both {n}") for n in range(30)]
        answers = await asyncio.gather(*(store.ingest([m]) for m in messages for store in (first, second)))
        for n in range(len(messages)):
            assert sorted((answers[2 * n][0].status, answers[2 * n + 1][0].status)) == ["duplicate", "stored"]
        assert await first.count() == len(messages)
    finally:
        await first.close()
        await second.close()
