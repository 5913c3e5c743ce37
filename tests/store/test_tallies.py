"""One boost per person per post, one reaction per emoji per person: in counts and in notifications.

Identical reactions or boosts (sent twice, or from two devices) are all stored, since each is a valid signed
message that repair would otherwise offer again forever, but only count once. Counts are of distinct values,
so any two servers holding the same messages agree, whatever order the messages arrived in.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from store_people import Person

from murmur.jcs import canonicalize
from murmur.store import Store
from murmur.store.notifications import notifications
from murmur.store.schema import _NOTICES_AT_2, MIGRATIONS
from murmur.store.timelines import author


async def counts(store: Store, whose: Person) -> tuple[int, int, int]:
    [item] = (await author(store, whose.key)).items
    return item.replies, item.reactions, item.boosts


async def told(store: Store, whose: Person) -> list[tuple[str, str]]:
    return [(n.kind, n.actor) for n in (await notifications(store, whose.key, limit=50)).items]


async def test_the_same_reaction_or_boost_twice_counts_and_tells_once(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    post = ann.post("mine")
    results = await store.ingest([post, ben.react(post, "👍"), ben.boost(post)])
    again = await store.ingest([ben.react(post, "👍"), ben.boost(post), ben.react(post, "🎉"), cat.react(post, "👍")])
    assert all(r.status == "stored" for r in results + again)  # stored, every one of them
    assert await counts(store, ann) == (0, 3, 1)  # ben 👍, ben 🎉, cat 👍; one boost
    assert sorted(await told(store, ann)) == sorted(
        [("reaction", ben.key), ("boost", ben.key), ("reaction", ben.key), ("reaction", cat.key)]
    )


async def test_twins_in_one_batch_and_before_their_post_count_once(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("mine")
    await store.ingest([ben.react(post), ben.react(post), ben.boost(post), ben.boost(post)])
    await store.ingest([post])  # the post arrives last: its notices are derived then, once per kind
    assert await counts(store, ann) == (0, 1, 1)
    assert sorted(await told(store, ann)) == [("boost", ben.key), ("reaction", ben.key)]


async def test_a_delete_of_one_twin_leaves_the_other_counted(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("mine")
    first, second = ben.boost(post), ben.boost(post)
    await store.ingest([post, first, second])
    await store.ingest([ben.delete(first)])
    assert await counts(store, ann) == (0, 0, 1)
    await store.ingest([ben.delete(second)])
    assert await counts(store, ann) == (0, 0, 0)


async def test_servers_agree_whatever_the_order(tmp_path: Path, ann: Person, ben: Person, cat: Person) -> None:
    post = ann.post("mine")
    r1, r2 = ben.react(post, "👍"), ben.react(post, "👍")
    b1, b2 = cat.boost(post), cat.boost(post)
    messages = [post, r1, r2, b1, b2, ben.react(post, "🎉"), cat.react(post, "👍"), ben.delete(r1), ann.post("x")]
    rng = random.Random(13)
    seen: set[tuple[int, int, int]] = set()
    for n in range(8):
        order = messages[:]
        rng.shuffle(order)
        async with await Store.open(tmp_path / f"s{n}.db") as store:
            for message in order:
                await store.ingest([message])
            [item] = [i for i in (await author(store, ann.key)).items if i.id == post["id"]]
            seen.add((item.replies, item.reactions, item.boosts))
    assert seen == {(0, 3, 1)}  # r2 still stands for ben's 👍 after r1 is deleted


async def test_the_migration_counts_held_twins_once(tmp_path: Path, ann: Person, ben: Person) -> None:
    """A database from before tallies, holding twins and a notice for each, is counted and told once after."""
    post = ann.post("mine")
    held: list[dict[str, Any]] = [post, ben.react(post), ben.react(post), ben.boost(post), ben.boost(post)]
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for number in range(3):
        db.executescript(MIGRATIONS[number])
    for seq, m in enumerate(held, start=1):
        target = next((bytes.fromhex(v) for n, v in m["tags"] if n == "target"), None)
        db.execute(
            "INSERT INTO messages (seq, id, author, kind, created_at, visibility, target, origin, received_at, raw)"
            " VALUES (?, ?, ?, ?, ?, 'public', ?, 'local', 0, ?)",
            (seq, bytes.fromhex(m["id"]), bytes.fromhex(m["author"]), m["kind"], m["created_at"], target,
             canonicalize(m)),
        )  # fmt: skip
    for rule in _NOTICES_AT_2:
        db.execute(rule, {"lo": 0, "hi": 99})
    db.execute("PRAGMA user_version = 3")
    db.commit()
    assert db.execute("SELECT count(*) FROM notices").fetchone()[0] == 4
    db.close()
    async with await Store.open(path) as store:
        assert await counts(store, ann) == (0, 1, 1)
        assert sorted(await told(store, ann)) == [("boost", ben.key), ("reaction", ben.key)]


async def test_a_twin_boost_shows_the_post_once_in_timelines(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("mine")
    await store.ingest([post, ben.boost(post), ann.post("between"), ben.boost(post)])
    entries = [(i.kind, i.id) for i in (await author(store, ben.key)).items]
    assert entries == [("boost", post["id"])]
