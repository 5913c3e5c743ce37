"""Gaps in the devices' counted public messages (docs/protocol.md §13.8): which public messages of a device this
server knows it does not hold, from the counters of those it does.

Every message that came in with a ``counter`` tag leaves a row in ``counted`` that outlives it: a message its
author deleted (held then removed, or arriving already deleted) still took its place, so the deletion is never
shown as a gap. Only public messages carry a counter (validation refuses any other with one), so a gap never
betrays a local or scoped message. A gap is a run of counters missing below the highest one held; what a device
wrote after its newest message here cannot be known, and is not claimed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from murmur.kinds.base import select_in
from murmur.message import Message

# Migration 12 (murmur.store.schema): the table, filled from the messages already held.
CREATE_COUNTED = """
    CREATE TABLE counted (
        author  BLOB NOT NULL,                          -- the device key that signed the message
        counter INTEGER NOT NULL,
        id      BLOB NOT NULL,
        PRIMARY KEY (author, counter, id)
    );
    INSERT OR IGNORE INTO counted (author, counter, id)
        SELECT m.author, CAST(json_extract(t.value, '$[1]') AS INTEGER), m.id
        FROM messages m, json_each(CAST(m.raw AS TEXT), '$.tags') t
        WHERE json_extract(t.value, '$[0]') = 'counter';
"""

MAX_RANGES = 50  # per device in an answer; ``count`` is still the whole number missing
MAX_DEVICES = 200  # devices looked at per request (a thread's authors, an identity's devices)


def counted_row(m: Message) -> tuple[bytes, int, bytes] | None:
    """The ``counted`` row of a message, None when it carries no counter (validation checked its form)."""
    counter = m.tag("counter")
    return None if counter is None else (bytes.fromhex(m.author), int(counter), bytes.fromhex(m.id))


async def record(conn: aiosqlite.Connection, rows: Iterable[tuple[bytes, int, bytes]]) -> None:
    """Remember the counters of messages that came in (stored, or arriving already deleted by their author)."""
    await conn.executemany("INSERT OR IGNORE INTO counted (author, counter, id) VALUES (?, ?, ?)", list(rows))


@dataclass(frozen=True, slots=True)
class Gap:
    """What one device's counters say this server lacks: ``count`` counters in ``ranges`` (inclusive pairs,
    the first ``MAX_RANGES`` of them, lowest first)."""

    device: str
    count: int
    ranges: tuple[tuple[int, int], ...]

    def as_dict(self, device_name: str = "") -> dict[str, Any]:
        return {
            "device": self.device, "device_name": device_name, "count": self.count,
            "ranges": [list(r) for r in self.ranges],
        }  # fmt: skip


# Each held counter with the one below it; where they are more than one apart, the counters between are missing.
# DISTINCT first: two messages with one counter (a device restored from a backup) take one place.
_GAPS = (
    "SELECT g.author, g.prev, g.counter FROM ("
    " SELECT c.author, c.counter, lag(c.counter) OVER (PARTITION BY c.author ORDER BY c.counter) AS prev"
    " FROM (SELECT DISTINCT author, counter FROM counted WHERE author IN ({marks})) c"
    ") g WHERE g.counter - coalesce(g.prev, 0) > 1 ORDER BY g.author, g.counter"
)


async def gaps(conn: aiosqlite.Connection, devices: Sequence[str]) -> list[Gap]:
    """The gaps of each of ``devices`` (device keys) that has any, in the order given."""
    wanted = list(dict.fromkeys(devices))[:MAX_DEVICES]
    found: dict[str, list[tuple[int, int]]] = {}
    for author, prev, counter in await select_in(conn, _GAPS, [bytes.fromhex(d) for d in wanted]):
        found.setdefault(bytes(author).hex(), []).append((int(prev or 0) + 1, int(counter) - 1))
    return [
        Gap(d, sum(hi - lo + 1 for lo, hi in found[d]), tuple(found[d][:MAX_RANGES])) for d in wanted if d in found
    ]


async def ids_in(conn: aiosqlite.Connection, device: str, low: int, high: int, limit: int) -> list[bytes]:
    """The ids this server knows of ``device``'s counters ``low`` … ``high`` (at most ``limit``): what a peer
    asking to fill a gap is sent, through the audience rule like any fetch."""
    sql = "SELECT id FROM counted WHERE author = ? AND counter BETWEEN ? AND ? ORDER BY counter, id LIMIT ?"
    async with conn.execute(sql, (bytes.fromhex(device), low, high, limit)) as cursor:
        return [bytes(r[0]) for r in await cursor.fetchall()]
