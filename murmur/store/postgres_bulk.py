"""Many rows of one INSERT in one statement on PostgreSQL, for ``executemany`` (``murmur.store.postgres``).

Pipelined, each row of an ``executemany`` is bound and executed on its own: the server starts its executor for
every row (opening the table's indexes, setting up a generated column's functions), which was most of a row's
cost for ingest's two big tables, messages and the full-text rows (docs/performance.md, "Two engines"). A plain
INSERT of values into columns is sent whole instead:

    INSERT INTO t (a, b) VALUES (?, ?)   ->   COPY t (a, b) FROM STDIN

Each value is read by its column's type, as a bound parameter is. A row the table refuses fails the COPY, as it
failed the pipeline: the writer rolls back. Anything else (INSERT OR IGNORE, RETURNING, expressions, named
parameters) stays pipelined: sending INSERT OR IGNORE's rows (hashtags, mentions, tallies) as one INSERT over
arrays saved nothing measurable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg

# As translated (``murmur.store.dialect``: ``?`` -> ``%s``), with nothing after the values.
_COPYABLE = re.compile(
    r"INSERT INTO (?P<table>\w+)\s*\((?P<columns>\s*\w+(?:\s*,\s*\w+)*\s*)\)\s*VALUES\s*\(\s*%s(?:\s*,\s*%s)*\s*\)",
    re.I,
)


async def insert_rows(conn: psycopg.AsyncConnection[Any], text: str, rows: Sequence[Any]) -> tuple[str, int] | None:
    """Insert ``rows`` (sequences, one value per ``%s``) by COPY when ``text`` is a plain INSERT; the table and
    the number of rows written, or None when it is not (the caller pipelines it)."""
    copied = _COPYABLE.fullmatch(text)
    if copied is None:
        return None
    async with conn.cursor() as cur:
        async with cur.copy(f"COPY {copied['table']} ({copied['columns']}) FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row)
        return copied["table"], cur.rowcount
