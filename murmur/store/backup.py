"""A consistent copy of a database file, safe while a server writes to it (SQLite's online backup)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from murmur.errors import StoreError

BUSY_TIMEOUT_MS = 10_000


def backup(source: Path, target: Path) -> str:
    """Copy the database at ``source`` into ``target`` (a new empty file, whose mode the caller chose) and
    return the first line of the copy's ``integrity_check`` ("ok" when sound). Raises ``StoreError``.

    The copy is taken in one step, under a single read transaction: a snapshot, whatever commits meanwhile. It
    is left in rollback-journal mode, one self-contained file to move or keep.
    """
    try:
        origin = sqlite3.connect(source)
    except sqlite3.Error as exc:
        raise StoreError(f"backup failed: {exc}.") from exc
    try:
        copy = sqlite3.connect(target)
        try:
            origin.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
            row = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise StoreError(f"backup failed: {exc}.") from exc
    finally:
        origin.close()
    return str(row[0]) if row else "?"
