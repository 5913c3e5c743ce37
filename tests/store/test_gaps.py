"""Gaps in a device's counted public messages (murmur.store.gaps), on both engines: the counters missing below
the highest one held, never a message its author deleted, never a local or scoped one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.gaps import CREATE_COUNTED, GAPS, MAX_RANGES, gaps, ids_in
from murmur.store.schema import MIGRATIONS
from murmur.validate import check
from tests.counted import stream
from tests.schema_at import database_at

T0 = 1_700_000_000_000


def delete(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    return sign_draft(author, {"kind": "delete", "body": {}, "tags": [["target", target["id"]]]}, created_at=T0 + 999)


async def test_missing_counters_are_gaps_in_ranges(store: Store) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    posts = stream(ada, 9)
    held = [posts[i] for i in (1, 2, 5, 8)]  # counters 2, 3, 6, 9: missing 1, 4-5, 7-8
    await store.ingest([*held, *stream(bob, 3)])
    [gap] = await gaps(store, [ada.public_key, bob.public_key])
    assert gap.device == ada.public_key
    assert gap.ranges == ((1, 1), (4, 5), (7, 8)) and gap.count == 5
    assert gap.as_dict("laptop") == {
        "device": ada.public_key, "device_name": "laptop", "count": 5, "ranges": [[1, 1], [4, 5], [7, 8]]
    }  # fmt: skip
    await store.ingest(posts)
    assert await gaps(store, [ada.public_key]) == []


@pytest.mark.parametrize("order", ["held then deleted", "deleted before it came", "same batch"])
async def test_a_deleted_message_is_not_a_gap(store: Store, order: str) -> None:
    ada = Identity.generate()
    one, two, three = stream(ada, 3)
    gone = delete(ada, two)
    if order == "held then deleted":
        await store.ingest([one, two, three])
        await store.ingest([gone])
    elif order == "deleted before it came":
        await store.ingest([one, gone, three])
        [result] = await store.ingest([two])
        assert result.status == "deleted"
    else:
        await store.ingest([one, two, gone, three])
    assert await store.get_raw(two["id"]) is None
    assert await gaps(store, [ada.public_key]) == []


async def test_only_public_messages_are_counted(store: Store) -> None:
    """A narrower message cannot carry a counter, so it takes no place and can never look missing."""
    ada = Identity.generate()
    draft = {"kind": "post", "body": {"text": "inside", "visibility": "scope:inside"}, "tags": [["counter", "1"]]}
    with pytest.raises(Refused) as refused:
        check(sign_draft(ada, draft, created_at=T0))
    assert refused.value.code == "bad_tag"
    narrow = sign_draft(ada, {"kind": "post", "body": {"text": "local", "visibility": "local"}}, created_at=T0)
    await store.ingest([narrow, *stream(ada, 2)])
    assert await gaps(store, [ada.public_key]) == []


async def test_ranges_are_capped_but_the_count_is_whole(store: Store) -> None:
    ada = Identity.generate()
    posts = stream(ada, 2 * MAX_RANGES + 3)
    await store.ingest(posts[1::2])  # every even counter: each odd one below the top is missing alone
    [gap] = await gaps(store, [ada.public_key])
    assert len(gap.ranges) == MAX_RANGES and gap.count == MAX_RANGES + 1


async def test_ids_in_a_range_are_found_for_a_peer(store: Store) -> None:
    ada = Identity.generate()
    posts = stream(ada, 5)
    await store.ingest(posts)
    found = await ids_in(store, ada.public_key, 2, 4, limit=10)
    assert found == [bytes.fromhex(p["id"]) for p in posts[1:4]]
    assert len(await ids_in(store, ada.public_key, 1, 5, limit=2)) == 2


async def test_an_older_database_learns_the_counters_it_already_held(tmp_path: Path) -> None:
    ada = Identity.generate()
    posts = stream(ada, 4)
    async with await Store.open(tmp_path / "full.db") as full:
        await full.ingest([posts[0], posts[3]])
    database_at(MIGRATIONS.index(CREATE_COUNTED), tmp_path / "full.db", tmp_path / "old.db")
    async with await Store.open(tmp_path / "old.db") as old:
        [gap] = await gaps(old, [ada.public_key])
    assert gap.ranges == ((2, 3),)


async def test_a_deleted_message_never_seen_is_not_a_gap_when_the_next_one_names_it(store: Store) -> None:
    """The delete names the message, the next message names it as its previous: both signed, so the counter is
    accounted for without the message."""
    ada = Identity.generate()
    one, two, three = stream(ada, 3)
    await store.ingest([one, delete(ada, two), three])
    assert await gaps(store, [ada.public_key]) == []


async def test_a_delete_by_someone_else_accounts_for_nothing(store: Store) -> None:
    ada, eve = Identity.generate(), Identity.generate()
    one, two, three = stream(ada, 3)
    await store.ingest([one, delete(eve, two), three])
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((2, 2),)


@pytest.mark.sqlite_only("reads SQLite's query plans")
async def test_gaps_read_one_devices_counters_by_index(store: Store) -> None:
    """The gaps cost the device's own counters (its primary key range) and a look-up per counter, never a scan of
    the log or of everyone's counters."""
    ada = Identity.generate()
    await store.ingest(stream(ada, 3))
    sql = GAPS.format(marks="?")
    async with store.conn.execute("EXPLAIN QUERY PLAN " + sql, (bytes.fromhex(ada.public_key),)) as cursor:
        plan = [str(row[3]) for row in await cursor.fetchall()]
    assert not [step for step in plan if re.match(r"SCAN (k|counted|m|messages|t|tombstones|r|removed)\b", step)], plan


async def test_a_public_post_a_moderator_here_removed_is_not_silence_to_this_servers_readers(store: Store) -> None:
    """Issue 18: no network tells its readers what it removed; murmur does. A peer's reader is told (the signed
    withheld notice), and so are this server's own: the removed counter is in ``missing`` with the moderator's
    reason, next to what is genuinely lacking, and it is never asked of peers (``to_repair``)."""
    from murmur.client.missing import missing_lines
    from murmur.server.federation.refill import wanted
    from murmur.store.moderation import remove

    ada = Identity.generate()
    posts = stream(ada, 6)
    await store.ingest([posts[i] for i in (0, 1, 2, 5)])  # counters 4-5 never came
    await remove(store, posts[1]["id"], "off topic")
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((2, 2), (4, 5)) and gap.count == 3
    assert gap.removed == ((2, "off topic"),)
    assert gap.to_repair() == [(4, 5)]
    assert wanted([gap]) == [{"device": ada.public_key, "from": 4, "to": 5}]
    shown = gap.as_dict("laptop")
    assert shown["removed"] == [{"counter": 2, "reason": "off topic"}]
    [line] = missing_lines({"missing": [shown]}, {}, "Ada")
    assert line == "3 public messages from Ada's laptop are not on this server (1 removed here: off topic)"
    await store.ingest(posts)  # the rest arrives: what was removed stays told, and refused
    [gap] = await gaps(store, [ada.public_key])
    assert gap.ranges == ((2, 2),) and gap.to_repair() == []
