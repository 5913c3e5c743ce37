"""Ingest: results and log positions, duplicates, refusals, and deletes in every order."""

from __future__ import annotations

import json

from store_people import Person

from murmur.store import Store


async def _fts(store: Store, word: str) -> list[bytes]:
    return await store.search_posts(word)


async def _rows(store: Store, table: str) -> int:
    async with store.conn.execute(f"SELECT count(*) FROM {table}") as cursor:  # table names are constants here
        row = await cursor.fetchone()
    return int(row[0])


async def test_store_then_duplicate_keeps_first_seq(store: Store, ann: Person) -> None:
    first, second = ann.post("one"), ann.post("two")
    results = await store.ingest([first, second])
    assert [(r.status, r.seq) for r in results] == [("stored", 1), ("stored", 2)]
    assert [r.id for r in results] == [first["id"], second["id"]]
    again = await store.ingest([second])
    assert [(r.status, r.seq, r.id) for r in again] == [("duplicate", 2, second["id"])]
    assert await store.count() == 2
    assert json.loads(await store.get_raw(first["id"]) or b"")["body"]["text"] == "one"
    message = await store.get(second["id"])
    assert message is not None and message.body["text"] == "two"


async def test_batch_mix_of_valid_duplicate_and_refused(store: Store, ann: Person) -> None:
    old = ann.post("old")
    await store.ingest([old])
    tampered = {**ann.post("tampered"), "sig": "0" * 128}
    good = ann.post("good")
    results = await store.ingest([good, old, tampered, b"{not json", {"kind": "post"}, ann.post("also good")])
    assert [r.status for r in results] == ["stored", "duplicate", "refused", "refused", "refused", "stored"]
    assert [r.code for r in results if r.status == "refused"] == ["bad_signature", "invalid_json", "missing_field"]
    assert all(r.reason for r in results if r.status == "refused")
    assert results[2].id == tampered["id"]
    assert [r.seq for r in results if r.status == "stored"] == [2, 3]
    assert await store.count() == 3
    assert results[0].as_dict() == {"status": "stored", "id": good["id"], "seq": 2}


async def test_duplicate_within_one_batch(store: Store, ann: Person) -> None:
    post = ann.post()
    results = await store.ingest([post, post, json.dumps(post).encode()])
    assert [(r.status, r.seq) for r in results] == [("stored", 1), ("duplicate", 1), ("duplicate", 1)]
    assert await store.count() == 1


async def test_all_refused_batch_writes_nothing(store: Store, ann: Person) -> None:
    results = await store.ingest([b"", b"[]", {**ann.post(), "v": 2}])
    assert [r.code for r in results] == ["invalid_json", "not_object", "unknown_version"]
    assert await store.count() == 0


async def test_tombstone_before_target(store: Store, ann: Person) -> None:
    post = ann.post("gone before it came #topic", hashtags=("topic",))
    tomb = ann.delete(post)
    assert [r.status for r in await store.ingest([tomb])] == ["stored"]
    results = await store.ingest([post])
    assert (results[0].status, results[0].code) == ("deleted", "deleted")
    assert await store.get_raw(post["id"]) is None
    assert await store.is_deleted(post["id"])
    assert await _fts(store, "before") == []
    assert [r.status for r in await store.ingest([post])] == ["deleted"]  # and again, still not stored


