"""An author is a person, not a key: what one device of an identity posted, another of its devices may edit, update
(a meetup) or make a new version of (a letter), as it may delete it (tests/store/test_identity_deletes.py); every
read shows it as the author's (``murmur.kinds.acting``). A removed device, after its removal, and a key that does
not speak for the identity may not."""

from __future__ import annotations

import json
from typing import Any

from murmur.keys import Identity
from murmur.kinds import edit, letter, meetup
from murmur.kinds.letter import letter_draft
from murmur.kinds.meetup import meetup_body, meetup_draft
from murmur.message import sign_draft
from murmur.store import Store, search, timelines
from murmur.store.items import shown_version
from tests.identity_logs import LAPTOP, PHONE, STRANGER, T0, Log
from tests.store_helpers import cancel_draft


def by(made: Log, signer: Identity, draft: dict[str, Any]) -> dict[str, Any]:
    """``draft`` signed by ``signer`` for the identity of ``made``, just after its last event or message."""
    made.at += 1000
    named = {**draft, "tags": [*draft.get("tags", []), ["identity", made.identity]]}
    return sign_draft(signer, named, created_at=made.at)


def an_edit(post: dict[str, Any], text: str) -> dict[str, Any]:
    return {"kind": "edit", "body": {"text": text}, "tags": [["target", post["id"]]]}


async def two_devices(store: Store) -> Log:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    await store.ingest(made.events)
    return made


async def test_a_post_from_one_device_is_edited_from_another_and_every_read_shows_it(store: Store) -> None:
    made = await two_devices(store)
    post = made.post(LAPTOP, "written on the laptop")
    change = by(made, PHONE, an_edit(post, "mended on the phone"))
    results = await store.ingest([post, change])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("stored", None)], results
    newest = await shown_version(store, bytes.fromhex(post["id"]))
    assert newest is not None and newest.id == change["id"]
    history = await edit.history(store, bytes.fromhex(post["id"]))
    assert [json.loads(v.raw)["body"]["text"] for v in history] == ["written on the laptop", "mended on the phone"]
    [item] = [i for i in (await timelines.federated(store, limit=10)).items if i.id == post["id"]]
    assert item.edit_raw is not None and json.loads(item.edit_raw)["id"] == change["id"]
    assert [i.id for i in (await search.search_posts(store, "mended")).items] == [post["id"]]
    assert (await search.search_posts(store, "laptop")).items == []


async def test_an_edit_from_another_device_that_came_first_applies_when_the_post_comes(store: Store) -> None:
    made = await two_devices(store)
    post = made.post(LAPTOP, "written on the laptop")
    change = by(made, PHONE, an_edit(post, "mended on the phone"))
    await store.ingest([change])
    await store.ingest([post])
    newest = await shown_version(store, bytes.fromhex(post["id"]))
    assert newest is not None and newest.id == change["id"]


async def test_a_removed_device_or_a_stranger_may_not_edit(store: Store) -> None:
    made = await two_devices(store)
    post = made.post(PHONE, "written on the phone")
    await store.ingest([post])
    made.remove(PHONE, LAPTOP)
    await store.ingest(made.events[-1:])
    for signer in (LAPTOP, STRANGER):  # the laptop after its removal; a stranger naming the identity
        [result] = await store.ingest([by(made, signer, an_edit(post, "not theirs to say"))])
        assert result.status == "refused", (signer.public_key, result)
    other = Log(first=STRANGER)
    await store.ingest(other.events)
    [result] = await store.ingest([by(other, STRANGER, an_edit(post, "not theirs to say"))])
    assert (result.status, result.code) == ("refused", "not_author"), result
    assert await shown_version(store, bytes.fromhex(post["id"])) is None


async def test_a_meetup_is_updated_from_another_device_of_its_organiser(store: Store) -> None:
    made = await two_devices(store)
    start = T0 + 30 * 86_400_000
    planned = by(made, LAPTOP, meetup_draft(meetup_body("Picnic", start=start, end=start + 3_600_000, tz="UTC")))
    await store.ingest([planned])
    found = await meetup.held(store, planned["id"])
    assert found is not None and not found.spec.cancelled
    other = Log(first=STRANGER)
    await store.ingest(other.events)
    forged = by(other, STRANGER, cancel_draft(found.spec))
    cancelled = by(made, PHONE, cancel_draft(found.spec))
    results = await store.ingest([forged, cancelled])
    assert [(r.status, r.code) for r in results] == [("refused", "not_author"), ("stored", None)], results
    now = await meetup.held(store, planned["id"])
    assert now is not None and now.spec.cancelled and now.spec.version == cancelled["id"] and now.spec.versions == 2


async def test_a_letter_gets_a_new_version_from_another_device_of_its_author(store: Store) -> None:
    made = await two_devices(store)
    old = by(made, LAPTOP, letter_draft("Benches", "the park", "More benches."))
    new = by(made, PHONE, letter_draft("Benches", "the park", "More benches, please.", previous=old["id"]))
    results = await store.ingest([old, new])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("stored", None)], results
    standing = await letter.standing(store, old["id"])
    assert standing is not None and standing.newer == (new["id"],)


async def test_a_delete_from_either_device_takes_the_edits_of_both(store: Store) -> None:
    """What goes with a post (its edits) is its author's, from any device: a delete from one device takes what
    another edited, held or still to come, and nothing of its text stays to be relayed."""
    made = await two_devices(store)
    post = made.post(LAPTOP, "written on the laptop")
    from_phone = by(made, PHONE, an_edit(post, "mended on the phone"))
    await store.ingest([post, from_phone])
    gone = by(made, LAPTOP, {"kind": "delete", "body": {}, "tags": [["target", post["id"]]]})
    [result] = await store.ingest([gone])
    assert result.status == "stored", result
    assert not await store.get_raw(post["id"]) and not await store.get_raw(from_phone["id"])
    later = by(made, PHONE, an_edit(post, "too late"))
    [again] = await store.ingest([later])
    assert again.status == "deleted" and not await store.get_raw(later["id"]), again
