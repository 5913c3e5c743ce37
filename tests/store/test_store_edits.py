"""Edits in the store: the newest version is what every read shows, whatever order the versions arrive in; only
the author's edits of their own post apply; a delete takes every version; search holds the newest text only."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from store_people import T0, Person

from murmur.kinds import edit
from murmur.store import Store, search, timelines
from murmur.store.items import TimelineItem, shown_version


def text_of(raw: bytes) -> str:
    return str(json.loads(raw)["body"]["text"])


def shown(item: TimelineItem) -> str:
    """The text a reader is shown for an item: its newest edit's, else the post's own."""
    return text_of(item.edit_raw if item.edit_raw is not None else item.raw)


async def federated(store: Store) -> dict[str, TimelineItem]:
    return {item.id: item for item in (await timelines.federated(store, limit=50)).items}


async def versions(store: Store, post: dict[str, Any]) -> list[str]:
    return [text_of(v.raw) for v in await edit.history(store, bytes.fromhex(post["id"]))]


async def found(store: Store, word: str) -> list[str]:
    return [item.id for item in (await search.search_posts(store, word)).items]


async def stored_ids(store: Store) -> set[str]:
    async with store.conn.execute("SELECT id FROM messages") as cursor:
        return {bytes(r[0]).hex() for r in await cursor.fetchall()}


async def test_the_newest_edit_is_shown_and_every_version_is_listed(store: Store, ann: Person) -> None:
    post = ann.post("first words")
    first, second = ann.edit(post, "second words"), ann.edit(post, "third words", cw="careful")
    await store.ingest([post, first, second])
    item = (await federated(store))[post["id"]]
    assert shown(item) == "third words" and item.edited_at == second["created_at"]
    assert item.id == post["id"] and item.raw == (await store.get_raw(post["id"]))  # the post keeps its address
    assert await versions(store, post) == ["first words", "second words", "third words"]
    newest = await shown_version(store, bytes.fromhex(post["id"]))
    assert newest is not None and newest.id == second["id"]
    never = ann.post("never edited")
    await store.ingest([never])
    assert (await federated(store))[never["id"]].edited_at is None
    assert await shown_version(store, bytes.fromhex(never["id"])) is None


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("batched", [True, False], ids=["one-batch", "batch-each"])
async def test_arrival_order_does_not_change_what_is_shown(
    store: Store, ann: Person, order: tuple[int, ...], batched: bool
) -> None:
    post = ann.post("alpha original", at=T0)
    # Equal times: the larger id wins, as everywhere latest-wins is decided.
    a, b = ann.edit(post, "bravo middle", at=T0 + 5), ann.edit(post, "charlie middle", at=T0 + 5)
    later_one, earlier_one = (a, b) if a["id"] > b["id"] else (b, a)
    messages = [post, earlier_one, later_one]
    arrivals = [messages[i] for i in order]
    if batched:
        results = await store.ingest(arrivals)
    else:
        results = [r for m in arrivals for r in await store.ingest([m])]
    assert [r.status for r in results] == ["stored"] * 3
    assert shown((await federated(store))[post["id"]]) == later_one["body"]["text"]
    texts = ["alpha original", earlier_one["body"]["text"], later_one["body"]["text"]]
    assert await versions(store, post) == texts  # oldest first: by (created_at, id), the post first
    # Search holds the newest version only, under the post.
    assert await found(store, later_one["body"]["text"].split()[0]) == [post["id"]]
    assert await found(store, earlier_one["body"]["text"].split()[0]) == []
    assert await found(store, "alpha") == []
    assert await found(store, "middle") == [post["id"]]


async def test_an_edit_before_its_post_waits_for_it(store: Store, ann: Person) -> None:
    post = ann.post("the original text")
    change = ann.edit(post, "the corrected text")
    [waiting] = await store.ingest([change])
    assert waiting.status == "stored"
    assert await federated(store) == {}
    assert await versions(store, post) == []  # no post, no history
    await store.ingest([post])
    assert shown((await federated(store))[post["id"]]) == "the corrected text"
    assert await versions(store, post) == ["the original text", "the corrected text"]
    assert await found(store, "corrected") == [post["id"]] and await found(store, "original") == []


async def test_someone_elses_edit_is_refused_or_never_applies(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("ann's words")
    forged_early = ben.edit(post, "ben's words early")
    assert [r.status for r in await store.ingest([forged_early])] == ["stored"]  # not knowable yet: it waits
    [refused] = (await store.ingest([post, ben.edit(post, "ben's words")]))[1:]
    assert (refused.status, refused.code) == ("refused", "not_author")
    assert shown((await federated(store))[post["id"]]) == "ann's words"
    assert await versions(store, post) == ["ann's words"]
    assert await found(store, "ben's") == []
    # In one batch too: the post first, then someone else's edit of it.
    other = ann.post("more of ann's")
    results = await store.ingest([other, ben.edit(other, "not ben's to change")])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("refused", "not_author")]


@pytest.mark.parametrize("what", ["edit", "reaction", "boost", "profile"])
async def test_only_a_post_can_be_edited(store: Store, ann: Person, what: str) -> None:
    post = ann.post("a post")
    target = {
        "edit": lambda: ann.edit(post, "an edit"),
        "reaction": lambda: ann.react(post),
        "boost": lambda: ann.boost(post),
        "profile": lambda: ann.profile("Ann"),
    }[what]()
    await store.ingest([post, target])
    [result] = await store.ingest([ann.edit(target, "an edit of that")])
    assert (result.status, result.code) == ("refused", "bad_target")
    assert what in (result.reason or "")
    # In the same batch as its target, likewise.
    other = ann.post("another")
    reaction = ann.react(other, "x")
    results = await store.ingest([other, reaction, ann.edit(reaction, "no")])
    assert (results[-1].status, results[-1].code) == ("refused", "bad_target")
    # Not held yet: it waits, and never applies, whatever arrives under that id later.
    later = ann.react(other, "y")
    assert [r.status for r in await store.ingest([ann.edit(later, "no"), later])] == ["stored", "stored"]
    assert await versions(store, other) == ["another"]


async def test_a_delete_takes_the_post_and_every_version_everywhere(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("keep zebra")
    edits = [ann.edit(post, "keep yak"), ann.edit(post, "keep xerus")]
    reply = ben.post("a reply", reply=post)
    await store.ingest([post, *edits, reply])
    assert await found(store, "xerus") == [post["id"]]
    delete = ann.delete(post)
    await store.ingest([delete])
    held = await stored_ids(store)
    assert post["id"] not in held and not {e["id"] for e in edits} & held
    assert reply["id"] in held and delete["id"] in held
    for word in ("zebra", "yak", "xerus", "keep"):
        assert await found(store, word) == []
    assert await versions(store, post) == []
    # A version arriving after the delete is not kept, whoever relays it.
    [late] = await store.ingest([ann.edit(post, "keep wombat")])
    assert late.status == "deleted"
    assert await found(store, "wombat") == []


async def test_a_delete_takes_versions_waiting_for_a_post_that_never_came(store: Store, ann: Person) -> None:
    post = ann.post("never seen here")
    change = ann.edit(post, "waiting quokka")
    await store.ingest([change])
    await store.ingest([ann.delete(post)])
    assert change["id"] not in await stored_ids(store)
    assert [r.status for r in await store.ingest([post, change])] == ["deleted", "deleted"]


@pytest.mark.parametrize(
    "order", [(0, 1, 2), (1, 0, 2), (1, 2, 0), (2, 1, 0), (2, 0, 1), (0, 2, 1)], ids=lambda o: "".join(map(str, o))
)
async def test_post_edit_delete_in_one_batch_in_any_order(store: Store, ann: Person, order: tuple[int, ...]) -> None:
    post = ann.post("batch numbat")
    messages = [post, ann.edit(post, "batch dingo"), ann.delete(post)]
    results = await store.ingest([messages[i] for i in order])
    statuses = {messages[i]["id"]: r.status for i, r in zip(order, results, strict=True)}
    assert statuses[messages[2]["id"]] == "stored"
    assert await stored_ids(store) == {messages[2]["id"]}
    assert await found(store, "batch") == []
    assert {statuses[post["id"]], statuses[messages[1]["id"]]} == {"deleted"}


async def test_someone_elses_delete_does_not_take_an_edit(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("ann's post")
    change = ann.edit(post, "ann's newer post")
    await store.ingest([change, ben.delete(post)])  # ben's tombstone cannot touch ann's messages
    await store.ingest([post])
    assert shown((await federated(store))[post["id"]]) == "ann's newer post"


async def _notices(store: Store, key: str) -> list[tuple[str, str]]:
    page = await timelines.notifications(store, key)
    return [(n.kind, n.target_id or "") for n in page.items]


async def test_who_replied_reacted_or_boosted_is_told_of_an_edit(
    store: Store, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    post = ann.post("tell them")
    await store.ingest([post, ben.post("a reply", reply=post), cat.react(post), cat.boost(post), ann.react(post)])
    change = ann.edit(post, "told them")
    await store.ingest([change])
    for person in (ben, cat):
        assert ("edit", post["id"]) in await _notices(store, person.key)
    assert [n for n in await _notices(store, ann.key) if n[0] == "edit"] == []  # not the editor
    assert await _notices(store, dan.key) == []  # nor someone who never touched the post
    page = await timelines.notifications(store, cat.key)
    [told] = [n for n in page.items if n.kind == "edit"]
    assert told.raw == await store.get_raw(change["id"]) and told.actor == ann.key


async def test_an_edit_that_came_first_is_told_when_its_post_arrives(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("late post")
    reply = ben.post("early reply", reply=post)
    await store.ingest([reply, ann.edit(post, "late post, edited")])
    assert await _notices(store, ben.key) == []
    await store.ingest([post])
    assert ("edit", post["id"]) in await _notices(store, ben.key)


async def test_an_edited_reply_shows_its_newest_text_in_notifications(store: Store, ann: Person, ben: Person) -> None:
    post = ann.post("question")
    reply = ben.post("answre", reply=post)
    fixed = ben.edit(reply, "answer")
    await store.ingest([post, reply, fixed])
    [told] = (await timelines.notifications(store, ann.key)).items
    assert told.kind == "reply" and told.raw == await store.get_raw(reply["id"])
    assert told.edit_raw is not None and text_of(told.edit_raw) == "answer"
    assert told.edited_at == fixed["created_at"]


async def test_threads_and_search_show_the_newest_version(store: Store, ann: Person, ben: Person) -> None:
    root = ann.post("root words")
    reply = ben.post("reply words", reply=root)
    await store.ingest([root, reply, ann.edit(root, "root renewed"), ben.edit(reply, "reply renewed")])
    found_thread = await timelines.thread(store, reply["id"])
    assert found_thread is not None and found_thread.root.item is not None
    assert shown(found_thread.root.item) == "root renewed"
    [child] = found_thread.root.children
    assert child.id == reply["id"] and child.item is not None and shown(child.item) == "reply renewed"
    [hit] = (await search.search_posts(store, "renewed root")).items
    assert hit.id == root["id"] and shown(hit) == "root renewed"


async def test_hashtag_and_mention_timelines_follow_the_newest_version(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    post = ann.post("about #alpha for @ben", mentions=(ben.key,), hashtags=("alpha",))
    await store.ingest([post])
    assert [i.id for i in (await timelines.hashtag(store, "alpha")).items] == [post["id"]]
    change = ann.sign(
        "edit",
        {"text": "about #beta for @cat"},
        [["target", post["id"]], ["hashtag", "beta"], ["mention", cat.key]],
        None,
    )
    await store.ingest([change])
    assert (await timelines.hashtag(store, "alpha")).items == []
    [hit] = (await timelines.hashtag(store, "beta")).items
    assert hit.id == post["id"] and shown(hit) == "about #beta for @cat"
    assert (await timelines.mentions(store, ben.key)).items == []
    assert [i.id for i in (await timelines.mentions(store, cat.key)).items] == [post["id"]]
    # Someone an edit newly mentions is not told of it; the post was told when it came.
    assert await _notices(store, cat.key) == []
    assert await _notices(store, ben.key) == [("mention", "")]


async def test_a_post_that_arrives_after_its_edit_is_indexed_as_edited(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    post = ann.post("for @ben #old", mentions=(ben.key,), hashtags=("old",))
    change = ann.sign(
        "edit", {"text": "for @cat #new"}, [["target", post["id"]], ["hashtag", "new"], ["mention", cat.key]], None
    )
    await store.ingest([change])
    await store.ingest([post])
    assert (await timelines.hashtag(store, "old")).items == [] and len(
        (await timelines.hashtag(store, "new")).items
    ) == 1
    assert await _notices(store, cat.key) == [("mention", "")] and await _notices(store, ben.key) == []
    # A delete takes those index rows too.
    await store.ingest([ann.delete(post)])
    assert (await timelines.hashtag(store, "new")).items == [] and (
        await timelines.mentions(store, cat.key)
    ).items == []


async def _confined(store: Store, message: dict[str, Any]) -> bool:
    async with store.conn.execute("SELECT 1 FROM confined WHERE id = ?", (bytes.fromhex(message["id"]),)) as cursor:
        return await cursor.fetchone() is not None


@pytest.mark.parametrize("edit_first", [False, True], ids=["post-first", "edit-first"])
async def test_an_edit_of_a_local_post_stays_on_this_server(store: Store, ann: Person, edit_first: bool) -> None:
    post = ann.post("team only", visibility="local")
    change = ann.edit(post, "team only, edited")
    for message in [change, post] if edit_first else [post, change]:
        await store.ingest([message])
    assert await _confined(store, change)
    public = ann.post("everyone")
    public_change = ann.edit(public, "everyone, edited")
    await store.ingest([public, public_change])
    assert not await _confined(store, public_change)
