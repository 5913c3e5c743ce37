"""The store's repair set: the ``(created_at, id)`` of every message a peer may see, kept sorted in memory.

What a peer may see is the one audience rule (``murmur.store.audience.for_peers``) that push and pull ask too,
so repair can never tell a peer that a local post, or anything about one, exists.

Reconciling 100,000 messages touches every id in its first round (the first fingerprints cover everything),
so reading them from SQLite on each request would cost a full scan per round. Instead the set is read once
and then follows the append-only log: each use asks SQLite's ``data_version`` whether anything was committed
since; if so, rows past the last seq are merged in (new messages are recent, so prefix sums are recomputed only
over the tail). A removal (a delete, a row dropped by hand, a restored backup) is seen as fewer rows at or
below the last seq than were counted, and rebuilds the set from scratch. So does a message already in the set
that the audience rule confines later (a local post arriving after replies or reactions to it): new rows of the
``confined`` table that name a message at or below the last seq.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence

from murmur.store import Store
from murmur.store.audience import for_peers
from murmur.sync.ranges import ItemSet

# One row per message a peer may see, for a whole-table read.
VISIBLE = f"SELECT m.seq, m.created_at, m.id FROM messages m WHERE {for_peers('m')}"
CHUNK = 500


class RepairIndex:
    """The repair set of one store; ``await index.current()`` returns it up to date (an immutable ItemSet)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._items = ItemSet()
        self._max_seq = 0
        self._rows = 0  # rows (of any visibility) with seq <= _max_seq when last read
        self._confined = 0  # the last rowid of the confined table when last read
        self._version: int | None = None
        self._lock = asyncio.Lock()
        self.rebuilds = 0
        self.merges = 0

    async def current(self) -> ItemSet:
        async with self._lock:
            version = await self._scalar("PRAGMA data_version")
            if version == self._version:
                return self._items
            if self._version is None or not await self._merge():
                await self._rebuild()
            self._version = version
            return self._items

    async def _scalar(self, sql: str, *args: object) -> int:
        async with self.store.conn.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def _rebuild(self) -> None:
        max_seq = await self._scalar("SELECT max(seq) FROM messages")
        self._confined = await self._scalar("SELECT max(rowid) FROM confined")
        async with self.store.conn.execute(VISIBLE + " AND m.seq <= ?", (max_seq,)) as cursor:
            rows = await cursor.fetchall()
        self._items = ItemSet((int(created_at), bytes(msg_id)) for _, created_at, msg_id in rows)
        self._max_seq = max_seq
        self._rows = await self._scalar("SELECT count(*) FROM messages WHERE seq <= ?", max_seq)
        self.rebuilds += 1

    async def _merge(self) -> bool:
        """Merge rows appended since the last read; False when something was removed or confined (rebuild)."""
        if await self._scalar("SELECT count(*) FROM messages WHERE seq <= ?", self._max_seq) != self._rows:
            return False
        confined = await self._scalar("SELECT max(rowid) FROM confined")
        flips = await self._scalar(
            "SELECT count(*) FROM confined c JOIN messages m ON m.id = c.id WHERE c.rowid > ? AND m.seq <= ?",
            self._confined,
            self._max_seq,
        )
        if flips:
            return False
        self._confined = confined
        max_seq = await self._scalar("SELECT max(seq) FROM messages")
        if max_seq == self._max_seq:
            return True
        async with self.store.conn.execute(
            VISIBLE + " AND m.seq > ? AND m.seq <= ?", (self._max_seq, max_seq)
        ) as cursor:
            rows = await cursor.fetchall()
        added = await self._scalar("SELECT count(*) FROM messages WHERE seq > ? AND seq <= ?", self._max_seq, max_seq)
        self._items = self._items.with_added([(int(created_at), bytes(msg_id)) for _, created_at, msg_id in rows])
        self._rows += added
        self._max_seq = max_seq
        self.merges += 1
        return True


_INDEXES: weakref.WeakKeyDictionary[Store, RepairIndex] = weakref.WeakKeyDictionary()


def index_for(store: Store) -> RepairIndex:
    """The one repair index of an open store (the responder and the initiator share it)."""
    index = _INDEXES.get(store)
    if index is None:
        index = _INDEXES[store] = RepairIndex(store)
    return index


async def visible_raws(store: Store, ids: Sequence[bytes]) -> list[bytes]:
    """The raw messages among ``ids`` that a peer may see; ids not held (or not for peers) are left out."""
    raws: list[bytes] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        marks = ",".join("?" * len(part))
        sql = f"SELECT m.raw FROM messages m WHERE m.id IN ({marks}) AND {for_peers('m')} ORDER BY m.seq"
        async with store.conn.execute(sql, tuple(part)) as cursor:
            raws.extend(bytes(row[0]) for row in await cursor.fetchall())
    return raws
