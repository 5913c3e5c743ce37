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

What is read to answer is a summary (migration 14, ``counted_runs``): each device's maximal runs of counters
accounted for, kept as counters come in (``account``) and split when one stops being accounted for (``unaccount``:
a message removed with no tombstone and no moderator's removal, as the identity log's set-aside does). The gaps are
the spaces between a device's runs, so their cost grows with the gaps, not with the messages the device wrote.
A counted message gone from the log by any other hand is logged by a trigger (``counted_lost``): readers take it
out of the runs they read, and the next write folds it in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any

import aiosqlite

from murmur.kinds.base import CHUNK, execute_many, select_in
from murmur.message import Message
from murmur.store.together import reads_together

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
    await execute_many(conn, "INSERT OR IGNORE INTO counted (author, counter, id) VALUES (?, ?, ?)", list(rows))


@dataclass(frozen=True, slots=True)
class Gap:
    """What one device's counters say this server's readers lack: ``count`` counters in ``ranges`` (inclusive
    pairs, the first ``MAX_RANGES`` of them, lowest first), ``removed`` among them (counter, the moderator's
    reason): taken away here on purpose, so told to readers, never asked of peers (``to_repair``)."""

    device: str
    count: int
    ranges: tuple[tuple[int, int], ...]
    removed: tuple[tuple[int, str], ...] = ()

    def to_repair(self) -> list[tuple[int, int]]:
        """``ranges`` without the counters removed here: what peers may be asked for."""
        ranges = list(self.ranges)
        for counter, _ in self.removed:
            ranges = _split(ranges, counter)
        return ranges

    def as_dict(self, device_name: str = "") -> dict[str, Any]:
        shown: dict[str, Any] = {
            "device": self.device, "device_name": device_name, "count": self.count,
            "ranges": [list(r) for r in self.ranges],
        }  # fmt: skip
        if self.removed:  # only then: an answer with nothing removed reads as it always did
            shown["removed"] = [{"counter": c, "reason": reason} for c, reason in self.removed[:MAX_RANGES]]
        return shown


# A counted message is held or deleted by its author (murmur.store.ingest keeps tombstones): nothing lacking.
HELD_OR_DELETED = (
    "(EXISTS (SELECT 1 FROM messages m WHERE m.id = k.id)"
    " OR EXISTS (SELECT 1 FROM tombstones t WHERE t.target = k.id AND t.author = k.author))"
)
# Accounted for, in the runs: that, or removed here by a moderator (murmur.store.removals): withheld on purpose,
# never a gap to repair; but readers here are told of it all the same (``REMOVED``, ``Gap.removed``).
ACCOUNTED = f"({HELD_OR_DELETED} OR EXISTS (SELECT 1 FROM removed r WHERE r.id = k.id))"
# Each device's accounted counters gathered into maximal runs (gaps and islands: within a run, the counter less
# its rank is constant). DISTINCT first: two messages with one counter (a device restored from a backup) take one
# place. ``{where}`` narrows the counted rows ``k``.
_RUNS = (
    "SELECT g.author, min(g.counter), max(g.counter) FROM ("
    " SELECT c.author, c.counter, c.counter - row_number() OVER (PARTITION BY c.author ORDER BY c.counter) AS island"
    f" FROM (SELECT DISTINCT k.author, k.counter FROM counted k WHERE {{where}} AND {ACCOUNTED}) c"
    ") g GROUP BY g.author, g.island"
)

# Migration 14 (murmur.store.schema): the runs, filled from the counters already held.
CREATE_RUNS = f"""
    CREATE TABLE counted_runs (
        author BLOB NOT NULL,                           -- the device key
        lo     INTEGER NOT NULL,                        -- the run's first counter accounted for
        hi     INTEGER NOT NULL,                        -- and its last: every counter between is accounted for
        PRIMARY KEY (author, lo)
    );
    -- the places of a message by its id: what a tombstone or a removal accounts for, or stops accounting for
    CREATE INDEX counted_by_id ON counted (id);
    INSERT INTO counted_runs (author, lo, hi) {_RUNS.format(where="TRUE")};
    -- Counted messages gone from the log that the runs have not yet been told of: the store's own removals tell
    -- them at once (``unaccount``); rows lost from under it (a file damaged, an admin's hand) are noticed here.
    CREATE TABLE counted_lost (id BLOB PRIMARY KEY);
    CREATE TRIGGER messages_counted_lost AFTER DELETE ON messages BEGIN
        INSERT INTO counted_lost (id) SELECT old.id WHERE EXISTS (SELECT 1 FROM counted k WHERE k.id = old.id)
            ON CONFLICT DO NOTHING;
    END;
"""

# The runs of the devices asked about, lowest first: the gaps are the spaces before and between them.
GAPS = "SELECT author, lo, hi FROM counted_runs WHERE author IN ({marks}) ORDER BY author, lo"

