"""Every read of the store that the database fails is a StoreError with one sentence, whichever module wrote
the query; a programming error is not the database's state and stays what it is.

The tables are really gone: dropped by another connection under the open store, as a restore gone wrong or a
hand at the sqlite3 prompt would do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
import pytest

from murmur.errors import StoreError
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, notifications, repair, timelines
from murmur.store.export import ExportFilter, count_matching
from murmur.store.lookup import message_ids, people_starting
from murmur.store.members import list_members, member_role
from murmur.store.peers import list_peers
from murmur.store.search import search_posts, search_profiles
from murmur.sync.index import RepairIndex

WHO = Identity.from_seed(bytes(range(5, 37)))
KEY = WHO.public_key

Read = Callable[[Store], Awaitable[object]]
READS: dict[str, tuple[str, Read]] = {
    "get_raw": ("messages", lambda s: s.get_raw("ab" * 32)),
    "count": ("messages", lambda s: s.count()),
    "log_after": ("messages", lambda s: s.log_after(0)),
    "profile": ("profiles", lambda s: s.profile(KEY)),
    "display_names": ("profiles", lambda s: s.display_names([KEY])),
    "following": ("follows", lambda s: s.following(KEY)),
    "local timeline": ("messages", lambda s: timelines.local(s)),
    "home timeline": ("messages", lambda s: timelines.home(s, KEY)),
    "notifications": ("notices", lambda s: notifications.notifications(s, KEY)),
    "search posts": ("messages", lambda s: search_posts(s, "hello")),
    "search people": ("profiles_fts", lambda s: search_profiles(s, "ann")),
    "people starting": ("profiles", lambda s: people_starting(s, "an")),
    "message id prefix": ("messages", lambda s: message_ids(s, "abcdef01")),
    "members": ("members", lambda s: list_members(s)),
    "member role": ("members", lambda s: member_role(s, KEY)),
    "peers": ("peers", lambda s: list_peers(s)),
    "export count": ("messages", lambda s: count_matching(s, ExportFilter())),
    "repair reads": ("messages", lambda s: repair.visible_between(s, 0, 10)),
    "repair set": ("messages", lambda s: RepairIndex(s).current()),
}


def _drop(db: Path, table: str) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"DROP TABLE {table}")  # names from READS, constants
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("name", list(READS))
async def test_a_read_of_a_table_gone_is_a_store_error(tmp_path: Path, name: str) -> None:
    table, read = READS[name]
    db = tmp_path / "murmur.db"
    async with await Store.open(db) as store:
        await store.ingest([sign_draft(WHO, {"body": {"text": "hello"}})])
        await read(store)  # sound first
        _drop(db, table)
        with pytest.raises(StoreError) as failed:
            await read(store)
    assert failed.value.message.startswith("The database could not be read: ")
    assert isinstance(failed.value.__cause__, sqlite3.OperationalError)


async def test_a_programming_error_is_not_a_store_error(store: Store) -> None:
    with pytest.raises((sqlite3.ProgrammingError, psycopg.ProgrammingError)):
        await store.conn.execute("SELECT ?", ())
