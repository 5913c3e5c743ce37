"""The gaps are read from each device's runs of counters accounted for (murmur.store.gaps, migration 14), kept as
messages come in, are deleted, removed by a moderator or removed with no trace: on both engines, the answer is
the one the whole-history query gave, whatever happens in whatever order; and reading it costs the runs, never the
device's messages."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.gaps import ACCOUNTED, CREATE_RUNS, GAPS, LOST, Gap, gaps
from murmur.store.ingest import remove_messages
from murmur.store.moderation import remove
from murmur.store.schema import MIGRATIONS
from tests.counted import stream
from tests.schema_at import TABLES, database_at

T0 = 1_700_000_000_000

# The query the gaps were read by before the runs: every accounted counter of the device, each with the one below.
WHOLE_HISTORY = (
    "SELECT g.author, g.prev, g.counter FROM ("
    " SELECT c.author, c.counter, lag(c.counter) OVER (PARTITION BY c.author ORDER BY c.counter) AS prev"
    f" FROM (SELECT DISTINCT k.author, k.counter FROM counted k WHERE k.author IN ({{marks}}) AND {ACCOUNTED}) c"
    ") g WHERE g.counter - coalesce(g.prev, 0) > 1 ORDER BY g.author, g.counter"
)


async def from_whole_history(store: Store, devices: list[str]) -> list[Gap]:
    marks = ",".join("?" * len(devices))
    async with store.conn.execute(WHOLE_HISTORY.format(marks=marks), [bytes.fromhex(d) for d in devices]) as cursor:
        rows = await cursor.fetchall()
    found: dict[str, list[tuple[int, int]]] = {}
    for author, prev, counter in rows:
        found.setdefault(bytes(author).hex(), []).append((int(prev or 0) + 1, int(counter) - 1))
    return [Gap(d, sum(hi - lo + 1 for lo, hi in found[d]), tuple(found[d][:50])) for d in devices if d in found]


async def repairable(store: Store, devices: list[str]) -> list[Gap]:
    """The gaps as peers are asked them: without what a moderator here removed (which readers are told of)."""
    found = [(g.device, g.to_repair()) for g in await gaps(store, devices)]
    return [Gap(d, sum(hi - lo + 1 for lo, hi in r), tuple(r)) for d, r in found if r]


def delete(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    draft = {"kind": "delete", "body": {}, "tags": [["target", target["id"]]]}
    return sign_draft(author, draft, created_at=T0 + 10_000 + random.randrange(10_000))


async def lost(store: Store, target: dict[str, Any]) -> None:
    """Gone from under the store: a row deleted by another hand than the store's (a damaged file, an admin)."""
    async with store.writer.transaction() as conn:
        await conn.execute("DELETE FROM messages WHERE id = ?", (bytes.fromhex(target["id"]),))


async def traceless(store: Store, target: dict[str, Any]) -> None:
    """Removed as the identity log sets a message aside: no tombstone, no moderator's removal."""
    async with store.writer.transaction() as conn:
        await remove_messages(conn, [bytes.fromhex(target["id"])])


@pytest.mark.parametrize("seed", range(6))
async def test_the_runs_answer_what_the_whole_history_answered(store: Store, seed: int) -> None:
    random.seed(seed)
    devices = [Identity.generate() for _ in range(3)]
    eve = Identity.generate()
    streams = {d.public_key: stream(d, 40) for d in devices}
    owner = {m["id"]: d for d in devices for m in streams[d.public_key]}
    every = [m for s in streams.values() for m in s]
    keys = [d.public_key for d in devices]
    held: set[str] = set()
    for _ in range(60):
        step = random.random()
        m = random.choice(every)
        if step < 0.45:  # a batch arrives, in any order
            batch = random.sample(every, random.randrange(1, 8))
            await store.ingest(batch)
            held.update(x["id"] for x in batch)
        elif step < 0.6:  # its author deletes it, held or not yet (or never) arrived
            await store.ingest([delete(owner[m["id"]], m)])
        elif step < 0.68:  # someone else's delete accounts for nothing
            await store.ingest([delete(eve, m)])
        elif step < 0.8 and m["id"] in held and await store.get_raw(m["id"]) is not None:
            await remove(store, m["id"], "off topic")
        elif step < 0.9 and m["id"] in held and await store.get_raw(m["id"]) is not None:
            await traceless(store, m)
        elif m["id"] in held and await store.get_raw(m["id"]) is not None:
            await lost(store, m)
        assert await repairable(store, keys) == await from_whole_history(store, keys)


