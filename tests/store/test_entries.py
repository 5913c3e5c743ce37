"""Polls and meetups are timeline entries of their own: a follower meets them at home, as posts are met, and the
answers to them (ballots, RSVPs) are not entries."""

from __future__ import annotations

import json
from typing import Any

from store_people import T0, Person

from murmur.kinds import REGISTRY
from murmur.store import Store
from murmur.store.items import Page
from murmur.store.members import add_member
from murmur.store.timelines import ENTRY_KINDS, author, federated, hashtag, home, local


def a_poll(who: Person) -> dict[str, Any]:
    body = {"question": "Lunch?", "options": "noon\none", "multiple": "no", "closes": str(T0 + 10**7)}
    return who.sign("poll", body, [["hashtag", "lunch"]], None)


def a_meetup(who: Person) -> dict[str, Any]:
    body = {"title": "Picnic", "start": str(T0 + 10**6), "end": str(T0 + 2 * 10**6), "tz": "UTC"}
    return who.sign("meetup", body, [["hashtag", "lunch"]], None)


def kinds(page: Page) -> list[tuple[str, str]]:
    return sorted((item.kind, json.loads(item.raw)["kind"]) for item in page.items)


def test_the_timeline_indexes_hold_every_kind_the_registry_calls_an_entry() -> None:
    # The partial indexes' kind list is written literally (migration 10); a kind made an entry without them would
    # be missing from every timeline.
    shown = {k.name for k in REGISTRY.values() if k.shown_as in ("itself", "target")}
    assert set(ENTRY_KINDS) == shown


async def test_a_followed_persons_poll_and_meetup_are_in_home(store: Store, ann: Person, ben: Person) -> None:
    poll, meetup = a_poll(ben), a_meetup(ben)
    ballot = ann.sign("ballot", {"choices": "1"}, [["target", poll["id"]], ["subject", ben.key]], None)
    rsvp = ann.sign("rsvp", {"answer": "going"}, [["target", meetup["id"]], ["subject", ben.key]], None)
    await store.ingest([ann.follow(ben), ben.post("hello"), poll, meetup, ballot, rsvp])
    expected = [("meetup", "meetup"), ("poll", "poll"), ("post", "post")]
    assert kinds(await home(store, ann.key)) == expected  # the ballot and the RSVP are not entries
    assert kinds(await author(store, ben.key)) == expected
    assert kinds(await federated(store)) == expected
    assert kinds(await hashtag(store, "lunch")) == expected[:2]


async def test_a_boosted_poll_shows_the_poll_and_members_polls_are_local(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    poll = a_poll(ben)
    await store.ingest([ann.follow(cat), poll, cat.boost(poll)])
    page = await home(store, ann.key)
    assert [(i.kind, i.boosted_by, i.id) for i in page.items] == [("boost", cat.key, poll["id"])]
    await add_member(store, ben.key)
    await add_member(store, cat.key)
    assert [i.kind for i in (await local(store)).items] == ["poll"]  # what members wrote: not their boosts
