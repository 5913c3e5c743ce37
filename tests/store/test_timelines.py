"""Timelines: contents, order, boosts, counts, deletes, and paging while posts keep arriving."""

from __future__ import annotations

import json
from typing import Any

from store_people import Person

from murmur.store import Store
from murmur.store.items import Page
from murmur.store.members import add_member
from murmur.store.timelines import author, federated, hashtag, home, local, mentions


def texts(page: Page) -> list[str]:
    return [json.loads(item.raw)["body"]["text"] for item in page.items]


def ids(page: Page) -> list[str]:
    return [item.id for item in page.items]


async def test_home_has_mine_followed_and_boosts(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    a1, b1, c1 = ann.post("ann 1"), ben.post("ben 1"), cat.post("cat 1")
    boost = ben.boost(c1)
    await store.ingest([ann.follow(ben), a1, b1, c1, boost, cat.post("cat 2"), ben.react(c1)])
    page = await home(store, ann.key)
    assert texts(page) == ["cat 1", "ben 1", "ann 1"]
    assert page.next_cursor is None
    shown = page.items[0]
    assert (shown.kind, shown.boosted_by, shown.id, shown.author) == ("boost", ben.key, c1["id"], cat.key)
    assert shown.boost_raw is not None and json.loads(shown.boost_raw)["id"] == boost["id"]
    assert (shown.replies, shown.reactions, shown.boosts) == (0, 1, 1)
    plain = page.items[1]
    assert (plain.kind, plain.boosted_by, plain.boost_raw, plain.origin) == ("post", None, None, "local")


async def test_home_after_unfollow_and_without_follows(store: Store, ann: Person, ben: Person) -> None:
    await store.ingest([ann.follow(ben), ben.post("ben"), ann.post("ann")])
    assert texts(await home(store, ann.key)) == ["ann", "ben"]
    await store.ingest([ann.unfollow(ben)])
    assert texts(await home(store, ann.key)) == ["ann"]
    assert texts(await home(store, ben.key)) == ["ben"]


async def test_boost_of_missing_or_deleted_post_is_not_shown(store: Store, ann: Person, ben: Person) -> None:
    held, missing = ann.post("held"), ann.post("never arrives")
    await store.ingest([ben.follow(ann), held, ben.boost(held), ben.boost(missing)])
    page = await home(store, ben.key)
    assert [(i.kind, json.loads(i.raw)["body"]["text"]) for i in page.items] == [("boost", "held"), ("post", "held")]
    await store.ingest([ann.delete(held)])
    page = await home(store, ben.key)
    assert page.items == [] and page.next_cursor is None
    assert (await author(store, ben.key)).items == []


async def test_counts_ignore_deleted(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("counted")
    reply, reaction, boost = ben.post("re", reply=post), ben.react(post), ben.boost(post)
    await store.ingest([post, reply, reaction, boost])
    item = (await author(store, ann.key)).items[0]
    assert (item.replies, item.reactions, item.boosts) == (1, 1, 1)
    await store.ingest([ben.delete(reply), ben.delete(reaction), ben.delete(boost)])
    item = (await author(store, ann.key)).items[0]
    assert (item.replies, item.reactions, item.boosts) == (0, 0, 0)


async def test_local_is_members_posts_public_and_local(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    await add_member(store, ann.key)
    await add_member(store, ben.key, role="admin")
    outside = cat.post("cat public")
    await store.ingest([ann.post("ann public"), ben.post("ben local", visibility="local"), outside, ann.boost(outside)])
    assert texts(await local(store)) == ["ben local", "ann public"]


async def test_federated_is_all_public_posts(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("public")
    await store.ingest([post, ben.post("local only", visibility="local"), ben.post("other"), ben.boost(post)])
    assert texts(await federated(store)) == ["other", "public"]


async def test_mentions_and_hashtag(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    post = ann.post("hey ben #Release", mentions=(ben.key,), hashtags=("release",))
    await store.ingest([post, cat.post("about #release", hashtags=("release",)), cat.boost(post)])
    assert texts(await mentions(store, ben.key)) == ["hey ben #Release"]
    assert texts(await hashtag(store, "#RELEASE")) == ["about #release", "hey ben #Release"]
    assert (await hashtag(store, "nothing")).items == []
    await store.ingest([ann.delete(post)])
    assert (await mentions(store, ben.key)).items == []
    assert texts(await hashtag(store, "release")) == ["about #release"]


async def test_author_has_posts_and_boosts_only(store: Store, ann: Person, ben: Person) -> None:
    post = ben.post("ben's")
    await store.ingest([post, ann.post("mine"), ann.boost(post), ann.react(post), ann.profile("Ann"), ann.follow(ben)])
    page = await author(store, ann.key)
    assert [(i.kind, json.loads(i.raw)["body"]["text"]) for i in page.items] == [("boost", "ben's"), ("post", "mine")]


async def _walk(fetch: Any, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    before = None
    while True:
        page = await fetch(limit=limit, before=before)
        pages.append(texts(page))
        if page.next_cursor is None:
            return pages
        before = page.next_cursor


async def test_pagination_is_stable_while_posts_arrive(store: Store, ann: Person, ben: Person) -> None:
    await add_member(store, ann.key)
    await store.ingest([ann.follow(ben)] + [(ann if i % 2 else ben).post(f"p{i}") for i in range(10)])
    views = {
        "home": lambda **kw: home(store, ann.key, **kw),
        "federated": lambda **kw: federated(store, **kw),
        "author": lambda **kw: author(store, ann.key, **kw),
        "local": lambda **kw: local(store, **kw),
    }
    for n, (name, view) in enumerate(views.items()):
        snapshot = texts(await view(limit=100))
        first = await view(limit=3)
        seen = texts(first)
        await store.ingest([ann.post(f"new {n}")])  # arrives between pages: it is newer than every cursor
        before = first.next_cursor
        while before is not None:
            page = await view(limit=3, before=before)
            assert 0 < len(page.items) <= 3
            seen += texts(page)
            before = page.next_cursor
        assert seen == snapshot, name
        assert texts(await view(limit=1)) == [f"new {n}"]
    walked = await _walk(views["federated"], 4)
    assert [len(p) for p in walked] == [4, 4, 4, 2]


async def test_exact_page_boundary_has_no_cursor(store: Store, ann: Person) -> None:
    await store.ingest([ann.post(f"p{i}") for i in range(4)])
    first = await federated(store, limit=2)
    assert texts(first) == ["p3", "p2"] and first.next_cursor is not None
    second = await federated(store, limit=2, before=first.next_cursor)
    assert texts(second) == ["p1", "p0"] and second.next_cursor is None
    assert (await federated(store, limit=4)).next_cursor is None


async def test_home_floor_handles_quiet_and_busy_authors(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    """One busy author and one quiet one: every page is complete and nothing is skipped."""
    quiet = [cat.post("cat early")]
    busy = [ben.post(f"ben {i}") for i in range(12)]
    late = [cat.post("cat late")]
    await store.ingest([ann.follow(ben), ann.follow(cat), *quiet, *busy, *late])
    pages = await _walk(lambda **kw: home(store, ann.key, **kw), 4)
    flat = [t for page in pages for t in page]
    assert flat == ["cat late", *[f"ben {i}" for i in reversed(range(12))], "cat early"]
    assert all(len(p) == 4 for p in pages[:-1])


async def test_page_fills_past_dropped_boosts(store: Store, ann: Person, ben: Person) -> None:
    held = ben.post("held")
    missing = [ben.post(f"missing {i}") for i in range(6)]
    await store.ingest([ann.follow(ben), held] + [ben.boost(m) for m in missing])
    page = await home(store, ann.key, limit=1)
    assert texts(page) == ["held"] and page.next_cursor is None
