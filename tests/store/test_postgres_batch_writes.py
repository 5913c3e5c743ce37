"""On PostgreSQL, an ingest batch's rules go to the server in one pipeline once each has run on the connection,
with the same outcome as one at a time; and a fresh database gets planner statistics once ingest has copied
enough rows into it, rather than waiting for autovacuum (murmur/store/postgres.py)."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from store_people import Person

import murmur.store.postgres as pg_store
from murmur.errors import StoreError
from murmur.kinds.base import execute_each
from murmur.store import Store
from tests.postgres_server import TEMPLATE, PostgresServer

_names = itertools.count(1)


@pytest.fixture
def never_analysed(postgres: PostgresServer) -> Iterator[str]:
    """A database made for this test alone (a reused one keeps the statistics of the tests before)."""
    name = f"fresh{os.getpid()}_{next(_names)}"
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    with psycopg.connect(postgres.url(name), autocommit=True) as conn:
        for table in ("messages", "posts_fts"):  # no statistics but the store's own, whenever the test runs
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    try:
        yield postgres.url(name)
    finally:
        with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def opened(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[Store]:
    url = postgres.new_database()
    store = await Store.open(tmp_path / "unused.db", database=url)
    try:
        yield store
    finally:
        await store.close()
        postgres.release(url)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the store's PostgreSQL connections send on their own (not in a pipeline), as sent."""
    texts: list[str] = []
    fetch = pg_store.Connection._fetch

    async def spy(cursor: Any, text: str, params: Any, *, prepare: bool | None) -> pg_store.Cursor:
        texts.append(text)
        return await fetch(cursor, text, params, prepare=prepare)

    monkeypatch.setattr(pg_store.Connection, "_fetch", staticmethod(spy))
    return texts


async def _notices(store: Store) -> list[tuple[str, str]]:
    async with store.conn.execute("SELECT key, kind FROM notices ORDER BY seq") as cursor:
        return [(bytes(k).hex(), str(kind)) for k, kind in await cursor.fetchall()]


async def test_a_batch_rules_go_in_one_pipeline_once_each_has_run(
    opened: Store, sent: list[str], ann: Person, ben: Person
) -> None:
    first = ann.post("first")
    await opened.ingest([first])  # each rule runs alone once: how the server binds it is learnt
    assert [t for t in sent if t.startswith("INSERT INTO notices")], "the first batch's rules ran one at a time"
    sent.clear()
    await opened.ingest([ben.post("a reply", reply=first), ben.react(first)])
    assert not [t for t in sent if "INSERT INTO notices" in t or "UPDATE notices" in t or "INSERT INTO scoped" in t]
    assert await _notices(opened) == [(ann.key, "reply"), (ann.key, "reaction")]  # derived all the same


async def test_a_statement_failing_in_the_pipeline_rolls_back_the_whole_write(opened: Store) -> None:
    put = "INSERT INTO markers (key, name, seq) SELECT 'k', 'n' || :lo, :lo"
    divide = "UPDATE markers SET seq = seq / (:lo - 1)"  # fails when :lo is 1 and a marker is held
    async with opened.writer.transaction() as conn:
        await execute_each(conn, (put, divide), {"lo": 2})  # one at a time, learning how each binds
    with pytest.raises(StoreError):
        async with opened.writer.transaction() as conn:
            await execute_each(conn, (put, divide), {"lo": 1})  # pipelined: the second fails
    async with opened.conn.execute("SELECT name, seq FROM markers") as cursor:
        assert await cursor.fetchall() == [("n2", 2)]  # the first statement of the failed pipeline is undone


async def _analysed(url: str, table: str = "messages") -> tuple[float, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT c.reltuples, s.last_analyze FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.relname = %s",
            (table,),
        ).fetchone()
    assert row is not None
    return float(row[0]), row[1]


async def test_a_fresh_database_is_analysed_once_ingest_has_copied_enough(
    tmp_path: Path, never_analysed: str, monkeypatch: pytest.MonkeyPatch, ann: Person
) -> None:
    monkeypatch.setattr(pg_store, "ANALYSE_FIRST", 200)  # messages and their search rows: 100 posts
    async with await Store.open(tmp_path / "unused.db", database=never_analysed) as store:
        await store.ingest([ann.post(f"post {n}") for n in range(60)])
        assert await _analysed(never_analysed) == (-1, None)  # 120 rows copied: not yet looked at
        await store.ingest([ann.post(f"post {n}") for n in range(60, 160)])
        counted, when = await _analysed(never_analysed)
        assert when is not None and counted == 160  # analysed after the commit that passed 200 rows
        await store.ingest([ann.post(f"post {n}") for n in range(160, 400)])
        assert await _analysed(never_analysed) == (counted, when)  # next looked at past 10 times as many


async def test_a_table_written_row_by_row_gets_statistics_at_the_first_look(
    tmp_path: Path, never_analysed: str, monkeypatch: pytest.MonkeyPatch, ann: Person, ben: Person
) -> None:
    # tallies is written by INSERT OR IGNORE (pipelined, not copied), and the reaction notices from the target's
    # end read it by its key: a plan kept from before it had statistics read all of it for each message.
    monkeypatch.setattr(pg_store, "ANALYSE_FIRST", 200)
    posts = [ann.post(f"post {n}") for n in range(100)]
    async with await Store.open(tmp_path / "unused.db", database=never_analysed) as store:
        await store.ingest([*posts, *(ben.react(p) for p in posts[:30])])
        counted, when = await _analysed(never_analysed, "tallies")
    assert when is not None and counted == 30  # 30 rows: under the 100 that make a table stale


async def test_an_analyse_that_fails_leaves_the_commit_standing(
    tmp_path: Path, never_analysed: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, ann: Person
) -> None:
    monkeypatch.setattr(pg_store, "ANALYSE_FIRST", 10)
    monkeypatch.setattr(pg_store, "_STALE", "SELECT relname FROM no_such_table")
    async with await Store.open(tmp_path / "unused.db", database=never_analysed) as store:
        with caplog.at_level(logging.WARNING, logger="murmur.store"):
            results = await store.ingest([ann.post(f"post {n}") for n in range(10)])
        assert {r.status for r in results} == {"stored"} and await store.count() == 10
        await store.ingest([ann.post("after")])  # the connection is still usable
        assert await store.count() == 11
    assert "could not update the database's statistics" in caplog.text
