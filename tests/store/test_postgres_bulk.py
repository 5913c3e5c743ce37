"""On PostgreSQL, the rows of a plain INSERT go in one statement, by COPY (murmur/store/postgres_bulk.py): each
value comes back as it went in, whatever its characters; a refused row fails the whole write; other shapes
(INSERT OR IGNORE among them) are still sent row by row. And no session of the store compiles its statements
(JIT off)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from murmur.errors import StoreError
from murmur.store import Store
from tests.postgres_server import PostgresServer

# Values a text COPY must escape, and those it must not mistake for NULL.
AWKWARD = ["tab\there", "line\nbreak\r\n", "back\\slash", "\\N", "", "naïve café ☃", "quote ' and \"", "\\."]


@pytest.fixture
async def opened(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "unused.db", database=postgres.new_database())
    try:
        async with store.writer.transaction() as conn:
            await conn.execute("CREATE TABLE bulk (k BIGINT PRIMARY KEY, b BYTEA, t TEXT)")
        yield store
    finally:
        async with store.writer.transaction() as conn:
            await conn.execute("DROP TABLE bulk")  # the database goes back to the next test as it was made
        await store.close()


@pytest.fixture
def no_pipeline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements still sent row by row (psycopg's executemany), recorded and then run."""
    sent: list[str] = []
    real = psycopg.AsyncCursor.executemany

    async def recorded(self: psycopg.AsyncCursor[Any], query: Any, params_seq: Any, **kwargs: Any) -> None:
        sent.append(str(query))
        await real(self, query, params_seq, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "executemany", recorded)
    return sent


async def _rows(store: Store) -> list[tuple[Any, ...]]:
    async with store.conn.execute("SELECT k, b, t FROM bulk ORDER BY k") as cursor:
        return [(r[0], None if r[1] is None else bytes(r[1]), r[2]) for r in await cursor.fetchall()]


async def test_a_plain_insert_goes_whole_and_every_value_comes_back(opened: Store, no_pipeline: list[str]) -> None:
    rows = [(n, bytes([0, n, 92, 9, 10]), text) for n, text in enumerate(AWKWARD)] + [(99, None, None)]
    async with opened.writer.transaction() as conn:
        await conn.executemany("INSERT INTO bulk (k, b, t) VALUES (?, ?, ?)", rows)
    assert await _rows(opened) == rows
    assert no_pipeline == []


async def test_an_insert_or_ignore_goes_row_by_row_keeping_the_first_of_each_conflict(
    opened: Store, no_pipeline: list[str]
) -> None:
    async with opened.writer.transaction() as conn:
        await conn.executemany("INSERT INTO bulk (k, b, t) VALUES (?, ?, ?)", [(1, b"held", "x")])
    rows = [(1, b"again", "z"), (2, None, "y"), (2, b"second", "z"), (3, None, AWKWARD[0])]
    async with opened.writer.transaction() as conn:
        await conn.executemany("INSERT OR IGNORE INTO bulk (k, b, t) VALUES (?, ?, ?)", rows)
    assert await _rows(opened) == [(1, b"held", "x"), (2, None, "y"), (3, None, AWKWARD[0])]
    assert len(no_pipeline) == 1


async def test_a_refused_row_fails_the_whole_write(opened: Store) -> None:
    rows = [(1, None, "a"), (2, None, "b"), (1, None, "a")]  # the third repeats the first's key
    with pytest.raises(StoreError, match="refused a write"):
        async with opened.writer.transaction() as conn:
            await conn.executemany("INSERT INTO bulk (k, b, t) VALUES (?, ?, ?)", rows)
    with pytest.raises(StoreError, match="refused a write"):
        async with opened.writer.transaction() as conn:
            await conn.executemany("INSERT OR IGNORE INTO bulk (k, b, t) VALUES (?, ?, ?)", [(None, None, "c")])
    assert await _rows(opened) == []


async def test_other_shapes_still_go_row_by_row(opened: Store, no_pipeline: list[str]) -> None:
    async with opened.writer.transaction() as conn:
        await conn.executemany("INSERT INTO bulk (k, b, t) VALUES (?, ?, ? || '!')", [(1, None, "a")])
        await conn.executemany("INSERT INTO bulk (k, b, t) VALUES (:k, NULL, :t)", [{"k": 2, "t": "b"}])
    assert await _rows(opened) == [(1, None, "a!"), (2, None, "b")]
    assert len(no_pipeline) == 2


async def test_no_session_compiles_its_statements(opened: Store) -> None:
    """JIT compiled a recursive audience statement whose row estimate ran to millions on every ingest batch: 387 ms
    of a 429 ms statement on a fresh database (docs/performance.md)."""
    async with opened.writer.transaction() as conn, conn.execute("SHOW jit") as cursor:
        assert await cursor.fetchone() == ("off",)
    async with opened.conn.execute("SHOW jit") as cursor:
        assert await cursor.fetchone() == ("off",)
