"""Notices of organising: a letter's author hears of each signature (not of a withdrawn one), whichever of the two
arrived first; people who answered a meetup going or maybe are reminded of it from an hour before its start."""

from __future__ import annotations

from typing import Any

from store_people import T0, Person
from test_letters import make_letter, sign

from murmur.kinds import meetup as meetups
from murmur.kinds.meetup import REMIND_BEFORE_MS, meetup_body
from murmur.store import Store
from murmur.store.notifications import notifications, unread_count
from tests.store_helpers import cancel_draft

HOUR = 3600 * 1000


async def told(store: Store, key: str) -> list[tuple[str, str, str | None]]:
    return [(n.kind, n.actor, n.target_id) for n in (await notifications(store, key, limit=50)).items]


async def test_the_author_of_a_letter_hears_of_each_signature(store: Store, ann: Person, ben: Person) -> None:
    letter = make_letter(ann)
    early, own = sign(ben, letter), sign(ann, letter)
    await store.ingest([early])  # before the letter: told when the letter comes
    await store.ingest([letter, own])  # her own signature is no news to her
    assert await told(store, ann.key) == [("signature", ben.key, letter["id"])]
    assert await unread_count(store, ann.key) == 1
    await store.ingest([ben.delete(early)])
    assert await told(store, ann.key) == []  # withdrawn: no longer told
    assert await told(store, ben.key) == []


def a_meetup(who: Person, start: int, *, minutes: int = 60) -> dict[str, Any]:
    body = meetup_body("Picnic", start=start, end=start + minutes * 60 * 1000, tz="UTC")
    return who.sign("meetup", body, [], None)


def answer(who: Person, meetup: dict[str, Any], said: str) -> dict[str, Any]:
    return who.sign("rsvp", {"answer": said}, [["target", meetup["id"]], ["subject", meetup["author"]]], None)


async def soon(store: Store, key: str, now: int) -> tuple[list[str], int | None]:
    found = await meetups.reminders(store, key, now)
    return [h.spec.id for h in found.due], found.next_at


async def test_reminders_show_from_an_hour_before_the_start_until_the_end(
    store: Store, ann: Person, ben: Person, cat: Person
) -> None:
    start = T0 + 10 * HOUR
    picnic, later = a_meetup(ann, start), a_meetup(ann, start + 5 * HOUR)
    await store.ingest([picnic, later, answer(ben, picnic, "going"), answer(ben, later, "maybe"),
                        answer(cat, picnic, "no")])  # fmt: skip
    before = start - REMIND_BEFORE_MS
    assert await soon(store, ben.key, before - 1) == ([], before)  # not yet: due at `before`
    assert await soon(store, ben.key, before) == ([picnic["id"]], start + 5 * HOUR - REMIND_BEFORE_MS)
    assert await soon(store, ben.key, start + 59 * 60 * 1000) == ([picnic["id"]], start + 4 * HOUR)
    assert await soon(store, ben.key, start + HOUR) == ([], start + 4 * HOUR)  # over
    assert await soon(store, cat.key, before) == ([], None)  # not going
    assert await soon(store, ann.key, before) == ([], None)  # the organiser answered nothing


async def test_a_reminder_follows_the_latest_answer_and_version(store: Store, ann: Person, ben: Person) -> None:
    start = T0 + 10 * HOUR
    picnic = a_meetup(ann, start)
    await store.ingest([picnic, answer(ben, picnic, "going")])
    now = start - 1
    assert (await soon(store, ben.key, now))[0] == [picnic["id"]]
    await store.ingest([answer(ben, picnic, "no")])
    assert (await soon(store, ben.key, now))[0] == []
    await store.ingest([answer(ben, picnic, "maybe")])
    assert (await soon(store, ben.key, now))[0] == [picnic["id"]]
    held = await meetups.held(store, picnic["id"])
    assert held is not None
    cancel = cancel_draft(held.spec)
    await store.ingest([ann.sign("meetup_update", cancel["body"], cancel["tags"], None)])
    assert (await soon(store, ben.key, now))[0] == []
