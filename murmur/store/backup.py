"""A consistent copy of a database file, safe while a server writes to it (SQLite's online backup)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from murmur.errors import StoreError
from murmur.progress import Progress, nothing

BUSY_TIMEOUT_MS = 10_000
STEP_PAGES = 1024  # 4 MiB of 4 KiB pages between two progress reports


def backup(source: Path, target: Path, progress: Progress = nothing) -> str:
    """Copy the database at ``source`` into ``target`` (a new empty file, whose mode the caller chose) and
    return the first line of the copy's ``integrity_check`` ("ok" when sound). Raises ``StoreError``.

    The copy is taken under one read transaction that the source connection holds across every step: a snapshot,
    whatever commits meanwhile (steps without it would start the copy over whenever the server wrote, and a busy
    server could keep it from ever finishing). Steps of ``STEP_PAGES`` pages let ``progress`` count pages. The
    copy is left in rollback-journal mode, one self-contained file to move or keep.
    """
    try:
        origin = sqlite3.connect(source, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"backup failed: {exc}.") from exc

    def copied(status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    try:
        copy = sqlite3.connect(target)
        try:
            origin.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            origin.execute("BEGIN")
            origin.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
            origin.backup(copy, pages=STEP_PAGES, progress=copied)
            origin.execute("COMMIT")
            copy.execute("PRAGMA journal_mode = DELETE")
            row = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise StoreError(f"backup failed: {exc}.") from exc
    finally:
        origin.close()
    return str(row[0]) if row else "?"
