"""A poll or a meetup is a thread's root and a reaction's target as a post is: its replies make its thread (in any
arrival order), they and its reactions are counted on it and told to its author; a message that is no entry (a
reaction, a ballot) has no thread; the web view's thread of a reply to a poll draws the poll as a placeholder."""

from __future__ import annotations

import json
from typing import Any

from store_people import T0, Person
from test_polls import make_poll, vote

from murmur.kinds.meetup import meetup_body
from murmur.store import Store, public
from murmur.store.items import post_counts
from murmur.store.notifications import notifications
from murmur.store.threads import ThreadNode, thread


def make_meetup(who: Person) -> dict[str, Any]:
    body = meetup_body("Picnic", start=T0 + 10**8, end=T0 + 10**8 + 3_600_000, tz="UTC", place="the park")
    return who.sign("meetup", body, [], None)


def shape(node: ThreadNode) -> object:
    raw = json.loads(node.item.raw) if node.item is not None else None
    what = None if raw is None else raw["body"].get("text") or raw["kind"]
    return (what, [shape(c) for c in node.children])


async def test_a_polls_replies_make_its_thread_in_any_order(store: Store, ann: Person, ben: Person) -> None:
    poll = make_poll(ann)
    reply = ben.post("why noon?", reply=poll)
    answer = ann.post("lunch rush", reply=reply)
    await store.ingest([answer, reply])  # the replies first: they wait for their root
    await store.ingest([poll])
    for asked in (poll, reply, answer):
        found = await thread(store, asked["id"])
        assert found is not None and found.size == 2
        assert shape(found.root) == ("poll", [("why noon?", [("lunch rush", [])])])


async def test_replies_and_reactions_on_a_meetup_count_and_tell_its_organiser(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    meetup = make_meetup(ann)
    await store.ingest([meetup, ben.post("count me in", reply=meetup), cat.react(meetup, "+1"), ben.react(meetup)])
    counts = (await post_counts(store, [meetup["id"]]))[meetup["id"]]
    assert (counts.replies, counts.reactions, counts.boosts) == (1, 2, 0)
    told = (await notifications(store, ann.key)).items
    assert sorted((n.kind, n.target_id) for n in told) == [
        ("reaction", meetup["id"]), ("reaction", meetup["id"]), ("reply", meetup["id"]),
    ]  # fmt: skip


async def test_what_is_no_entry_has_no_thread(store: Store, ann: Person, ben: Person) -> None:
    poll = make_poll(ann)
    ballot, reaction = vote(ben, poll, "1"), ben.react(poll)
    await store.ingest([poll, ballot, reaction])
    assert await thread(store, ballot["id"]) is None
    assert await thread(store, reaction["id"]) is None


async def test_the_web_views_thread_of_a_reply_to_a_poll(store: Store, ann: Person, ben: Person) -> None:
    poll = make_poll(ann)
    reply = ben.post("why noon?", reply=poll)
    await store.ingest([poll, reply])
    assert await public.public_thread(store, poll["id"]) is None  # its pages draw posts only
    found = await public.public_thread(store, reply["id"])
    assert found is not None and found.size == 1
    assert found.root.item is None and found.root.id == poll["id"]
    assert [json.loads(c.item.raw)["body"]["text"] for c in found.root.children if c.item] == ["why noon?"]
