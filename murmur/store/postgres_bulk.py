"""Many rows of one INSERT in one statement on PostgreSQL, for ``executemany`` (``murmur.store.postgres``).

Pipelined, each row of an ``executemany`` is bound and executed on its own: the server starts its executor for
every row (opening the table's indexes, setting up a generated column's functions), which was most of a row's
cost for ingest's tables (docs/performance.md, "Two engines"). Two shapes of the store's INSERTs are sent whole:

    INSERT INTO t (a, b) VALUES (?, ?)                       ->  COPY t (a, b) FROM STDIN
    INSERT OR IGNORE INTO t (a, b) VALUES (?, ?)             ->  INSERT INTO t (a, b) SELECT * FROM
                                                                 unnest(%s::A[], %s::B[]) ON CONFLICT DO NOTHING

A and B are the columns' own types, read once per table and connection, so each value is read as its column
reads it, as a bound parameter is. Rows go in the order given, so the first of two that conflict is the one
kept, as row by row. Anything else (RETURNING, expressions, named parameters, an array column) stays
pipelined. A row the table refuses fails the whole statement, as it failed the pipeline: the writer rolls back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg

_ROW = r"INSERT INTO (?P<table>\w+)\s*\((?P<columns>\s*\w+(?:\s*,\s*\w+)*\s*)\)\s*VALUES\s*\(\s*%s(?:\s*,\s*%s)*\s*\)"
# As translated (``murmur.store.dialect``: ``?`` -> ``%s``, INSERT OR IGNORE -> ON CONFLICT DO NOTHING).
_COPYABLE = re.compile(_ROW, re.I)
_IGNORING = re.compile(_ROW + r"\s*ON CONFLICT DO NOTHING", re.I)

Types = dict[str, dict[str, str | None]]  # table -> column -> its type as SQL names it (None: an array column)


async def insert_rows(conn: psycopg.AsyncConnection[Any], text: str, rows: Sequence[Any], types: Types) -> int | None:
    """Insert ``rows`` (sequences, one value per ``%s``) by one statement when ``text`` has a shape above; the
    number of rows written, or None when ``text`` is not one of them (the caller pipelines it)."""
    copied = _COPYABLE.fullmatch(text)
    if copied is not None:
        async with conn.cursor() as cur:
            async with cur.copy(f"COPY {copied['table']} ({copied['columns']}) FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
            return cur.rowcount
    ignoring = _IGNORING.fullmatch(text)
    if ignoring is None:
        return None
    table = ignoring["table"]
    columns = [c.strip() for c in ignoring["columns"].split(",")]
    if table not in types:
        types[table] = await _column_types(conn, table)
    named = [types[table].get(c) for c in columns]
    if any(t is None for t in named):
        return None  # an array column (unnest would flatten it), or one the table does not have: as it is
    arrays = ", ".join(f"%s::{t}[]" for t in named)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"
    async with psycopg.AsyncCursor(conn) as cur:  # bound on the server: the arrays go as values, not text
        await cur.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        return cur.rowcount


async def _column_types(conn: psycopg.AsyncConnection[Any], table: str) -> dict[str, str | None]:
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory = 'A' FROM pg_attribute a"
            " JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass AND a.attnum > 0"
            " AND NOT a.attisdropped",
            (table,),
        )
        return {str(name): None if array else str(kind) for name, kind, array in await cur.fetchall()}
