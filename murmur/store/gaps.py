"""Gaps in the devices' counted public messages (docs/protocol.md §13.8): which public messages of a device this
server knows it does not hold, from the counters of those it does.

Every message that came in with a ``counter`` tag leaves a row in ``counted``, and so does the message its
``previous`` tag names, one counter below (the device signed that it was its public message before). A counter
is accounted for when a message at it is held, or was deleted by its author: held then deleted, arriving already
deleted, or never seen at all but named as a ``previous`` by a later message and deleted (its tombstone is
held). So a deletion is not shown as a gap, and since only public messages carry a counter (validation refuses
any other with one), a gap never betrays a local or scoped message. A gap is a run of counters missing below
the highest one accounted for; what a device wrote after its newest message here cannot be known, and is not
claimed. The ``previous`` claims of messages held before migration 12 are not filled in (SQL has no portable
way to read a hex id into bytes); they only ever save a deleted message from showing as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiosqlite

from murmur.kinds.base import select_in
from murmur.message import Message

if TYPE_CHECKING:  # the store's schema imports this module, and the store its schema
    from murmur.store import Store

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


def counted_rows(m: Message) -> list[tuple[bytes, int, bytes]]:
    """The ``counted`` rows of a message: its own place and its ``previous``'s (validation checked both)."""
    counter, previous = m.tag("counter"), m.tag("previous")
    if counter is None:
        return []
    author = bytes.fromhex(m.author)
    own = [(author, int(counter), bytes.fromhex(m.id))]
    return own + ([(author, int(counter) - 1, bytes.fromhex(previous))] if previous else [])


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


# A counted message is accounted for: held, deleted by its author (murmur.store.ingest keeps tombstones), or
# removed here by a moderator (murmur.store.removals): withheld on purpose, never a gap to repair.
ACCOUNTED = (
    "(EXISTS (SELECT 1 FROM messages m WHERE m.id = k.id)"
    " OR EXISTS (SELECT 1 FROM tombstones t WHERE t.target = k.id AND t.author = k.author)"
    " OR EXISTS (SELECT 1 FROM removed r WHERE r.id = k.id))"
)
# Each accounted counter with the one below it; where they are more than one apart, the counters between are
# missing. DISTINCT first: two messages with one counter (a device restored from a backup) take one place.
GAPS = (
    "SELECT g.author, g.prev, g.counter FROM ("
    " SELECT c.author, c.counter, lag(c.counter) OVER (PARTITION BY c.author ORDER BY c.counter) AS prev"
    f" FROM (SELECT DISTINCT k.author, k.counter FROM counted k WHERE k.author IN ({{marks}}) AND {ACCOUNTED}) c"
    ") g WHERE g.counter - coalesce(g.prev, 0) > 1 ORDER BY g.author, g.counter"
)


async def gaps(store: Store, devices: Sequence[str]) -> list[Gap]:
    """The gaps of each of ``devices`` (device keys) that has any, in the order given."""
    wanted = list(dict.fromkeys(devices))[:MAX_DEVICES]
    found: dict[str, list[tuple[int, int]]] = {}
    for author, prev, counter in await select_in(store.conn, GAPS, [bytes.fromhex(d) for d in wanted]):
        found.setdefault(bytes(author).hex(), []).append((int(prev or 0) + 1, int(counter) - 1))
    return [
        Gap(d, sum(hi - lo + 1 for lo, hi in found[d]), tuple(found[d][:MAX_RANGES])) for d in wanted if d in found
    ]


async def ids_in(store: Store, device: str, low: int, high: int, limit: int) -> list[bytes]:
    """The ids this server knows of ``device``'s counters ``low`` … ``high`` (at most ``limit``): what a peer
    asking to fill a gap is sent, through the audience rule like any fetch."""
    sql = "SELECT id FROM counted WHERE author = ? AND counter BETWEEN ? AND ? ORDER BY counter, id LIMIT ?"
    async with store.conn.execute(sql, (bytes.fromhex(device), low, high, limit)) as cursor:
        return [bytes(r[0]) for r in await cursor.fetchall()]
