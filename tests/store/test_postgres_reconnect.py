"""A PostgreSQL server that drops murmur's connections (a restart, a failover, an idle timeout) loses nothing.

The server ends every session of murmur's database (``pg_terminate_backend``, what a restart does to them); the
store's next read and next write go on, on new connections, with nothing lost or written twice. A read that
cannot be served at all is a StoreError (503), as on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from store_people import Person

import murmur.store.postgres as pg_store
from murmur.errors import StoreError
from murmur.store import Store
from tests.postgres_server import PostgresServer


def drop_sessions(url: str) -> int:
    """End every other client session on the database of ``url``; how many were ended. Only client backends: an
    autovacuum worker on the same database (it comes when it likes, more often on a loaded machine) is no
    session of the store's."""
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchone()
    return int(row[0]) if row else 0


async def test_dropped_connections_are_opened_again_for_the_next_read_and_write(
    tmp_path: Path, postgres: PostgresServer, ann: Person
) -> None:
    url = postgres.new_database()
    store = await Store.open(tmp_path / "unused.db", database=url)
    try:
        first, second = ann.post("before the restart"), ann.post("after the restart")
        await store.ingest([first])
        assert drop_sessions(url) == 1 + pg_store.READERS  # the store's writer and readers
        assert await store.get_raw(first["id"]) is not None  # the read runs again on a new connection
        [stored] = await store.ingest([second])  # so does the BEGIN of the next write
        assert stored.status == "stored"
        assert [e.seq for e in await store.log_after(0)] == [1, 2]
    finally:
        await store.close()


async def test_a_read_the_server_cannot_serve_is_a_store_error(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.new_database()
    store = await Store.open(tmp_path / "unused.db", database=url)
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("ALTER TABLE messages RENAME TO gone")
        with pytest.raises(StoreError, match=r"^The database could not be read: "):
            await store.count()
    finally:
        await store.close()
