"""Meetups in the store: RSVPs refused with a reason when their held meetup shows they are misaddressed, waiting
when the meetup is not held yet, one waiting list whatever order the RSVPs arrived in, updates and cancels as
new versions that tell everyone who answered."""

from __future__ import annotations

import itertools
from typing import Any

from store_people import T0, Person

from murmur.kinds import meetup as meetups
from murmur.kinds.meetup import meetup_body
from murmur.message import sign_draft
from murmur.store import Store, timelines
from tests.store_helpers import cancel_draft

START = T0 + 10**8


def make_meetup(who: Person, capacity: int | None = 2, group: str | None = None) -> dict[str, Any]:
    body = meetup_body("Picnic", start=START, end=START + 3_600_000, tz="UTC", place="the park", capacity=capacity)
    return who.sign("meetup", body, [["group", group]] if group else [], None)


def rsvp(who: Person, meetup: dict[str, Any], answer: str, at: int | None = None) -> dict[str, Any]:
    return who.sign("rsvp", {"answer": answer}, [["target", meetup["id"]], ["subject", meetup["author"]]], at)


async def lists(store: Store, meetup: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found = await meetups.held(store, meetup["id"])
    assert found is not None
    return found.answers.going, found.answers.waiting


async def test_misaddressed_rsvps_are_refused_with_their_reason(store: Store, ann: Person, ben: Person) -> None:
    meetup, post = make_meetup(ann), ann.post("not a meetup")
    await store.ingest([meetup, post])
    results = await store.ingest([
        rsvp(ben, post, "going"),  # not a meetup
        ben.sign("rsvp", {"answer": "going"}, [["target", meetup["id"]], ["subject", ben.key]], None),  # not ann
    ])  # fmt: skip
    assert [(r.status, r.code) for r in results] == [("refused", "bad_target"), ("refused", "bad_target")]
    assert await lists(store, meetup) == ((), ())


async def test_an_rsvp_to_a_deleted_meetup_is_refused(store: Store, ann: Person, ben: Person) -> None:
    meetup = make_meetup(ann)
    await store.ingest([meetup])
    await store.ingest([ann.delete(meetup)])
    [late] = await store.ingest([rsvp(ben, meetup, "going")])
    assert (late.status, late.code) == ("refused", "meetup_deleted")
    assert await meetups.held(store, meetup["id"]) is None


async def test_an_rsvp_before_its_meetup_waits(store: Store, ann: Person, ben: Person) -> None:
    meetup = make_meetup(ann)
    [early] = await store.ingest([rsvp(ben, meetup, "going")])
    assert early.status == "stored"
    await store.ingest([meetup])
    assert await lists(store, meetup) == ((ben.key,), ())


async def test_the_waiting_list_is_the_same_in_every_arrival_order(
    tmp_path: Any, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    meetup = make_meetup(ann, capacity=1)
    answers = [
        rsvp(ben, meetup, "going", T0 + 30),
        rsvp(cat, meetup, "going", T0 + 10),
        rsvp(dan, meetup, "going", T0 + 20),
    ]
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for n, order in enumerate(itertools.permutations(answers)):
        store = await Store.open(tmp_path / f"{n}.db")
        try:
            for message in (meetup, *order):  # one at a time: each arrival is its own batch
                await store.ingest([message])
            seen.add(await lists(store, meetup))
        finally:
            await store.close()
    assert seen == {((cat.key,), (dan.key, ben.key))}


async def test_an_update_is_a_new_version_told_to_everyone_who_answered(
    store: Store, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    meetup = make_meetup(ann, capacity=1)
    await store.ingest([meetup, rsvp(ben, meetup, "going"), rsvp(cat, meetup, "no"), rsvp(ann, meetup, "going")])
    found = await meetups.held(store, meetup["id"])
    assert found is not None
    cancel = sign_draft(ann.identity, cancel_draft(found.spec), created_at=T0 + 10**6)
    forged = sign_draft(dan.identity, cancel_draft(found.spec), created_at=T0 + 10**6)
    results = await store.ingest([cancel, forged])
    assert [r.status for r in results] == ["stored", "refused"] and results[1].code == "not_author"
    after = await meetups.held(store, meetup["id"])
    assert after is not None and after.spec.cancelled and after.spec.versions == 2
    for person in (ben, cat):
        told = [i for i in (await timelines.notifications(store, person.key)).items if i.kind == "meetup_update"]
        assert len(told) == 1 and told[0].actor == ann.key
    for person in (ann, dan):  # the organiser, and someone who never answered
        assert not [i for i in (await timelines.notifications(store, person.key)).items if i.kind == "meetup_update"]


async def test_a_feed_holds_the_meetups_a_person_answered_going_or_maybe(
    store: Store, ann: Person, ben: Person
) -> None:
    first, second, third = make_meetup(ann), make_meetup(ann), make_meetup(ann)
    await store.ingest([first, second, third])
    await store.ingest([rsvp(ben, first, "maybe"), rsvp(ben, second, "going"), rsvp(ben, third, "going")])
    await store.ingest([rsvp(ben, third, "no")])  # a change of mind takes it out
    assert {h.spec.id for h in await meetups.answered(store, ben.key)} == {first["id"], second["id"]}
    assert [h.spec.id for h in await meetups.listed(store)] == [third["id"], second["id"], first["id"]]


async def test_an_rsvp_older_than_an_update_is_told_of_it_whenever_it_arrives(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    meetup = make_meetup(ann)
    await store.ingest([meetup])
    found = await meetups.held(store, meetup["id"])
    assert found is not None
    cancel = sign_draft(ann.identity, cancel_draft(found.spec), created_at=T0 + 10**6)
    await store.ingest([cancel])
    # Both arrive after the update: ben answered before it (and is told), cat after it (and is not).
    await store.ingest([rsvp(ben, meetup, "going", at=T0 + 10**6 - 1), rsvp(cat, meetup, "going", at=T0 + 10**6 + 1)])
    told = {
        person.key: [i.kind for i in (await timelines.notifications(store, person.key)).items] for person in (ben, cat)
    }
    assert told == {ben.key: ["meetup_update"], cat.key: []}


async def test_a_group_meetup_counts_members_at_the_rsvps_time(
    store: Store, ann: Person, ben: Person, cat: Person, dan: Person
) -> None:
    group = ann.sign("group", {"name": "Lunch club", "join": "open"}, [], None)
    meetup = make_meetup(ann, capacity=1, group=group["id"])
    early_cat = rsvp(cat, meetup, "going")  # before cat joined: does not count, and takes no place
    ben_joins, cat_joins = (p.sign("group_join", {}, [["group", group["id"]]], None) for p in (ben, cat))
    await store.ingest([group, meetup, early_cat, ben_joins, cat_joins])
    await store.ingest([rsvp(dan, meetup, "going"), rsvp(ben, meetup, "going")])  # dan never joined
    assert await lists(store, meetup) == ((ben.key,), ())
    await store.ingest([rsvp(cat, meetup, "going")])  # a member now: waits behind ben
    assert await lists(store, meetup) == ((ben.key,), (cat.key,))
