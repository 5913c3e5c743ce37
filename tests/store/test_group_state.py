"""Groups in the store: the state folded from whatever arrived, in any order; the timeline, directory and people."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from store_people import T0, Person
from test_query_plans import FULL_SCAN, _plans

from murmur.kinds import group_reads
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.store import Store
from murmur.store.notifications import notifications

GROUP_SCAN = re.compile(r"^SCAN (groups\w*|g|k|l)\b(?! VIRTUAL TABLE)(?!.*INDEX)")


def sign(who: Person, draft: dict[str, Any], at: int) -> dict[str, Any]:
    return who.sign(draft["kind"], draft["body"], draft["tags"], at)


def group_post(who: Person, group: str, text: str, at: int) -> dict[str, Any]:
    return who.sign("post", {"text": text, "visibility": "public"}, [["group", group]], at)


async def snapshot(store: Store, group: str) -> tuple[Any, ...]:
    """Everything a reader can see of the group, in a comparable form."""
    page = await group_reads.timeline(store, group, limit=50)
    marks = await group_reads.hidden(store, group, [i.id for i in page.items])
    return (
        await group_reads.group(store, group),
        await group_reads.people(store, group),
        [(i.id, marks.get(i.id)) for i in page.items],
        [i.id for i in await group_reads.pinned(store, group)],
    )


def scenario(owner: Person, mod: Person, ann: Person, ben: Person) -> tuple[str, list[dict[str, Any]], dict[str, str]]:
    """An approval group: Ann asks and is approved by a moderator appointed after an approval that did not
    count; she posts, a moderator hides the post and pins another, removes her, and she posts again."""
    create = sign(owner, create_draft("Fix the build", description="Our CI takes an hour", approval=True), T0)
    g = create["id"]
    first = group_post(ann, g, "while a member", T0 + 50)
    posts = {
        "before": group_post(ann, g, "before approval", T0 + 15),
        "member": first,
        "after": group_post(ann, g, "after removal", T0 + 90),
        "owner": group_post(owner, g, "welcome", T0 + 5),
    }
    messages = [
        create,
        sign(ann, membership_draft("group_join", g), T0 + 10),
        sign(mod, about_person_draft("group_approve", g, ann.key), T0 + 20),  # not a moderator yet
        sign(owner, about_person_draft("group_mod", g, mod.key), T0 + 30),
        sign(mod, about_person_draft("group_approve", g, ann.key), T0 + 40),
        sign(mod, about_post_draft("group_hide", g, first["id"], reason="off topic"), T0 + 60),
        sign(ben, about_post_draft("group_pin", g, first["id"]), T0 + 65),  # Ben has no say
        sign(mod, about_post_draft("group_pin", g, posts["owner"]["id"]), T0 + 70),
        sign(mod, about_person_draft("group_remove", g, ann.key), T0 + 80),
        *posts.values(),
    ]
    return g, messages, {k: v["id"] for k, v in posts.items()}


async def test_any_arrival_order_gives_the_same_group(
    tmp_path: Path, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    g, messages, _ = scenario(cat, dan, ann, ben)
    orders = [messages, messages[::-1]]
    shuffler = random.Random(14)
    for _ in range(10):
        orders.append(shuffler.sample(messages, len(messages)))
    seen = set()
    for number, order in enumerate(orders):
        async with await Store.open(tmp_path / f"order-{number}.db") as store:
            for message in order:  # one at a time: each arrival refolds what was there
                [result] = await store.ingest([message])
                assert result.status == "stored", result
            seen.add(repr(await snapshot(store, g)))
    assert len(seen) == 1


async def test_the_scenario_state(store: Store, ann: Person, ben: Person, cat: Person, dan: Person) -> None:
    g, messages, posts = scenario(cat, dan, ann, ben)
    await store.ingest(messages)
    found = await group_reads.group(store, g)
    assert found is not None and (found.name, found.join, found.owner, found.members) == (
        "Fix the build",
        "approval",
        cat.key,
        2,
    )
    people = {p.key: (p.status, p.role) for p in await group_reads.people(store, g)}
    assert people == {cat.key: ("member", "owner"), dan.key: ("member", "moderator"), ann.key: ("removed", "")}
    assert [(p.status, p.role) for p in await group_reads.people(store, g) if p.key == ann.key] == [("removed", "")]
    page = await group_reads.timeline(store, g)
    # Ann's post before her approval and after her removal are not the group's; the one between stays, hidden.
    assert [i.id for i in page.items] == [posts["member"], posts["owner"]]
    hidden = await group_reads.hidden(store, g, [posts["member"], posts["owner"]])
    assert list(hidden) == [posts["member"]]
    assert (hidden[posts["member"]].by, hidden[posts["member"]].reason) == (dan.key, "off topic")
    assert [i.id for i in await group_reads.pinned(store, g)] == [posts["owner"]]


async def test_messages_naming_a_group_not_held_yet_wait_for_it(store: Store, ann: Person, cat: Person) -> None:
    create = sign(cat, create_draft("Later"), T0)
    g = create["id"]
    joins = sign(ann, membership_draft("group_join", g), T0 + 1)
    post = group_post(ann, g, "early", T0 + 2)
    assert [r.status for r in await store.ingest([joins, post])] == ["stored", "stored"]
    assert await group_reads.group(store, g) is None
    assert await group_reads.directory(store) == []
    await store.ingest([create])
    assert [i.id for i in (await group_reads.timeline(store, g)).items] == [post["id"]]


async def test_the_directory_finds_groups_by_name_and_description(store: Store, cat: Person, ann: Person) -> None:
    build = sign(cat, create_draft("Faster builds", description="Cut the CI time in half"), T0)
    lunch = sign(ann, create_draft("Lunch club", description="Where to eat on Fridays"), T0 + 1)
    await store.ingest([build, lunch, sign(ann, membership_draft("group_join", build["id"]), T0 + 2)])
    assert [g.name for g in await group_reads.directory(store)] == ["Lunch club", "Faster builds"]
    assert [g.name for g in await group_reads.directory(store, query="fast")] == ["Faster builds"]
    assert [g.name for g in await group_reads.directory(store, query="fridays")] == ["Lunch club"]
    assert await group_reads.directory(store, query='"; DROP TABLE groups; --') == []
    mine = await group_reads.groups_of(store, ann.key)
    assert [(row.name, status, role) for row, status, role in mine] == [
        ("Faster builds", "member", "member"),
        ("Lunch club", "member", "owner"),
    ]


async def test_a_deleted_post_leaves_the_group_timeline(store: Store, cat: Person) -> None:
    create = sign(cat, create_draft("Gone"), T0)
    post = group_post(cat, create["id"], "oops", T0 + 1)
    await store.ingest([create, post])
    await store.ingest([cat.delete(post, at=T0 + 2)])
    assert (await group_reads.timeline(store, create["id"])).items == []


async def test_a_group_post_is_public(store: Store, cat: Person) -> None:
    create = sign(cat, create_draft("Public"), T0)
    local = cat.sign("post", {"text": "x", "visibility": "local"}, [["group", create["id"]]], T0 + 1)
    [result] = await store.ingest([local])
    assert (result.status, result.code) == ("refused", "bad_value")


async def test_group_timelines_page_like_every_timeline(store: Store, cat: Person) -> None:
    create = sign(cat, create_draft("Pages"), T0)
    posts = [group_post(cat, create["id"], f"p{i}", T0 + 1 + i) for i in range(5)]
    await store.ingest([create, *posts])
    first = await group_reads.timeline(store, create["id"], limit=2)
    second = await group_reads.timeline(store, create["id"], limit=2, before=str(first.next_cursor))
    third = await group_reads.timeline(store, create["id"], limit=2, before=str(second.next_cursor))
    shown = [json.loads(i.raw)["body"]["text"] for p in (first, second, third) for i in p.items]
    assert shown == ["p4", "p3", "p2", "p1", "p0"] and third.next_cursor is None


@pytest.mark.sqlite_only("reads SQLite's query plans")
async def test_group_reads_are_index_driven(store: Store, ann: Person, ben: Person) -> None:
    create = sign(ann, create_draft("Plans", description="query plans"), T0)
    g = create["id"]
    post = group_post(ann, g, "x", T0 + 2)
    statements: list[str] = []
    await store.conn.set_trace_callback(statements.append)
    await store.ingest([create, sign(ben, membership_draft("group_join", g), T0 + 1), post])
    await store.ingest([sign(ann, about_post_draft("group_pin", g, post["id"]), T0 + 3)])
    await group_reads.group(store, g)
    await group_reads.directory(store)
    await group_reads.directory(store, query="plans")
    await group_reads.groups_of(store, ben.key)
    await group_reads.people(store, g)
    await group_reads.timeline(store, g)
    await group_reads.pinned(store, g)
    await group_reads.hidden(store, g, [post["id"]])
    await store.conn.set_trace_callback(None)
    plans = await _plans(store, [s for s in statements if "groups" in s and "'main'." not in s])
    assert len(plans) >= 8
    for sql, plan in plans.items():
        for line in plan:
            # A walk of an index in its order is bounded by LIMIT; a scan of a table is not.
            assert not FULL_SCAN.match(line) and not GROUP_SCAN.match(line), f"full scan in {sql!r}: {plan}"
            if "TEMP B-TREE FOR ORDER BY" in line:
                assert "/* bounded sort" in sql, f"unbounded sort in {sql!r}: {plan}"


async def test_who_hears_of_requests_approvals_and_removals(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    create = sign(cat, create_draft("Asked", approval=True), T0)
    g = create["id"]
    asks = sign(ann, membership_draft("group_join", g), T0 + 1)
    early = sign(ben, about_person_draft("group_approve", g, ann.key), T0 + 2)  # Ben has no say: nobody is told
    await store.ingest([create, asks, early])
    await store.ingest([sign(cat, about_person_draft("group_mod", g, ben.key), T0 + 3)])
    await store.ingest([sign(ben, about_person_draft("group_approve", g, ann.key), T0 + 4)])
    await store.ingest([sign(ben, about_person_draft("group_remove", g, ann.key), T0 + 5)])
    told = {who.key: [n.kind for n in (await notifications(store, who.key)).items] for who in (ann, ben, cat)}
    assert told == {
        ann.key: ["group_remove", "group_approve"],
        ben.key: ["group_mod"],
        cat.key: ["group_join"],
    }


async def test_the_group_log_gives_the_signed_messages_its_state_is_folded_from(
    store: Store, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    g, messages, posts = scenario(cat, dan, ann, ben)
    other = sign(ann, create_draft("Another group"), T0 + 1)
    await store.ingest([*messages, other, sign(ann, membership_draft("group_join", other["id"]), T0 + 2)])
    logged = [json.loads(raw) for raw in await group_reads.log(store, g)]
    # the creation and every membership and moderation message, as signed (the posts are the timeline's)
    expected = [m for m in messages if m["id"] not in posts.values()]
    assert sorted(logged, key=lambda m: m["id"]) == sorted(expected, key=lambda m: m["id"])
    assert await group_reads.log(store, "ab" * 32) == []
