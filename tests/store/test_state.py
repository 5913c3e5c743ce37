"""Latest-wins state (profiles, follows): the same answer in every arrival order and batching."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from store_people import T0, Person

from murmur.store import Store


async def _ingest_each(store: Store, messages: list[dict[str, Any]], batched: bool) -> None:
    if batched:
        await store.ingest(messages)
    else:
        for message in messages:
            await store.ingest([message])


@pytest.mark.parametrize("batched", [False, True])
async def test_profile_latest_wins_in_any_order(tmp_path, ann: Person, batched: bool) -> None:
    profiles = [ann.profile("first", at=T0), ann.profile("second", at=T0 + 5), ann.profile("third", at=T0 + 9)]
    for n, order in enumerate(itertools.permutations(profiles)):
        async with await Store.open(tmp_path / f"p{batched}{n}.db") as store:
            await _ingest_each(store, list(order), batched)
            profile = await store.profile(ann.key)
            assert profile is not None and (profile.name, profile.created_at) == ("third", T0 + 9)
            async with store.conn.execute("SELECT name FROM profiles_fts") as cursor:
                assert [r[0] for r in await cursor.fetchall()] == ["third"]


async def test_profile_equal_time_larger_id_wins(tmp_path, ann: Person) -> None:
    a, b = ann.profile("one", at=T0), ann.profile("two", at=T0)
    winner = max(a, b, key=lambda m: m["id"])["body"]["name"]
    for n, order in enumerate(([a, b], [b, a])):
        async with await Store.open(tmp_path / f"e{n}.db") as store:
            await _ingest_each(store, order, batched=False)
            assert (await store.profile(ann.key)).name == winner  # type: ignore[union-attr]


@pytest.mark.parametrize("batched", [False, True])
async def test_follow_unfollow_latest_wins_in_any_order(tmp_path, ann: Person, ben: Person, batched: bool) -> None:
    history = [ann.follow(ben, at=T0), ann.unfollow(ben, at=T0 + 1), ann.follow(ben, at=T0 + 2)]
    for drop_last in (False, True):
        messages = history[:-1] if drop_last else history
        for n, order in enumerate(itertools.permutations(messages)):
            async with await Store.open(tmp_path / f"f{batched}{drop_last}{n}.db") as store:
                await _ingest_each(store, list(order), batched)
                assert await store.is_following(ann.key, ben.key) is not drop_last
                assert await store.following(ann.key) == ([] if drop_last else [ben.key])
                assert await store.followers(ben.key) == ([] if drop_last else [ann.key])


async def test_follow_equal_time_larger_id_wins(tmp_path, ann: Person, ben: Person) -> None:
    follow, unfollow = ann.follow(ben, at=T0), ann.unfollow(ben, at=T0)
    expect = max(follow, unfollow, key=lambda m: m["id"])["kind"] == "follow"
    for n, order in enumerate(([follow, unfollow], [unfollow, follow])):
        for batched in (False, True):
            async with await Store.open(tmp_path / f"q{n}{batched}.db") as store:
                await _ingest_each(store, order, batched)
                assert await store.is_following(ann.key, ben.key) is expect


async def test_unknown_profile_and_follow(store: Store, ann: Person, ben: Person) -> None:
    assert await store.profile(ann.key) is None
    assert not await store.is_following(ann.key, ben.key)
    assert await store.following(ann.key) == [] and await store.followers(ann.key) == []
