"""A cancelled task never wedges the store: cancelled at any ``await`` of a transaction, the writer ends clean.

aiosqlite runs each statement on its own thread, so cancelling the task that awaits one does not stop it; psycopg
cancels the statement on the server. Both engines run these. These
tests cancel the calling task at each statement of a transaction in turn (BEGIN, the body's statements, COMMIT,
ROLLBACK), as a client that disconnects or a federation loop restarted mid-write would, and check that the
connection is out of its transaction, that the write happened whole or not at all, and that the next write works.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from murmur.errors import StoreError
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.db import Writer, connect
from murmur.store.group import ingest_grouped


class CancelAt:
    """A connection that cancels the task calling its ``at``-th statement, while that statement runs on."""

    def __init__(self, conn: aiosqlite.Connection, at: int) -> None:
        self.conn = conn
        self.at = at
        self.statements: list[str] = []

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql.split()[0].upper())
        if len(self.statements) == self.at:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@pytest.fixture
async def conn(tmp_path: Path, database: str | None) -> AsyncIterator[aiosqlite.Connection]:
    connection = await connect(tmp_path / "w.db", database=database)
    await connection.execute("CREATE TABLE t (x INTEGER)")
    yield connection
    await connection.close()


async def rows(conn: aiosqlite.Connection) -> list[int]:
    async with conn.execute("SELECT x FROM t ORDER BY x") as cursor:
        return [r[0] for r in await cursor.fetchall()]


async def two_inserts(writer: Writer, *, fail: bool = False) -> None:
    async with writer.transaction() as db:
        await db.execute("INSERT INTO t VALUES (1)")
        await db.execute("INSERT INTO t VALUES (2)")
        if fail:
            raise ValueError("the caller's own error")


# Statements of a transaction that commits: BEGIN, INSERT, INSERT, COMMIT.
@pytest.mark.parametrize("at", [1, 2, 3, 4])
async def test_cancelled_at_every_statement_leaves_the_writer_clean(conn: aiosqlite.Connection, at: int) -> None:
    proxy = CancelAt(conn, at)
    writer = Writer(proxy)  # type: ignore[arg-type]
    task = asyncio.create_task(two_inserts(writer))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert proxy.statements[at - 1] == ["BEGIN", "INSERT", "INSERT", "COMMIT"][at - 1]
    assert not conn.in_transaction, f"cancelled at {proxy.statements[at - 1]}: a transaction was left open"
    # Whole or nothing: COMMIT had been handed to SQLite, so it ran to its end; anything earlier rolled back.
    assert await rows(conn) == ([1, 2] if at == 4 else [])
    # And the next write, through the same writer, works.
    proxy.at = 0
    async with writer.transaction() as db:
        await db.execute("INSERT INTO t VALUES (3)")
    assert (await rows(conn))[-1] == 3


# Statements of a transaction whose body fails: BEGIN, INSERT, INSERT, ROLLBACK.
async def test_cancelled_during_the_rollback_of_a_failed_body(conn: aiosqlite.Connection) -> None:
    proxy = CancelAt(conn, 4)
    writer = Writer(proxy)  # type: ignore[arg-type]
    task = asyncio.create_task(two_inserts(writer, fail=True))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert proxy.statements == ["BEGIN", "INSERT", "INSERT", "ROLLBACK"]
    assert not conn.in_transaction
    assert await rows(conn) == []


async def test_cancelled_while_waiting_for_the_lock(conn: aiosqlite.Connection) -> None:
    writer = Writer(conn)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with writer.transaction() as db:
            await db.execute("INSERT INTO t VALUES (1)")
            entered.set()
            await release.wait()

    first = asyncio.create_task(holder())
    await entered.wait()
    waiting = asyncio.create_task(two_inserts(writer))
    await asyncio.sleep(0)  # let it queue on the lock
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await first
    assert await rows(conn) == [1]
    assert not conn.in_transaction


def _posts(n: int) -> list[dict[str, Any]]:
    ada = Identity.from_seed(bytes([7]) * 32)
    return [sign_draft(ada, {"body": {"text": f"post {i}"}}, created_at=1_000 + i) for i in range(n)]


@pytest.mark.parametrize("at", [1, 2, 3])
async def test_group_commit_cancelled_mid_write_answers_every_waiter(
    tmp_path: Path, database: str | None, at: int
) -> None:
    """The group commit's own task cancelled (the server stopping) at a statement: every waiting request gets
    an answer (a StoreError it can report), none hangs, and the store takes writes again afterwards."""
    store = await Store.open(tmp_path / "g.db", database=database)
    try:
        real = store.writer.conn
        proxy = CancelAt(real, at)
        store.writer.conn = proxy  # type: ignore[assignment]
        posts = _posts(6)
        answers = await asyncio.gather(
            *(ingest_grouped(store.writer, [post], origin="local") for post in posts), return_exceptions=True
        )
        assert any(isinstance(a, StoreError) for a in answers), answers
        assert all(isinstance(a, StoreError | list) for a in answers), answers
        assert not real.in_transaction
        store.writer.conn = real
        again = await ingest_grouped(store.writer, posts, origin="local")
        assert {r.status for r in again} <= {"stored", "duplicate"}
        assert len(again) == len(posts)
    finally:
        await store.close()
