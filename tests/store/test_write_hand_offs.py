"""The SQLite writer runs the statements whose outcome nobody reads (a batch's derive and notice rules) in one
hand-off to its thread, in order, inside the caller's transaction (murmur.store.db.WriteConnection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.errors import StoreError
from murmur.keys import Identity
from murmur.kinds.base import execute_each
from murmur.store import Store
from tests.sync.test_scopes import post


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> Any:
    async with await Store.open(tmp_path / "murmur.db") as store:
        yield store


def counting_hand_offs(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    conn = store.writer.conn
    handed: list[object] = []
    handed_off = conn._execute

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(fn)
        return await handed_off(fn, *args, **kwargs)

    monkeypatch.setattr(conn, "_execute", counted)
    return handed


STATEMENTS = (
    "CREATE TEMP TABLE steps (n INTEGER)",
    "INSERT INTO steps VALUES (:a)",
    "INSERT INTO steps SELECT max(n) + :b FROM steps",
)


async def test_statements_go_in_order_in_one_hand_off(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    handed = counting_hand_offs(sqlite_store, monkeypatch)
    async with sqlite_store.writer.transaction() as conn:
        before = len(handed)
        await execute_each(conn, STATEMENTS, {"a": 1, "b": 10})
        assert len(handed) == before + 1
        rows = await conn.execute_fetchall("SELECT n FROM steps ORDER BY rowid")
    assert [row[0] for row in rows] == [1, 11]


async def test_a_failing_statement_rolls_back_the_whole_transaction(sqlite_store: Store) -> None:
    failing = ("INSERT INTO members (key, role, joined_at) VALUES (zeroblob(32), 'member', 0)", "SELECT * FROM nowhere")
    with pytest.raises(StoreError):
        async with sqlite_store.writer.transaction() as conn:
            await execute_each(conn, failing, {})
    rows = await sqlite_store.conn.execute_fetchall("SELECT count(*) FROM members")
    assert rows[0][0] == 0  # the statement before the failing one is undone with it


async def test_a_plain_post_hands_over_no_empty_insert(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sqlite_store.writer.conn
    sizes: list[int] = []
    executemany = conn.executemany

    async def counted(sql: str, rows: Any) -> Any:
        rows = list(rows)
        sizes.append(len(rows))
        return await executemany(sql, rows)

    monkeypatch.setattr(conn, "executemany", counted)
    author = Identity.generate()
    [result] = await sqlite_store.ingest([post(author, "no mention, no hashtag, no reaction")])
    assert result.status == "stored"
    assert sizes and 0 not in sizes  # the messages and their text went in; nothing was handed over for no rows