async def test_tombstone_after_target_removes_every_trace(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("secret words #topic", mentions=(ben.key,), hashtags=("topic",))
    await store.ingest([post])
    assert len(await _fts(store, "secret")) == 1
    assert (await _rows(store, "mentions"), await _rows(store, "hashtags")) == (1, 1)
    tomb = ann.delete(post)
    assert [r.status for r in await store.ingest([tomb])] == ["stored"]
    assert await store.get_raw(post["id"]) is None
    assert await _fts(store, "secret") == []
    assert (await _rows(store, "mentions"), await _rows(store, "hashtags"), await _rows(store, "notices")) == (0, 0, 0)
    log = await store.log_after(0)
    assert [json.loads(e.raw)["id"] for e in log] == [tomb["id"]]
    assert [r.status for r in await store.ingest([post])] == ["deleted"]


async def test_delete_of_another_authors_stored_message_is_refused(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post()
    await store.ingest([post])
    results = await store.ingest([ben.delete(post)])
    assert (results[0].status, results[0].code) == ("refused", "not_author")
    assert await store.get_raw(post["id"]) is not None
    assert not await store.is_deleted(post["id"])


async def test_delete_of_another_authors_message_arriving_first(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post()
    assert [r.status for r in await store.ingest([ben.delete(post)])] == ["stored"]
    assert [r.status for r in await store.ingest([post])] == ["stored"]
    assert await store.get_raw(post["id"]) is not None
    assert not await store.is_deleted(post["id"])


async def test_delete_of_profile_or_follow_removes_nothing(store: Store, ann: Person, ben: Person) -> None:
    profile, follow = ann.profile("Ann"), ann.follow(ben)
    await store.ingest([profile, follow])
    results = await store.ingest([ann.delete(profile), ann.delete(follow)])
    assert [r.status for r in results] == ["stored", "stored"]
    assert await store.get_raw(profile["id"]) is not None and await store.get_raw(follow["id"]) is not None
    assert (await store.profile(ann.key) or None) is not None
    assert await store.is_following(ann.key, ben.key)


async def test_delete_and_target_in_one_batch_target_first(store: Store, ann: Person) -> None:
    post = ann.post("short lived", hashtags=("brief",))
    tomb = ann.delete(post)
    results = await store.ingest([post, tomb])
    assert [r.status for r in results] == ["deleted", "stored"]
    assert results[1].seq == 2
    assert await store.get_raw(post["id"]) is None
    assert await _fts(store, "short") == []
    assert await _rows(store, "hashtags") == 0
    # The seq handed to the dropped post is never handed out again.
    later = await store.ingest([ann.post()])
    assert later[0].seq == 3


async def test_delete_and_target_in_one_batch_delete_first(store: Store, ann: Person) -> None:
    post = ann.post("never seen")
    results = await store.ingest([ann.delete(post), post, post])
    assert [r.status for r in results] == ["stored", "deleted", "deleted"]
    assert await store.count() == 1
    assert await _fts(store, "never") == []


async def test_delete_in_batch_aimed_at_other_authors_message_in_same_batch(
    store: Store, ann: Person, ben: Person
) -> None:
    post = ann.post()
    results = await store.ingest([post, ben.delete(post)])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("refused", "not_author")]
    results = await store.ingest([ben.delete(p2 := ann.post("x")), p2])
    assert [r.status for r in results] == ["stored", "stored"]
    assert await store.get_raw(p2["id"]) is not None


async def test_delete_removes_reactions_and_boosts(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post()
    reaction, boost = ben.react(post), ben.boost(post)
    await store.ingest([post, reaction, boost])
    await store.ingest([ben.delete(reaction), ben.delete(boost)])
    assert await store.get_raw(reaction["id"]) is None and await store.get_raw(boost["id"]) is None
    assert await store.get_raw(post["id"]) is not None


async def test_log_after_pages_by_cursor(store: Store, ann: Person) -> None:
    posts = [ann.post(f"n{i}") for i in range(7)]
    await store.ingest(posts)
    seen: list[str] = []
    cursor = 0
    while page := await store.log_after(cursor, limit=3):
        seen += [json.loads(e.raw)["id"] for e in page]
        assert [e.seq for e in page] == sorted(e.seq for e in page)
        cursor = page[-1].seq
    assert seen == [p["id"] for p in posts]
    assert await store.log_after(7) == []


async def test_seq_never_reused_after_highest_is_deleted(tmp_path, ann: Person) -> None:
    path = tmp_path / "m.db"
    first, second = ann.post("a"), ann.post("b")
    async with await Store.open(path) as store:
        await store.ingest([first, second])
        assert (await store.ingest([ann.delete(second)]))[0].seq == 3  # removes seq 2
        assert (await store.ingest([ann.delete(first)]))[0].seq == 4  # removes seq 1
    async with await Store.open(path) as store:
        assert [e.seq for e in await store.log_after(0)] == [3, 4]
        assert (await store.ingest([ann.post("c")]))[0].seq == 5
        # The highest row itself can go too (a delete is never removed by ingest, so remove one by hand):
        # AUTOINCREMENT keeps its high-water mark in sqlite_sequence, across a reopen.
        async with store.writer.transaction() as conn:
            await conn.execute("DELETE FROM messages WHERE seq = 5")
    async with await Store.open(path) as store:
        assert [e.seq for e in await store.log_after(0)] == [3, 4]
        assert (await store.ingest([ann.post("d")]))[0].seq == 6


async def test_reopen_keeps_everything(tmp_path, ann: Person, ben: Person) -> None:
    path = tmp_path / "m.db"
    post = ann.post("durable words")
    async with await Store.open(path) as store:
        await store.ingest([post, ann.profile("Ann", "bio"), ann.follow(ben)])
    async with await Store.open(path) as store:
        assert await store.count() == 3
        assert await store.get_raw(post["id"]) is not None
        assert (p := await store.profile(ann.key)) is not None and p.name == "Ann"
        assert await store.following(ann.key) == [ben.key]
        assert await store.followers(ben.key) == [ann.key]
        assert len(await store.search_posts("durable")) == 1
        assert await store.integrity_check() == "ok"
