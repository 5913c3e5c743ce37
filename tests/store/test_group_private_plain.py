"""A private group takes nothing in the clear: a plain post, poll or meetup addressed to it is refused wherever
the store holds the group (or the batch creates it), and one that arrived before its group is held but shown
nowhere, so the order messages arrive in changes nothing readers see."""

from __future__ import annotations

from typing import Any

import pytest
from store_people import T0, Person
from test_group_entries import group_meetup, group_poll, group_post, sign

from murmur.kinds import group_reads
from murmur.kinds.group_drafts import about_person_draft, create_draft
from murmur.store import Store
from murmur.store.timelines import author, federated


def private_group(owner: Person) -> dict[str, Any]:
    return sign(owner, create_draft("organisers", join="invite"), T0)


def invite(owner: Person, group: str, who: Person) -> dict[str, Any]:
    return sign(owner, about_person_draft("group_approve", group, who.key), T0 + 10)


@pytest.mark.parametrize("entry", [group_post, group_poll, group_meetup])
async def test_a_plain_entry_in_a_held_private_group_is_refused(
    store: Store, ann: Person, ben: Person, entry: Any
) -> None:
    create = private_group(ann)
    joined = await store.ingest([create, invite(ann, create["id"], ben)])
    assert [r.status for r in joined] == ["stored", "stored"]  # its steps are plain: servers route by them
    plain = entry(ben, create["id"], "the merger is off", T0 + 20) if entry is group_post else entry(
        ben, create["id"], T0 + 20)  # fmt: skip
    [result] = await store.ingest([plain])
    assert (result.status, result.code) == ("refused", "private_group")
    assert "sealed" in (result.reason or "")
    assert await store.get_raw(plain["id"]) is None


async def test_a_plain_entry_in_the_batch_creating_the_group_is_refused(store: Store, ann: Person) -> None:
    create = private_group(ann)
    post = group_post(ann, create["id"], "in the same breath", T0 + 20)
    results = await store.ingest([create, post])
    assert [(r.status, r.code) for r in results] == [("stored", None), ("refused", "private_group")]


async def test_an_open_groups_plain_entries_still_go_in(store: Store, ann: Person) -> None:
    create = sign(ann, create_draft("lunch"), T0)
    results = await store.ingest([create, group_post(ann, create["id"], "noon?", T0 + 20)])
    assert [r.status for r in results] == ["stored", "stored"]


async def test_a_plain_entry_before_its_private_group_arrived_is_shown_nowhere(
    store: Store, ann: Person, ben: Person
) -> None:
    create = private_group(ann)
    early = group_post(ann, create["id"], "relayed ahead of its group", T0 + 20)
    elsewhere = ann.sign("post", {"text": "a public post", "visibility": "public"}, [], T0 + 30)
    first, _ = await store.ingest([early, elsewhere])
    assert first.status == "stored"  # the store cannot know yet that the group is private
    shown_before = [i.id for i in (await author(store, ann.key)).items]
    assert early["id"] in shown_before
    await store.ingest([create, invite(ann, create["id"], ben)])
    assert [i.id for i in (await author(store, ann.key)).items] == [elsewhere["id"]]
    assert early["id"] not in [i.id for i in (await federated(store)).items]
    assert (await group_reads.timeline(store, create["id"])).items == []
