"""On PostgreSQL, reads are planned once per connection (prepared on the server), and a read the server cannot
type that way still answers, bound on the client as writes are (murmur/store/postgres.py); home's author set is
read once and probed by hash (murmur/store/dialect.py, ``IN /* probe */``); reads run side by side on several
connections.

A store with one read connection shows what that connection holds prepared (``one_reader``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from store_people import Person

import murmur.store.postgres as pg_store
from murmur.store import Store
from murmur.store.timelines import home
from tests.postgres_server import PostgresServer


@pytest.fixture
def one_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_store, "READERS", 1)


@pytest.fixture
async def opened(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[tuple[Store, str]]:
    """A store on a fresh PostgreSQL database, and the database's URL (ask for ``one_reader`` first to get one
    read connection)."""
    url = postgres.new_database()
    store = await Store.open(tmp_path / "unused.db", database=url)
    try:
        yield store, url
    finally:
        await store.close()


_RECENT = "FROM messages w"  # home's recent window (murmur.store.timelines), as the server holds it


async def _prepared(store: Store) -> list[str]:
    """The statements the store's read connection holds prepared on the server."""
    async with store.conn.execute("SELECT statement FROM pg_prepared_statements") as cursor:
        return [str(r[0]) for r in await cursor.fetchall()]


async def test_a_timeline_read_is_prepared_once_and_reused(
    one_reader: None, opened: tuple[Store, str], ann: Person
) -> None:
    store, _ = opened
    await store.ingest([ann.post(f"post {n}") for n in range(3)])
    first = await home(store, ann.key, limit=2)
    held = [s for s in await _prepared(store) if _RECENT in s]
    assert len(held) == 1, held
    again = await home(store, ann.key, limit=2)
    assert [s for s in await _prepared(store) if _RECENT in s] == held  # planned once, not again
    assert [i.id for i in again.items] == [i.id for i in first.items] and len(first.items) == 2


async def test_a_read_whose_parameters_the_server_cannot_type_is_bound_on_the_client(
    one_reader: None, opened: tuple[Store, str]
) -> None:
    store, _ = opened
    for value, expected in ((None, 1), ("x", 0), (None, 1)):  # once refused by the server, then client-bound
        async with store.conn.execute("SELECT CASE WHEN ? IS NULL THEN 1 ELSE 0 END", (value,)) as cursor:
            assert await cursor.fetchone() == (expected,)
    assert not [s for s in await _prepared(store) if "IS NULL" in s]


async def test_home_probes_its_author_set_by_hash(one_reader: None, opened: tuple[Store, str], ann: Person) -> None:
    store, _ = opened
    await home(store, ann.key, limit=2)  # prepared on the read connection, plan kept
    async with store.conn.execute(
        "SELECT name, cardinality(parameter_types) FROM pg_prepared_statements WHERE statement LIKE ?",
        (f"%{_RECENT}%",),
    ) as cursor:
        [(name, count)] = await cursor.fetchall()
    nulls = ", ".join(["NULL"] * int(count))
    async with store.conn.execute(f"EXPLAIN EXECUTE {name}({nulls})") as cursor:  # its plan as kept
        recent = "\n".join(str(r[0]) for r in await cursor.fetchall())
    assert "Filter: (hashed SubPlan" in recent, recent  # the author set, read once, probed per row


async def test_a_read_waiting_on_the_server_does_not_hold_up_the_next(opened: tuple[Store, str]) -> None:
    store, url = opened
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(7)")  # the first read waits on this lock until it is let go
        wait = "SELECT 1 FROM (SELECT pg_advisory_xact_lock_shared(7)) AS l"
        waiting = asyncio.ensure_future(store.conn.execute(wait))
        # Answered on another connection meanwhile; on one connection it would wait behind the first for good.
        assert await asyncio.wait_for(store.count(), timeout=60) == 0
        assert not waiting.done()
        admin.execute("SELECT pg_advisory_unlock(7)")
    assert await (await asyncio.wait_for(waiting, timeout=60)).fetchone() == (1,)


async def _prepared_writes(store: Store) -> list[str]:
    async with store.writer.transaction() as conn, conn.execute("SELECT statement FROM pg_prepared_statements") as cur:
        return [str(r[0]) for r in await cur.fetchall()]


async def test_an_ingest_batch_rules_are_prepared_on_the_write_connection(
    opened: tuple[Store, str], ann: Person
) -> None:
    """The rules every batch runs over its seqs take integers only: planned once per connection, not per batch."""
    store, _ = opened
    await store.ingest([ann.post("first")])
    held = [s for s in await _prepared_writes(store) if "INSERT INTO notices" in s]
    assert held, "no notice rule prepared"
    await store.ingest([ann.post("second")])
    assert [s for s in await _prepared_writes(store) if "INSERT INTO notices" in s] == held  # the same, again


async def test_a_write_the_server_cannot_type_loses_nothing_of_its_transaction(opened: tuple[Store, str]) -> None:
    store, _ = opened
    async with store.writer.transaction() as conn:
        await conn.execute("INSERT INTO markers (key, name, seq) VALUES (?, ?, ?)", (b"k" * 32, "kept", 1))
        # Integers only, so tried prepared; as smallints on the server, generate_series is ambiguous ("not
        # unique"), where the literals of a client-bound statement pick one: bound on the client after all.
        await conn.execute("UPDATE markers SET seq = (SELECT max(g) FROM generate_series(?, ?) g)", (1, 5))
    async with store.conn.execute("SELECT name, seq FROM markers") as cursor:
        assert await cursor.fetchall() == [("kept", 5)]
