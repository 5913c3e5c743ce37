"""What the repair set (``murmur.sync.index``) reads of the store: how the log changed, and the
``(created_at, id)`` of the messages a peer may see, by log position.

What a peer may see is the one audience rule (``murmur.store.audience.for_peers``) that push and pull ask too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from murmur.store import Store
from murmur.store.audience import for_peers
from murmur.store.items import select

CHUNK = 500  # ids per IN (...) query


async def _scalar(store: Store, sql: str, params: Sequence[Any] = ()) -> int:
    rows = await select(store.conn, sql, params)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


async def data_version(store: Store) -> int:
    """A number that changes whenever another connection (the writer, another process) commits; reading it costs
    no I/O, so it tells cheaply whether anything needs to be read again."""
    return await _scalar(store, "PRAGMA data_version")


async def last_held_seq(store: Store) -> int:
    """The log position of the newest message held (0 for none); unlike ``Store.last_seq``, a deleted row's
    position does not count."""
    return await _scalar(store, "SELECT max(seq) FROM messages")


async def rows_between(store: Store, after: int, through: int) -> int:
    """How many messages of any audience are held with a log position in (``after``, ``through``]."""
    return await _scalar(store, "SELECT count(*) FROM messages WHERE seq > ? AND seq <= ?", (after, through))


async def last_confined(store: Store) -> int:
    """The newest row of the ``confined`` table (murmur.store.audience), 0 for none: rows are only ever added."""
    return await _scalar(store, "SELECT max(rowid) FROM confined")


async def confined_since(store: Store, mark: int, through: int) -> int:
    """How many messages with a log position up to ``through`` were confined after row ``mark`` of ``confined``
    (a local post that arrived after replies to it takes them, already visible, off what peers may see)."""
    return await _scalar(
        store,
        "SELECT count(*) FROM confined c JOIN messages m ON m.id = c.id WHERE c.rowid > ? AND m.seq <= ?",
        (mark, through),
    )


async def visible_between(store: Store, after: int, through: int) -> list[tuple[int, bytes]]:
    """``(created_at, id)`` of each message a peer may see with a log position in (``after``, ``through``]."""
    sql = f"SELECT m.created_at, m.id FROM messages m WHERE m.seq > ? AND m.seq <= ? AND {for_peers('m')}"
    return [(int(created_at), bytes(msg_id)) for created_at, msg_id in await select(store.conn, sql, (after, through))]


async def visible_raws(store: Store, ids: Sequence[bytes]) -> list[bytes]:
    """The raw messages among ``ids`` that a peer may see, in log order per chunk; ids not held (or not for
    peers) are left out."""
    raws: list[bytes] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        marks = ",".join("?" * len(part))
        sql = f"SELECT m.raw FROM messages m WHERE m.id IN ({marks}) AND {for_peers('m')} ORDER BY m.seq"
        raws.extend(bytes(row[0]) for row in await select(store.conn, sql, tuple(part)))
    return raws
