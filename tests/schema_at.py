"""A database as an older murmur left it: the schema at a given version, holding another store's rows.

Upgrade tests build it from the migrations up to that version rather than by undoing later ones by hand:
a migration that adds a column cannot run twice, so rolling ``user_version`` back breaks on the next one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from murmur.mentions import handle_key
from murmur.names import name_key
from murmur.store.schema import FILL_HANDLES, MIGRATIONS

TABLES = ("messages", "mentions", "hashtags", "tombstones", "profiles", "follows")

HANDLES = next(n for n, m in enumerate(MIGRATIONS) if FILL_HANDLES in m)
"""The number of migrations before the one adding ``profiles.handle``."""
_UNDO_HANDLES = ("DROP INDEX profiles_by_handle", "ALTER TABLE profiles DROP COLUMN handle")


def back_before_handles(
    version: int, path: Path, database: str | None, update: str = "", rows: Sequence[tuple[Any, ...]] = ()
) -> None:
    """The store at ``path`` (or ``database``, on PostgreSQL) as a murmur at schema ``version`` (``HANDLES`` or
    one before) left it: ``update`` (SQLite's ``?`` marks) run over ``rows`` first, the migration adding handles
    undone (a column cannot be added twice), the version set back, so that the next open migrates again."""
    assert version <= HANDLES, "only the handles' migration is undone here"
    if database is None:
        with sqlite3.connect(path) as conn:
            if update:
                conn.executemany(update, rows)
            for statement in _UNDO_HANDLES:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.close()
        return
    with psycopg.connect(database) as pg:
        if update:
            pg.cursor().executemany(update.replace("?", "%s"), rows)
        for statement in _UNDO_HANDLES:
            pg.execute(statement)
        pg.execute("UPDATE murmur_schema SET version = %s", (version,))


def database_at(version: int, source: Path, target: Path, tables: tuple[str, ...] = TABLES) -> None:
    """Write ``target`` at schema ``version`` holding ``source``'s rows of ``tables`` (the columns it had then)."""
    with sqlite3.connect(target) as conn:
        conn.create_function("murmur_name_key", 1, name_key, deterministic=True)  # as murmur.store.db.migrate does
        conn.create_function("murmur_handle_key", 1, handle_key, deterministic=True)
        for number in range(version):
            conn.executescript(MIGRATIONS[number])
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("ATTACH DATABASE ? AS src", (str(source),))
        for table in tables:
            columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))  # constant names
            conn.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM src.{table}")
        conn.commit()
        conn.execute("DETACH DATABASE src")
    conn.close()
