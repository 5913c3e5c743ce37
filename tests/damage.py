"""Damage a real database file as a failing disk would, for the tests of what murmur says about it."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def damage_pages(db: Path, name: str) -> None:
    """Overwrite the root page of table or index ``name`` with noise, as a failing disk would: the file still
    opens (the schema is elsewhere), but every read through that b-tree meets a page that is not one.

    The file must not be open elsewhere, and its WAL is checkpointed first: the noise lands on the page that
    every reader uses, not on a page the log holds a newer copy of.
    """
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        [root] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    conn.close()
    with db.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(bytes(range(256)) * (page_size // 256))