async def test_a_message_removed_with_no_trace_opens_a_gap_again(store: Store) -> None:
    ada = Identity.generate()
    posts = stream(ada, 5)
    await store.ingest(posts)
    assert await gaps(store, [ada.public_key]) == []
    await traceless(store, posts[2])
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((3, 3),)
    await store.ingest([posts[2]])  # it comes back (the log no longer refuses it)
    assert await gaps(store, [ada.public_key]) == []
    await traceless(store, posts[4])  # the newest: nothing above it to show it missing
    assert await gaps(store, [ada.public_key]) == []


async def test_a_message_lost_from_under_the_store_is_missing_at_once(store: Store) -> None:
    """Read before any write folds it in, after one does, and once it comes back."""
    ada, bob = Identity.generate(), Identity.generate()
    posts = stream(ada, 6)
    await store.ingest(posts)
    await lost(store, posts[1])
    await lost(store, posts[3])
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((2, 2), (4, 4))
    await store.ingest(stream(bob, 2))  # a write: the losses are folded into the runs
    assert await gaps(store, [ada.public_key]) == [gap]
    await store.ingest([posts[1]])
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((4, 4),)
    assert await gaps(store, [ada.public_key]) == await from_whole_history(store, [ada.public_key])


async def test_an_older_database_gathers_its_runs(tmp_path: Path) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    a, b = stream(ada, 9), stream(bob, 4)
    async with await Store.open(tmp_path / "full.db") as full:
        await full.ingest([a[0], a[1], a[4], a[8], b[3]])
        await full.ingest([delete(ada, a[6])])
    tables = (*TABLES, "counted")  # migration 12's table, held before the runs
    database_at(MIGRATIONS.index(CREATE_RUNS), tmp_path / "full.db", tmp_path / "old.db", tables)
    async with await Store.open(tmp_path / "old.db") as old:
        keys = [ada.public_key, bob.public_key]
        found = await gaps(old, keys)
        assert found == await from_whole_history(old, keys)
        assert [g.ranges for g in found] == [((3, 4), (6, 8)), ((1, 3),)]  # 7 deleted, but nothing held names it


@pytest.mark.sqlite_only("reads SQLite's query plans")
async def test_the_gaps_cost_the_runs_not_the_messages(store: Store) -> None:
    """However many messages a device wrote, its gaps are its few runs, read by their primary key: no counted
    message, tombstone or removal is read to answer."""
    ada = Identity.generate()
    posts = stream(ada, 400)
    await store.ingest([p for n, p in enumerate(posts) if n not in (99, 299)])
    async with store.conn.execute(
        "SELECT lo, hi FROM counted_runs WHERE author = ?", (bytes.fromhex(ada.public_key),)
    ) as c:
        assert sorted(tuple(r) for r in await c.fetchall()) == [(1, 99), (101, 299), (301, 400)]
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((100, 100), (300, 300))
    sql = "EXPLAIN QUERY PLAN " + GAPS.format(marks="?")
    async with store.conn.execute(sql, (bytes.fromhex(ada.public_key),)) as cursor:
        plan = [str(row[3]) for row in await cursor.fetchall()]
    assert any(re.match(r"SEARCH counted_runs USING (COVERING INDEX|PRIMARY KEY|INDEX)", step) for step in plan), plan
    assert not [s for s in plan if re.search(r"\b(counted|messages|tombstones|removed)\b", s)], plan
    assert not [s for s in plan if s.startswith("SCAN")], plan
    # and the losses not yet folded in: their log alone is read whole, each place found by its id
    async with store.conn.execute(
        "EXPLAIN QUERY PLAN " + LOST.format(marks="?"), (bytes.fromhex(ada.public_key),)
    ) as c:
        plan = [str(row[3]) for row in await c.fetchall()]
    assert [s for s in plan if s.startswith("SCAN")] == ["SCAN g"], plan
    assert any("SEARCH k USING INDEX counted_by_id (id=?)" in s for s in plan), plan
