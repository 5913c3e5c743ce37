"""Timelines: contents, order, boosts, counts, deletes, and paging while posts keep arriving."""

from __future__ import annotations

import json
from typing import Any

import pytest
from store_people import T0, Person

from murmur.errors import Refused
from murmur.store import Store
from murmur.store.items import TOP, Cursor, Page
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


def _views(store: Store, reader: Person, tag: str = "t") -> dict[str, Any]:
    """Every timeline, as ``view(limit=..., before=...)``; ``reader`` follows and is mentioned by the posters."""
    return {
        "home": lambda **kw: home(store, reader.key, **kw),
        "local": lambda **kw: local(store, **kw),
        "federated": lambda **kw: federated(store, **kw),
        "mentions": lambda **kw: mentions(store, reader.key, **kw),
        "tag": lambda **kw: hashtag(store, tag, **kw),
    }


async def test_every_timeline_orders_by_author_time_not_arrival(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    """A post dated long ago that arrives last sits below today's posts; so does a peer's backlog."""
    await add_member(store, ben.key)
    await add_member(store, cat.key)
    await store.ingest([ann.follow(ben), ann.follow(cat)])
    tags = {"mentions": (ann.key,), "hashtags": ("t",)}
    await store.ingest([ben.post("today 1", **tags), cat.post("today 2", **tags)])
    await store.ingest([ben.post("1970", at=0, **tags)])  # the epoch itself: the smallest created_at there is
    backlog = [cat.post(f"backlog {i}", at=1_000_000 + i, **tags) for i in range(3)]
    await store.ingest(backlog)
    expected = ["today 2", "today 1", "backlog 2", "backlog 1", "backlog 0", "1970"]
    for name, view in _views(store, ann).items():
        assert texts(await view()) == expected, name
        assert [t for page in await _walk(view, 2) for t in page] == expected, name
    assert texts(await author(store, cat.key)) == ["today 2", "backlog 2", "backlog 1", "backlog 0"]


async def test_a_post_never_sits_above_its_arrival(store: Store, ann: Person, ben: Person) -> None:
    """An author clock ahead of ours (up to the 10-minute skew) is clamped to when the post arrived here."""
    now = T0 + 10_000_000
    ahead = ann.post("dated 9 minutes ahead", at=now + 540_000, mentions=(ben.key,), hashtags=("t",))
    assert (await store.ingest([ahead], now=now))[0].status == "stored"
    later = ann.post("written after it arrived", at=now + 1_000, mentions=(ben.key,), hashtags=("t",))
    await store.ingest([later], now=now + 2_000)
    await store.ingest([ben.follow(ann)])
    await add_member(store, ann.key)
    for name, view in _views(store, ben).items():
        assert texts(await view()) == ["written after it arrived", "dated 9 minutes ahead"], name
    async with store.conn.execute("SELECT sort_at FROM messages WHERE kind = 'post' ORDER BY seq") as cursor:
        assert [r[0] for r in await cursor.fetchall()] == [now, now + 1_000]


async def test_cursor_is_stable_while_a_backlog_arrives(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    """Old posts arriving between pages land among older pages in time order; none is shown twice or skipped,
    even where posts share a time across a page boundary."""
    await add_member(store, ben.key)
    await add_member(store, cat.key)
    await store.ingest([ann.follow(ben), ann.follow(cat)])
    tags = {"mentions": (ann.key,), "hashtags": ("t",)}
    same = T0 + 5_000_000  # six posts at the same millisecond: only the seq tells them apart
    first_wave = [(ben if i % 2 else cat).post(f"p{i}", at=same if 3 <= i < 9 else T0 + 4_000_000 + i * 100_000,
                                                **tags) for i in range(12)]  # fmt: skip
    await store.ingest(first_wave)
    for n, (name, view) in enumerate(_views(store, ann).items()):
        snapshot = texts(await view(limit=100))
        first = await view(limit=4)
        seen = texts(first)
        backlog = [cat.post(f"old {n} {i}", at=T0 + n * 10 + i, **tags) for i in range(3)]
        await store.ingest([*backlog, ben.post(f"new {n}", at=T0 + 9_000_000 + n, **tags)])
        before = first.next_cursor
        while before is not None:
            assert isinstance(before, str)
            page = await view(limit=4, before=before)
            seen += texts(page)
            before = page.next_cursor
        old = [f"old {n} {i}" for i in reversed(range(3))]
        assert seen == snapshot[: len(snapshot) - n * 3] + old + snapshot[len(snapshot) - n * 3 :], name
        assert len(seen) == len(set(seen)), name
        assert texts(await view(limit=1)) == [f"new {n}"], name


@pytest.mark.parametrize(
    "cursor",
    ["", "12", "1.2.3", "-1.2", "1.-2", "1.0", "1. 2", " 1.2", "1.2\n", "١.٢", "1٣.2", "1e3.2", "0x1.2", "1_0.2",
     f"{2**53}.1", f"1.{2**63}", "1" * 17 + ".1", "1." + "9" * 20, "9" * 5000 + ".1"],
)  # fmt: skip
async def test_a_cursor_not_handed_out_is_refused(store: Store, cursor: str) -> None:
    for view in (federated(store, before=cursor), hashtag(store, "t", before=cursor)):
        with pytest.raises(Refused) as info:
            await view
        assert info.value.code == "bad_cursor"


async def test_cursor_text_round_trips(store: Store, ann: Person) -> None:
    await store.ingest([ann.post(f"p{i}") for i in range(3)])
    page = await federated(store, limit=1)
    assert isinstance(page.next_cursor, str)
    assert str(Cursor.parse(page.next_cursor)) == page.next_cursor
    assert Cursor.parse(f"{2**53 - 1}.{2**63 - 1}") == TOP
    assert (await federated(store, before="0.1")).items == []


async def test_home_finds_posts_below_its_recent_window(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    """When the newest posts held are by people I do not follow, the walk stops at its window and the
    per-author floor finds mine further down."""
    await store.ingest([ann.follow(ben), *[ben.post(f"ben {i}") for i in range(3)]])
    await store.ingest([cat.post(f"cat {i}") for i in range(300)])  # newer than ben's, more than the window
    await store.ingest([ben.post("ben new")])
    pages = await _walk(lambda **kw: home(store, ann.key, **kw), 2)
    assert [t for page in pages for t in page] == ["ben new", "ben 2", "ben 1", "ben 0"]