# The places of the asked devices' messages lost from under the store: the log of losses (empty but for them)
# read whole, each looked up by id.
LOST = (
    "SELECT k.author, k.counter FROM counted_lost g CROSS JOIN counted k INDEXED BY counted_by_id ON k.id = g.id"
    " WHERE k.author IN ({marks})"
)


# The asked devices' places a moderator here removed, with the reason, unless another message there is held or
# deleted: the removals (a moderator's few) read whole, each looked up by id, as ``LOST``.
REMOVED = (
    "SELECT k.author, k.counter, r.reason FROM removed r CROSS JOIN counted k INDEXED BY counted_by_id"
    " ON k.id = r.id WHERE k.author IN ({marks}) AND NOT EXISTS (SELECT 1 FROM counted k2 WHERE"
    f" k2.author = k.author AND k2.counter = k.counter AND {HELD_OR_DELETED.replace('k.', 'k2.')})"
)


def _islands(counters: Iterable[int]) -> list[tuple[int, int]]:
    """Distinct counters as maximal runs ``(lo, hi)``, lowest first."""
    ordered = sorted(set(counters))
    return [
        (run[0][1], run[-1][1])
        for run in (list(g) for _, g in groupby(enumerate(ordered), key=lambda pair: pair[1] - pair[0]))
    ]


