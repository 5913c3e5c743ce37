"""A database as an older murmur left it: the schema at a given version, holding another store's rows.

Upgrade tests build it from the migrations up to that version rather than by undoing later ones by hand:
a migration that adds a column cannot run twice, so rolling ``user_version`` back breaks on the next one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from murmur.mentions import handle_key
from murmur.names import name_key
from murmur.store.schema import FILL_HANDLES, MIGRATIONS

TABLES = ("messages", "mentions", "hashtags", "tombstones", "profiles", "follows")

HANDLES = next(n for n, m in enumerate(MIGRATIONS) if FILL_HANDLES in m)
"""The number of migrations before the one adding ``profiles.handle``."""
UNDO_HANDLES = ("DROP INDEX profiles_by_handle", "ALTER TABLE profiles DROP COLUMN handle")
"""That migration undone, on either engine, for a test that rolls a store's version back to before it (a column
cannot be added twice)."""


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
