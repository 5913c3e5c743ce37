"""Search: posts by text (gone once deleted), people by name, bio or key prefix."""

from __future__ import annotations

import json

from store_people import Person

from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.search import ProfileHit, search_posts, search_profiles


async def test_posts_best_match_first_and_gone_after_delete(store: Store, ann: Person, ben: Person) -> None:
    strong = ann.post("deploy deploy deploy today")
    weak = ben.post("we should deploy one day, after a long and winding discussion about many other things")
    boost = ben.boost(strong)
    await store.ingest([weak, strong, boost, ben.react(strong)])
    hits = await search_posts(store, "deploy")
    assert [h.id for h in hits] == [strong["id"], weak["id"]]
    assert (hits[0].kind, hits[0].boosts, hits[0].reactions, hits[0].boosted_by) == ("post", 1, 1, None)
    assert json.loads(hits[0].raw)["id"] == strong["id"]
    await store.ingest([ann.delete(strong)])
    assert [h.id for h in await search_posts(store, "deploy")] == [weak["id"]]
    assert await store.search_posts("deploy") == [await store.get_raw(weak["id"])]
    assert await search_posts(store, "today") == []


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