async def account(conn: aiosqlite.Connection, places: Iterable[tuple[bytes, int]]) -> None:
    """Merge into the runs the ``(device, counter)`` places that may have just become accounted for (a counted
    message or the previous it names came in, a tombstone arrived for one), those that are. A few statements a
    batch, each reading only the runs next to what came in."""
    await fold_lost(conn)
    wanted = sorted(set(places))
    held: dict[bytes, list[int]] = {}
    for part in (wanted[i : i + CHUNK // 2] for i in range(0, len(wanted), CHUNK // 2)):
        values = ",".join("(?, ?)" for _ in part)
        sql = (
            f"WITH place (author, counter) AS (VALUES {values}) SELECT DISTINCT k.author, k.counter"
            " FROM place CROSS JOIN counted k WHERE k.author = place.author AND k.counter = place.counter"
            f" AND {ACCOUNTED}"
        )
        async with conn.execute(sql, [x for pair in part for x in pair]) as cursor:
            for author, counter in await cursor.fetchall():
                held.setdefault(bytes(author), []).append(int(counter))
    islands = [(author, lo, hi) for author, counters in held.items() for lo, hi in _islands(counters)]
    found: dict[bytes, set[tuple[int, int]]] = {}
    for part in (islands[i : i + CHUNK // 3] for i in range(0, len(islands), CHUNK // 3)):
        values = ",".join("(?, ?, ?)" for _ in part)
        # The runs touching or next to each island: the one holding the counter below it, and those starting
        # within it or just above it (an index range each).
        sql = (
            f"WITH island (author, lo, hi) AS (VALUES {values}) SELECT r.author, r.lo, r.hi FROM island"
            " CROSS JOIN counted_runs r WHERE r.author = island.author AND r.lo <= island.hi + 1"
            " AND r.lo >= coalesce((SELECT max(q.lo) FROM counted_runs q WHERE q.author = island.author"
            " AND q.lo < island.lo), island.lo) AND r.hi >= island.lo - 1"
        )
        async with conn.execute(sql, [x for row in part for x in row]) as cursor:
            for author, lo, hi in await cursor.fetchall():
                found.setdefault(bytes(author), set()).add((int(lo), int(hi)))
    gone: list[tuple[bytes, int]] = []
    runs: list[tuple[bytes, int, int]] = []
    for author, counters in held.items():
        near = sorted(found.get(author, set()))
        merged = _merged([*near, *_islands(counters)])
        if merged != near:  # else every place was in a run already (a tombstone for a message held)
            gone.extend((author, lo) for lo, _ in near)
            runs.extend((author, lo, hi) for lo, hi in merged)
    await execute_many(conn, "DELETE FROM counted_runs WHERE author = ? AND lo = ?", gone)
    await execute_many(conn, "INSERT INTO counted_runs (author, lo, hi) VALUES (?, ?, ?)", runs)


async def places_of(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> list[tuple[bytes, int]]:
    """The ``(device, counter)`` places the messages ``ids`` take (their own, or as another's previous)."""
    rows = await select_in(conn, "SELECT author, counter FROM counted WHERE id IN ({marks})", ids)
    return [(bytes(author), int(counter)) for author, counter in rows]


async def _unaccounted(conn: aiosqlite.Connection, places: Iterable[tuple[bytes, int]]) -> list[tuple[bytes, int]]:
    """Those of ``places`` no longer accounted for."""
    out = []
    for author, counter in sorted(set(places)):
        sql = f"SELECT 1 FROM counted k WHERE k.author = ? AND k.counter = ? AND {ACCOUNTED}"
        async with conn.execute(sql, (author, counter)) as cursor:
            if await cursor.fetchone() is None:
                out.append((author, counter))
    return out


def _split(runs: list[tuple[int, int]], counter: int) -> list[tuple[int, int]]:
    """``runs`` (disjoint, lowest first) without ``counter``."""
    return [(a, b) for lo, hi in runs for a, b in ((lo, min(hi, counter - 1)), (max(lo, counter + 1), hi)) if a <= b]


async def unaccount(conn: aiosqlite.Connection, ids: Sequence[bytes]) -> None:
    """Split the runs at the places of the messages ``ids``, just removed by the store, that are no longer
    accounted for (removed with no tombstone and no moderator's removal: set aside by the identity log)."""
    for author, counter in await _unaccounted(conn, await places_of(conn, ids)):
        sql = "SELECT lo, hi FROM counted_runs WHERE author = ? AND lo <= ? ORDER BY lo DESC LIMIT 1"
        async with conn.execute(sql, (author, counter)) as cursor:
            row = await cursor.fetchone()
        if row is None or int(row[1]) < counter:
            continue
        lo, hi = int(row[0]), int(row[1])
        await conn.execute("DELETE FROM counted_runs WHERE author = ? AND lo = ?", (author, lo))
        parts = [(author, a, b) for a, b in _split([(lo, hi)], counter)]
        await conn.executemany("INSERT INTO counted_runs (author, lo, hi) VALUES (?, ?, ?)", parts)
    await conn.executemany("DELETE FROM counted_lost WHERE id = ?", [(i,) for i in ids])


async def fold_lost(conn: aiosqlite.Connection) -> None:
    """Tell the runs of the counted messages lost from under the store since it last looked (usually none)."""
    async with conn.execute("SELECT id FROM counted_lost") as cursor:
        lost = [bytes(row[0]) for row in await cursor.fetchall()]
    if lost:
        await unaccount(conn, lost)


async def _lost_among(conn: aiosqlite.Connection, devices: Sequence[bytes]) -> dict[bytes, list[int]]:
    """The places of ``devices`` whose messages were lost from under the store and not yet folded in."""
    rows = await select_in(conn, LOST, devices)
    found: dict[bytes, list[int]] = {}
    for author, counter in await _unaccounted(conn, [(bytes(a), int(c)) for a, c in rows]):
        found.setdefault(author, []).append(counter)
    return found


async def gaps(store: Store, devices: Sequence[str]) -> list[Gap]:
    """The gaps of each of ``devices`` (device keys) that has any, in the order given: the spaces below and
    between each device's runs."""
    wanted = list(dict.fromkeys(devices))[:MAX_DEVICES]
    keys = [bytes.fromhex(d) for d in wanted]
    runs: dict[bytes, list[tuple[int, int]]] = {}
    with reads_together():
        held, lost, removals = await asyncio.gather(
            select_in(store.conn, GAPS, keys), _lost_among(store.conn, keys), select_in(store.conn, REMOVED, keys)
        )
    for author, lo, hi in held:
        runs.setdefault(bytes(author), []).append((int(lo), int(hi)))
    for author, counters in lost.items():
        for counter in counters:
            runs[author] = _split(runs.get(author, []), counter)
    found: dict[str, list[tuple[int, int]]] = {}
    for author, held in runs.items():
        below = 0
        for lo, hi in held:
            if lo > below + 1:
                found.setdefault(author.hex(), []).append((below + 1, lo - 1))
            below = hi
    removed: dict[str, dict[int, str]] = {}
    for author, counter, reason in removals:
        removed.setdefault(bytes(author).hex(), {})[int(counter)] = str(reason)
    out = []
    for d in wanted:
        taken = removed.get(d, {})
        ranges = _merged([*found.get(d, []), *((c, c) for c in taken)])
        if ranges:
            count = sum(hi - lo + 1 for lo, hi in ranges)
            out.append(Gap(d, count, tuple(ranges[:MAX_RANGES]), tuple(sorted(taken.items()))))
    return out


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive ranges joined where they meet or touch, lowest first."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


async def ids_in(store: Store, device: str, low: int, high: int, limit: int) -> list[bytes]:
    """The ids this server knows of ``device``'s counters ``low`` … ``high`` (at most ``limit``): what a peer
    asking to fill a gap is sent, through the audience rule like any fetch."""
    sql = "SELECT id FROM counted WHERE author = ? AND counter BETWEEN ? AND ? ORDER BY counter, id LIMIT ?"
    async with store.conn.execute(sql, (bytes.fromhex(device), low, high, limit)) as cursor:
        return [bytes(r[0]) for r in await cursor.fetchall()]
