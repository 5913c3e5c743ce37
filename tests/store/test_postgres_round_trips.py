"""On PostgreSQL, a round trip to the server costs a wake of a backend that waits for a core on a loaded machine, so
reads asked together (``murmur.store.together``) go in one pipeline on one connection (``ReadPool``), and a write
transaction's advisory lock goes with its BEGIN (murmur/store/postgres.py). Each statement is still answered as
it would be alone: its rows, or its own error; reads asked outside a group never wait behind each other
(tests/store/test_postgres_prepared.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from store_people import Person

from murmur.errors import StoreError
from murmur.store import Store
from murmur.store.postgres import WRITE_LOCK
from murmur.store.together import reads_together
from tests.pg_round_trips import RoundTrips, counting
from tests.postgres_server import PostgresServer


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    return counting(monkeypatch)


@pytest.fixture
async def opened(tmp_path: Path, postgres: PostgresServer, ann: Person) -> AsyncIterator[tuple[Store, str]]:
    url = postgres.new_database()
    store = await Store.open(tmp_path / "unused.db", database=url)
    await store.ingest([ann.post(f"post {n}") for n in range(3)])
    try:
        yield store, url
    finally:
        await store.close()


_READS = (
    ("SELECT count(*) FROM messages", ()),
    ("SELECT id FROM messages WHERE kind = ? ORDER BY seq", ("post",)),
    ("SELECT seq FROM messages WHERE seq > :after ORDER BY seq", {"after": 1}),
)


async def _one_by_one(store: Store) -> list[list[Any]]:
    return [list(await store.conn.execute_fetchall(sql, params)) for sql, params in _READS]


async def _together(store: Store) -> list[list[Any]]:
    with reads_together():
        found = await asyncio.gather(*(store.conn.execute_fetchall(sql, params) for sql, params in _READS))
    return [list(rows) for rows in found]


async def _nested(store: Store) -> list[list[Any]]:
    """The first read alone, the others gathered by a task of the outer gather: a turn of the loop later."""

    async def inner() -> list[Any]:
        with reads_together():
            found = await asyncio.gather(*(store.conn.execute_fetchall(sql, p) for sql, p in _READS[1:]))
        return [list(rows) for rows in found]

    with reads_together():
        first, rest = await asyncio.gather(store.conn.execute_fetchall(*_READS[0]), inner())
    return [list(first), *rest]


async def test_reads_asked_together_cost_one_round_trip_and_answer_as_alone(
    opened: tuple[Store, str], trips: RoundTrips
) -> None:
    store, _ = opened
    alone = await _one_by_one(store)
    await _together(store)  # the first time, each statement is prepared as it goes
    trips.count = 0
    assert await _together(store) == alone
    assert trips.count == 1
    trips.count = 0
    assert await _nested(store) == alone
    assert trips.count == 1
    trips.count = 0
    await _one_by_one(store)
    assert trips.count == len(_READS)
    trips.count = 0
    await asyncio.gather(*(store.conn.execute_fetchall(sql, params) for sql, params in _READS))
    assert trips.count == len(_READS)  # not asked as a group: each alone, on whichever connection is free


async def test_a_failing_read_among_others_fails_alone(opened: tuple[Store, str]) -> None:
    store, _ = opened
    with reads_together():
        good, bad, untyped, again = await asyncio.gather(
            store.conn.execute_fetchall("SELECT count(*) FROM messages", ()),
            store.conn.execute_fetchall("SELECT nothing FROM no_such_table", ()),
            # the server cannot type this parameter: bound on the client, as a read alone would be
            store.conn.execute_fetchall("SELECT ? IS NULL", (None,)),
            store.conn.execute_fetchall("SELECT count(*) FROM messages WHERE kind = ?", ("post",)),
            return_exceptions=True,
        )
    assert list(good) == list(again) == [(3,)]
    assert isinstance(bad, StoreError)
    assert list(untyped) == [(True,)]


async def test_a_read_whose_caller_gives_up_leaves_the_others_answered(opened: tuple[Store, str]) -> None:
    store, _ = opened
    with reads_together():
        first = asyncio.ensure_future(store.conn.execute_fetchall("SELECT count(*) FROM messages", ()))
        second = asyncio.ensure_future(store.conn.execute_fetchall("SELECT 2", ()))
    await asyncio.sleep(0)  # both asked, not yet sent
    first.cancel()
    assert list(await second) == [(2,)]
    assert list(await store.conn.execute_fetchall("SELECT 3", ())) == [(3,)]  # the pool still has its connections


async def test_a_write_takes_the_lock_in_the_round_trip_of_its_begin(
    opened: tuple[Store, str], trips: RoundTrips
) -> None:
    store, url = opened
    trips.count = 0
    async with store.writer.transaction():
        assert trips.count == 1  # BEGIN and the lock, together
        with psycopg.connect(url, autocommit=True) as other:
            held = other.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
            ).fetchone()
        assert held == (1,)
    assert trips.count == 2  # and COMMIT


async def test_a_second_writer_waits_for_the_lock(opened: tuple[Store, str]) -> None:
    store, url = opened
    async with store.writer.transaction():
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("BEGIN")
            taken = other.execute(WRITE_LOCK.replace("pg_advisory_xact_lock", "pg_try_advisory_xact_lock")).fetchone()
            other.execute("ROLLBACK")
        assert taken == (False,)
