"""Copying a whole store from one engine to another (``murmur admin migrate-db``), and checking the copy.

Every table the source holds is copied, row by row and column by column, in one transaction on the target: the
log with its seqs (so peers' cursors into it still mean the same messages), the high-water mark of seqs ever
handed out (a deleted last message's seq is never handed out again), ``rowid``s where queries read them (the
``confined`` table's order, full-text rows keyed by seq), cursors, peers, members, invites, notices, markers and
every kind's tables. The target must be freshly migrated and empty; the copy is refused otherwise.

The check reads both sides again, after the commit: per table, the number of rows and a digest of every row's
values (an order-free SHA-256 over each row's canonical form), which must match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from murmur.errors import StoreError
from murmur.progress import Progress, nothing
from murmur.store import Store

CHUNK = 1000
# The target's own bookkeeping, which its migrations wrote: copied tables never include these.
_ENGINE_TABLES = {"murmur_schema", "murmur_fts_columns", "murmur_sequence"}
_FTS_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    rows: int
    digest: str
    matches: bool


async def _rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    async with store.conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _source_tables(source: Store) -> list[str]:
    rows = await _rows(source, "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
    virtual = {str(name) for name, sql in rows if str(sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
    shadows = {f"{v}{s}" for v in virtual for s in _FTS_SHADOWS}
    return [str(n) for n, _ in rows if not str(n).startswith("sqlite_") and str(n) not in shadows]


async def _columns(store: Store, table: str) -> list[str]:
    if store.database:
        rows = await _rows(
            store,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position",
            (table,),
        )
    else:
        rows = await _rows(store, "SELECT name FROM pragma_table_info(?)", (table,))
        if await _has_rowid(store, table):
            rows.insert(0, ("rowid",))
    return [str(r[0]) for r in rows]


async def _has_rowid(store: Store, table: str) -> bool:
    try:
        await _rows(store, f'SELECT rowid FROM "{table}" LIMIT 0')
    except StoreError:
        return False
    return True


async def copy_store(source: Store, target: Store, progress: Progress = nothing) -> list[TableCopy]:
    """Copy everything ``source`` holds into ``target`` (empty, migrated) and check it; one result per table.
    ``progress`` hears rows copied out of every table's rows."""
    if source.database or not target.database:
        raise StoreError("migrate-db copies a SQLite store into a PostgreSQL database.")
    if await _rows(target, "SELECT 1 FROM messages LIMIT 1"):
        raise StoreError("The target database already holds messages: copy into an empty database only.")
    tables = await _source_tables(source)
    plan: list[tuple[str, list[str]]] = []
    for table in tables:
        theirs = set(await _columns(target, table))
        if not theirs:
            raise StoreError(f"The target has no table {table}: is it migrated by the same murmur version?")
        plan.append((table, [c for c in await _columns(source, table) if c in theirs]))
    total = sum([int((await _rows(source, f"SELECT count(*) FROM {table}"))[0][0]) for table, _ in plan])
    done = 0
    progress(done, total)
    async with target.writer.transaction() as conn:
        for table, columns in plan:
            if table == "kind_schema":  # the target's migrations wrote the same rows already
                await conn.execute("DELETE FROM kind_schema")
            names = ", ".join(columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
            async with source.conn.execute(f"SELECT {names} FROM {table}") as cursor:
                while chunk := await cursor.fetchmany(CHUNK):
                    await conn.executemany(insert, chunk)
                    done += len(chunk)
                    progress(done, total)
            if "rowid" in columns:  # identity columns go on after the highest copied rowid
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'rowid'), (SELECT max(rowid) FROM {table}))"
                    f" WHERE EXISTS (SELECT 1 FROM {table})"
                )
        mark = await _rows(source, "SELECT seq FROM sqlite_sequence WHERE name = 'messages'")
        await conn.execute(
            "UPDATE sqlite_sequence SET seq = ? WHERE name = 'messages'", (int(mark[0][0]) if mark else 0,)
        )
    return [await _check(source, target, table, columns) for table, columns in plan]


async def _digest(store: Store, table: str, columns: list[str]) -> tuple[int, str]:
    hashes = sorted(
        hashlib.sha256(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode()).digest()
        for row in await _rows(store, f"SELECT {', '.join(columns)} FROM {table}")
    )
    return len(hashes), hashlib.sha256(b"".join(hashes)).hexdigest()


async def _check(source: Store, target: Store, table: str, columns: list[str]) -> TableCopy:
    rows, digest = await _digest(source, table, columns)
    copied = await _digest(target, table, columns)
    return TableCopy(table, rows, digest, copied == (rows, digest))
