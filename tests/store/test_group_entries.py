"""A poll or a meetup addressed to a group is an entry of the group's timeline, counted as its posts are: by a
member at its time; pinned like a post; and a database from before this holds them too once migrated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiosqlite
from store_people import T0, Person

from murmur.kinds import group_reads
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.kinds.meetup import meetup_body
from murmur.store import Store, public


def sign(who: Person, draft: dict[str, Any], at: int) -> dict[str, Any]:
    return who.sign(draft["kind"], draft["body"], draft["tags"], at)


def group_poll(who: Person, group: str | None, at: int) -> dict[str, Any]:
    body = {"question": "Lunch?", "options": "noon\none", "multiple": "no", "closes": str(T0 + 10**9)}
    return who.sign("poll", body, [["group", group]] if group else [], at)


def group_meetup(who: Person, group: str | None, at: int) -> dict[str, Any]:
    body = meetup_body("Picnic", start=T0 + 10**8, end=T0 + 10**8 + 3_600_000, tz="UTC", place="the park")
    return who.sign("meetup", body, [["group", group]] if group else [], at)


def group_post(who: Person, group: str, text: str, at: int) -> dict[str, Any]:
    return who.sign("post", {"text": text, "visibility": "public"}, [["group", group]], at)


def kinds_of(items: list[Any]) -> list[tuple[str, str]]:
    return [(json.loads(i.raw)["kind"], i.id) for i in items]


async def a_group(store: Store, owner: Person, member: Person) -> str:
    create = sign(owner, create_draft("Lunch club"), T0)
    await store.ingest([create, sign(member, membership_draft("group_join", create["id"]), T0 + 10)])
    return str(create["id"])


async def test_a_members_poll_and_meetup_are_entries_of_the_groups_timeline(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    g = await a_group(store, ann, ben)
    poll, meetup, post = group_poll(ben, g, T0 + 20), group_meetup(ann, g, T0 + 30), group_post(ben, g, "hi", T0 + 40)
    stranger = group_poll(cat, g, T0 + 50)  # Cat never joined: not the group's
    elsewhere = group_meetup(ben, None, T0 + 60)  # addressed to no group
    await store.ingest([poll, meetup, post, stranger, elsewhere])
    page = await group_reads.timeline(store, g)
    assert kinds_of(page.items) == [("post", post["id"]), ("meetup", meetup["id"]), ("poll", poll["id"])]


async def test_an_entry_written_before_joining_or_after_removal_stays_out(
    store: Store, ann: Person, ben: Person
) -> None:
    create = sign(ann, create_draft("Strict", approval=True), T0)
    g = create["id"]
    early = group_poll(ben, g, T0 + 5)
    inside = group_meetup(ben, g, T0 + 25)
    late = group_poll(ben, g, T0 + 45)
    await store.ingest([
        create, sign(ben, membership_draft("group_join", g), T0 + 1), early, inside, late,
        sign(ann, about_person_draft("group_approve", g, ben.key), T0 + 20),
        sign(ann, about_person_draft("group_remove", g, ben.key), T0 + 40),
    ])  # fmt: skip
    assert kinds_of((await group_reads.timeline(store, g)).items) == [("meetup", inside["id"])]


async def test_a_poll_arriving_before_its_group_waits_for_it(store: Store, ann: Person, ben: Person) -> None:
    create = sign(ann, create_draft("Later"), T0)
    poll = group_poll(ann, create["id"], T0 + 1)
    await store.ingest([poll])
    await store.ingest([create])
    assert kinds_of((await group_reads.timeline(store, create["id"])).items) == [("poll", poll["id"])]


async def test_a_pinned_poll_is_a_pinned_announcement_and_a_deleted_one_leaves(
    store: Store, ann: Person, ben: Person
) -> None:
    g = await a_group(store, ann, ben)
    poll = group_poll(ben, g, T0 + 20)
    await store.ingest([poll, sign(ann, about_post_draft("group_pin", g, poll["id"]), T0 + 30)])
    assert [i.id for i in await group_reads.pinned(store, g)] == [poll["id"]]
    await store.ingest([ben.delete(poll, at=T0 + 40)])
    assert await group_reads.pinned(store, g) == []
    assert (await group_reads.timeline(store, g)).items == []


async def test_the_web_views_group_page_still_draws_posts_only(store: Store, ann: Person, ben: Person) -> None:
    """Its pages and feeds draw posts; polls and meetups are left out there, never drawn as empty posts."""
    g = await a_group(store, ann, ben)
    poll, post = group_poll(ben, g, T0 + 20), group_post(ben, g, "hi", T0 + 30)
    await store.ingest([poll, post, sign(ann, about_post_draft("group_pin", g, poll["id"]), T0 + 40)])
    assert [i.id for i in (await public.group_posts(store, g)).items] == [post["id"]]
    assert await public.group_pinned(store, g) == []


async def test_migrating_a_database_from_before_notes_its_group_polls_and_meetups(
    tmp_path: Path, ann: Person, ben: Person
) -> None:
    """A file whose ``group`` kind is at its second migration held group polls and meetups that nothing noted under
    their group; the third notes them, and a second open changes nothing."""
    path = tmp_path / "murmur.db"
    async with await Store.open(path) as store:
        g = await a_group(store, ann, ben)
        poll, meetup = group_poll(ben, g, T0 + 20), group_meetup(ann, g, T0 + 30)
        post = group_post(ben, g, "x", T0 + 40)
        await store.ingest([poll, meetup, post, group_poll(ann, None, T0 + 50)])
    async with aiosqlite.connect(path) as conn:  # as the version before left it
        await conn.execute("DELETE FROM groups_posts WHERE seq NOT IN (SELECT seq FROM messages WHERE kind = 'post')")
        await conn.execute("UPDATE kind_schema SET version = 2 WHERE kind = 'group'")
        await conn.commit()
    for _ in range(2):
        async with await Store.open(path) as store:
            page = await group_reads.timeline(store, g)
            assert kinds_of(page.items) == [("post", post["id"]), ("meetup", meetup["id"]), ("poll", poll["id"])]
            async with store.conn.execute("SELECT count(*) FROM groups_posts") as cursor:
                assert await cursor.fetchone() == (3,)
