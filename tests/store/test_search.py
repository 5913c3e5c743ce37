"""Search: posts by text (gone once deleted), people by name, bio or key prefix."""

from __future__ import annotations

import json
from typing import Any

from store_people import Person

from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.search import ProfileHit, search_posts, search_profiles


async def ids(store: Store, query: str, **kw: Any) -> list[str]:
    return [h.id for h in (await search_posts(store, query, **kw)).items]


async def test_posts_newest_first_and_gone_after_delete(store: Store, ann: Person, ben: Person) -> None:
    strong = ann.post("deploy deploy deploy today")
    weak = ben.post("we should deploy one day, after a long and winding discussion about many other things")
    boost = ben.boost(strong)
    await store.ingest([strong, weak, boost, ben.react(strong)])
    hits = (await search_posts(store, "deploy")).items
    assert [h.id for h in hits] == [weak["id"], strong["id"]]  # newest first, however well the older matches
    assert (hits[1].kind, hits[1].boosts, hits[1].reactions, hits[1].boosted_by) == ("post", 1, 1, None)
    assert json.loads(hits[1].raw)["id"] == strong["id"]
    await store.ingest([ann.delete(strong)])
    assert await ids(store, "deploy") == [weak["id"]]
    assert await store.search_posts("deploy") == [await store.get_raw(weak["id"])]
    assert await ids(store, "today") == []


async def test_posts_page_newest_first_with_a_cursor(store: Store, ann: Person) -> None:
    posts = [ann.post(f"standup note {i}") for i in range(7)]
    await store.ingest(posts[:4])
    await store.ingest(posts[4:])
    first = await search_posts(store, "standup", limit=3)
    second = await search_posts(store, "standup", limit=3, before=first.next_cursor)
    third = await search_posts(store, "standup", limit=3, before=second.next_cursor)
    seen = [h.id for page in (first, second, third) for h in page.items]
    assert seen == [p["id"] for p in reversed(posts)]
    assert third.next_cursor is None


async def test_profiles_by_name_bio_prefix_latest_only(store: Store, ann: Person, ben: Person) -> None:
    await store.ingest([ann.profile("Old Name"), ann.profile("Annabel", "writes the tests"), ben.profile("Ben")])
    assert await search_profiles(store, "anna") == [ProfileHit(ann.key, "Annabel", "writes the tests")]
    assert await search_profiles(store, "tests") == [ProfileHit(ann.key, "Annabel", "writes the tests")]
    assert await search_profiles(store, "old") == []
    assert await search_profiles(store, "nobody") == []


async def test_profiles_by_key_prefix_include_members_without_profile(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    await store.ingest([ann.profile("Ann")])
    await add_member(store, cat.key)
    assert await search_profiles(store, ann.key[:6]) == [ProfileHit(ann.key, "Ann", "")]
    assert await search_profiles(store, cat.key[:5].upper()) == [ProfileHit(cat.key, "", "")]
    assert await search_profiles(store, ann.key) == [ProfileHit(ann.key, "Ann", "")]
    assert await search_profiles(store, ben.key[:8]) == []  # ben is neither member nor profile
    assert await search_profiles(store, ann.key[:3]) == []  # too short to be a key prefix
