"""A moderator's removal takes what goes with its target (``Kind.with_target``), as its author's delete would, and
keeps it out: held versions go with it, and one arriving later, by any door, is refused ``removed``."""

from __future__ import annotations

from store_people import Person

from murmur.kinds import meetup as meetups
from murmur.kinds.meetup import meetup_body
from murmur.store import Store, moderation, removals
from tests.store.test_meetups import START
from tests.store_helpers import cancel_draft


async def test_a_removed_posts_edits_go_with_it_and_the_others_stay(store: Store, ann: Person, ben: Person) -> None:
    spam, other = ann.post("buy now"), ann.post("a fine post")
    first, second, kept = ann.edit(spam, "buy now, edited"), ann.edit(spam, "buy twice"), ann.edit(other, "fine")
    reply = ben.post("no thanks", reply=spam)
    await store.ingest([spam, other, first, second, kept, reply])
    gone = await moderation.remove(store, spam["id"], "spam")
    assert gone[0] == spam["id"] and sorted(gone[1:]) == sorted([first["id"], second["id"]])
    for message in (spam, first, second):
        assert await store.get_raw(message["id"]) is None
    for message in (other, kept, reply):  # another post's edit, and a reply (what names it, not a version of it)
        assert await store.get_raw(message["id"]) is not None
    for message in (first, second):  # each kept out as the post is
        [again] = await store.ingest([message])
        assert (again.status, again.code) == ("refused", removals.CODE)


async def test_an_edit_arriving_after_the_removal_is_refused_with_the_reason(store: Store, ann: Person) -> None:
    spam = ann.post("buy now")
    await store.ingest([spam])
    await moderation.remove(store, spam["id"], "spam, reported by three members")
    late, elsewhere = ann.edit(spam, "buy now, edited later"), ann.post("elsewhere")
    results = await store.ingest([late, elsewhere])
    assert [(r.status, r.code) for r in results] == [("refused", removals.CODE), ("stored", None)]
    assert results[0].reason == removals.refusal_with("spam, reported by three members")
    assert await store.get_raw(late["id"]) is None


async def test_a_removed_meetups_updates_go_with_it(store: Store, ann: Person) -> None:
    body = meetup_body("Picnic", start=START, end=START + 3_600_000, tz="UTC", place="the park", capacity=None)
    picnic = ann.sign("meetup", body, [], None)
    await store.ingest([picnic])
    held = await meetups.held(store, picnic["id"])
    assert held is not None
    cancel = cancel_draft(held.spec)
    update = ann.sign("meetup_update", cancel["body"], cancel["tags"], None)
    [stored] = await store.ingest([update])
    assert stored.status == "stored"
    assert await moderation.remove(store, picnic["id"], "off topic") == [picnic["id"], update["id"]]
    assert await store.get_raw(update["id"]) is None and await meetups.held(store, picnic["id"]) is None
