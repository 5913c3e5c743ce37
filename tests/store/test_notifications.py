"""Notifications: who did what to me, newest first, never my own actions; unread counts and read markers."""

from __future__ import annotations

from store_people import Person

from murmur.store import Store
from murmur.store.notifications import derived, mark_read, notifications, unread_count
from tests.store_helpers import read_marker


async def kinds(store: Store, key: str) -> list[tuple[str, str, str | None]]:
    page = await notifications(store, key, limit=50)
    return [(n.kind, n.actor, n.target_id) for n in page.items]


async def test_every_kind_newest_first_without_my_own(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    post = ann.post("mine")
    await store.ingest(
        [
            post,
            ben.post("hi ann", mentions=(ann.key,)),
            cat.post("reply", reply=post),
            ben.react(post),
            cat.boost(post),
            ben.follow(ann),
            ann.post("note to self", mentions=(ann.key,)),
            ann.post("self reply", reply=post),
            ann.react(post),
            ann.follow(ann),
            cat.post("elsewhere"),
        ]
    )
    assert await kinds(store, ann.key) == [
        ("follow", ben.key, None),
        ("boost", cat.key, post["id"]),
        ("reaction", ben.key, post["id"]),
        ("reply", cat.key, post["id"]),
        ("mention", ben.key, None),
    ]
    assert await kinds(store, ben.key) == []


async def test_reply_that_mentions_is_one_reply(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("mine")
    await store.ingest([post, ben.post("@ann yes", reply=post, mentions=(ann.key,))])
    assert [k for k, _, _ in await kinds(store, ann.key)] == ["reply"]


async def test_reply_and_reaction_arriving_before_my_post(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("mine")
    reply, reaction = ben.post("early", reply=post, mentions=(ann.key,)), ben.react(post)
    await store.ingest([reply, reaction])
    assert [k for k, _, _ in await kinds(store, ann.key)] == ["mention"]
    await store.ingest([post])
    assert [k for k, _, _ in await kinds(store, ann.key)] == ["reaction", "reply"]


async def test_unfollow_and_delete_take_notifications_out(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("mine")
    reply = ben.post("reply", reply=post)
    await store.ingest([post, ben.follow(ann), ben.react(post), reply])
    assert [k for k, _, _ in await kinds(store, ann.key)] == ["reply", "reaction", "follow"]
    await store.ingest([ben.unfollow(ann), ben.delete(reply)])
    assert [k for k, _, _ in await kinds(store, ann.key)] == ["reaction"]
    await store.ingest([ann.delete(post)])  # reactions to a deleted post go with it
    assert await kinds(store, ann.key) == []
    await store.ingest([ben.follow(ann)])
    assert [k for k, _, _ in await kinds(store, ann.key)] == ["follow"]


async def test_paging_and_unread_and_mark_read(store: Store, ann: Person, ben: Person) -> None:
    await store.ingest([ben.post(f"hi {i}", mentions=(ann.key,)) for i in range(5)])
    assert await unread_count(store, ann.key) == 5
    first = await notifications(store, ann.key, limit=2)
    assert len(first.items) == 2 and first.next_cursor == first.items[-1].seq
    rest = await notifications(store, ann.key, limit=10, before=first.next_cursor)
    assert len(rest.items) == 3 and rest.next_cursor is None
    assert [n.seq for n in first.items + rest.items] == sorted((n.seq for n in first.items + rest.items), reverse=True)

    assert await mark_read(store, ann.key, first.items[0].seq) == first.items[0].seq
    assert await unread_count(store, ann.key) == 0
    assert await mark_read(store, ann.key, 1) == first.items[0].seq  # never moves back
    assert await read_marker(store, ann.key) == first.items[0].seq
    await store.ingest([ben.post("one more", mentions=(ann.key,))])
    assert await unread_count(store, ann.key) == 1
    assert await unread_count(store, ann.key, cap=0) == 0
    assert await unread_count(store, ben.key) == 0


async def test_a_notice_is_placed_where_it_was_derived(store: Store, ann: Person, ben: Person, cat: Person) -> None:
    """The live stream's order (``derived``): a notice sits at its own message when derived with it, and a late
    one (a reply stored before its parent) at the message whose arrival derived it, keeping the reply's seq."""
    post = ann.post("a question")
    reply, mention = ben.post("an answer", reply=post), cat.post("cc ann", mentions=(ann.key,))
    [early] = await store.ingest([reply])
    [parent, told] = await store.ingest([post, mention])
    assert early.seq is not None and parent.seq is not None and told.seq is not None
    placed = [(at, n.seq, n.kind) for at, n in await derived(store, ann.key, after=0, upto=told.seq)]
    assert placed == [(told.seq, early.seq, "reply"), (told.seq, told.seq, "mention")]
    assert await derived(store, ann.key, after=0, upto=early.seq) == []  # nothing was told when the reply came
    assert await derived(store, ann.key, after=told.seq, upto=told.seq + 10) == []
