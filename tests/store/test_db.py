"""Opening the database: creation, permissions, migrations, corrupt and too-new files."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from store_people import Person

from murmur.errors import StoreError
from murmur.store import Store, timelines
from murmur.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.schema_at import database_at


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}


async def test_fresh_path_is_created_private_and_migrated(tmp_path: Path, ann: Person) -> None:
    path = tmp_path / "deeper" / "m.db"
    async with await Store.open(path) as store:
        await store.ingest([ann.post()])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        wal = path.with_name("m.db-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
        assert await store.integrity_check() == "ok"
    assert _user_version(path) == SCHEMA_VERSION == len(MIGRATIONS)
    assert {"messages", "members", "invites", "markers", "notices", "messages_timeline"} <= _tables(path)


async def test_empty_existing_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    path.touch(mode=0o600)
    async with await Store.open(path) as store:
        assert await store.count() == 0
    assert _user_version(path) == SCHEMA_VERSION


async def test_version_one_database_upgrades_and_backfills_notices(tmp_path: Path, ann: Person, ben: Person) -> None:
    """A database at version 1 with messages in it gains every later migration, notices derived from its log."""
    post = ann.post("hi")
    reply = ben.post("hello back", reply=post)
    async with await Store.open(tmp_path / "full.db") as store:
        await store.ingest([post, reply, ben.follow(ann)])
    old = tmp_path / "old.db"
    database_at(1, tmp_path / "full.db", old)
    assert _user_version(old) == 1 and "notices" not in _tables(old)
    async with await Store.open(old) as store:
        async with store.conn.execute("SELECT kind FROM notices ORDER BY seq") as cursor:
            assert [r[0] for r in await cursor.fetchall()] == ["reply", "follow"]
        async with store.conn.execute("SELECT count(*) FROM notices WHERE derived_at IS NOT seq") as cursor:
            assert await cursor.fetchone() == (0,)  # told by seq until then: that is where they sit (migration 9)
        assert await store.count() == 3
        assert await store.integrity_check() == "ok"
    assert _user_version(old) == SCHEMA_VERSION


async def test_upgrade_gives_every_existing_message_its_time(tmp_path: Path, ann: Person, ben: Person) -> None:
    """Rows stored before timelines sorted by time get the sort time a new row would get: the author's time,
    clamped to the arrival time recorded then; mentions and hashtags too, so their timelines read by time."""
    now = 1_800_000_000_000
    early = ann.post("early", at=1_000, mentions=(ben.key,), hashtags=("t",))
    ahead = ann.post("ahead", at=now + 300_000, mentions=(ben.key,), hashtags=("t",))
    async with await Store.open(tmp_path / "full.db") as store:
        await store.ingest([ahead, early], now=now)
    old = tmp_path / "old.db"
    database_at(1, tmp_path / "full.db", old)
    async with await Store.open(old) as store:
        for table in ("messages", "mentions", "hashtags"):
            async with store.conn.execute(f"SELECT seq, sort_at FROM {table} ORDER BY seq") as cursor:
                assert [tuple(r) for r in await cursor.fetchall()] == [(1, now), (2, 1_000)], table
        assert [i.id for i in (await timelines.mentions(store, ben.key)).items] == [ahead["id"], early["id"]]
        assert [i.id for i in (await timelines.hashtag(store, "t", limit=1, before=f"{now}.1")).items] == [early["id"]]


async def test_corrupt_file_gives_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError) as info:
        await Store.open(path)
    assert "not a usable murmur database" in str(info.value)
    assert "backup" in str(info.value)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    async with await Store.open(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as info:
        await Store.open(path)
    assert "newer than this murmur knows" in str(info.value)


async def test_bad_durability_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="durability"):
        await Store.open(tmp_path / "m.db", durability="sometimes")


async def test_normal_durability_opens(tmp_path: Path, ann: Person) -> None:
    async with await Store.open(tmp_path / "m.db", durability="normal") as store:
        assert (await store.ingest([ann.post()]))[0].status == "stored"
