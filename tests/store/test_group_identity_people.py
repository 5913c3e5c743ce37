"""A place in a public group is a person's, not one key's (murmur.kinds.group_fold ``Folding.who``): a join, a request,
an approval, a removal or an appointment naming a device's key is its identity's, so removing someone removes every
device of theirs, one added later too, and a later device of a removed identity cannot join again on its own. The
rows follow the identity's log whatever order its events and the group's messages arrive in
(murmur.kinds.group_state.refold_people), on both engines."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.kinds import group_reads
from murmur.kinds import poll as polls
from murmur.kinds.group_drafts import about_person_draft, create_draft, membership_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import sign_draft
from murmur.store import Store
from murmur.validate import check
from tests.identity_logs import LAPTOP, PHONE, STRANGER, T0, TABLET, Log

OWNER = STRANGER
LATER = T0 + 10**9


def speaking(device: Identity, log: Log, draft: dict[str, Any], at: int) -> dict[str, Any]:
    return sign_draft(device, {**draft, "tags": [*draft["tags"], ["identity", log.identity]]}, created_at=at)


def posted(device: Identity, log: Log, group: str, text: str, at: int) -> dict[str, Any]:
    draft = {"kind": "post", "body": {"text": text, "visibility": "public"}, "tags": [["group", group]]}
    return speaking(device, log, draft, at)


async def people(store: Store, group: str) -> dict[str, str]:
    return {p.key: p.status for p in await group_reads.people(store, group)}


async def entries(store: Store, group: str) -> list[str]:
    return [i.id for i in (await group_reads.timeline(store, group, limit=50)).items]


def removal_scene(subject: str) -> tuple[Log, dict[str, Any], list[list[dict[str, Any]]], dict[str, str]]:
    """An identity (laptop, phone; a tablet added after its removal) whose laptop joins an open group and posts; the
    owner removes ``subject`` (a device's key, or the identity); the phone posts after that and the new tablet asks
    to join. The arrival pieces: the log's first events, the tablet's addition, the join with its post, the
    removal, and the tablet's join with the phone's later post."""
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    first = list(log.events)
    group = sign_draft(OWNER, create_draft("Night shift"), created_at=T0 - 1000)
    g = group["id"]
    at = log.at + 1000
    join = speaking(LAPTOP, log, membership_draft("group_join", g), at)
    early = posted(LAPTOP, log, g, "before", at + 1)
    remove = sign_draft(OWNER, about_person_draft("group_remove", g, subject), created_at=at + 2)
    late = posted(PHONE, log, g, "after", at + 3)
    log.at = at + 4
    added = log.add(PHONE, TABLET, "tablet")
    rejoin = speaking(TABLET, log, membership_draft("group_join", g), log.at + 1)
    ids = {"group": g, "early": early["id"], "late": late["id"]}
    return log, group, [first, [added], [join, early], [remove], [rejoin, late]], ids


@pytest.mark.parametrize("order", list(itertools.permutations(range(5))))
async def test_removing_a_device_removes_its_identity_in_every_arrival_order(
    store: Store, order: tuple[int, ...]
) -> None:
    log, group, pieces, ids = removal_scene(LAPTOP.public_key)
    await store.ingest([group])
    for i in order:
        assert {r.status for r in await store.ingest(pieces[i])} == {"stored"}
    # the identity stays removed: its tablet, added later, only asks again; the phone's later post stays out
    assert await people(store, ids["group"]) == {OWNER.public_key: "member", log.identity: "pending"}
    assert await entries(store, ids["group"]) == [ids["early"]]
    row = await group_reads.group(store, ids["group"])
    assert row is not None and row.members == 1


@pytest.mark.parametrize("subject", ["identity", "phone"])
async def test_a_removal_naming_the_identity_or_another_device_is_the_same(store: Store, subject: str) -> None:
    named = Log().identity if subject == "identity" else PHONE.public_key  # a log's identity is its inception's
    log, group, pieces, ids = removal_scene(named)
    await store.ingest([group, *(m for piece in pieces for m in piece)])
    assert await people(store, ids["group"]) == {OWNER.public_key: "member", log.identity: "pending"}
    assert await entries(store, ids["group"]) == [ids["early"]]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
async def test_approving_a_device_approves_its_identity_and_every_device_counts(
    store: Store, order: tuple[int, ...]
) -> None:
    log = Log()
    first = list(log.events)
    group = sign_draft(OWNER, create_draft("Stewards", approval=True), created_at=T0 - 1000)
    g = group["id"]
    poll = sign_draft(OWNER, poll_draft("Strike?", ["yes", "no"], closes_at=LATER, multiple=False, group=g),
                      created_at=T0 - 500)  # fmt: skip
    added = log.add(LAPTOP, PHONE, "phone")
    ask = speaking(PHONE, log, membership_draft("group_join", g), log.at + 1)
    approve = sign_draft(OWNER, about_person_draft("group_approve", g, LAPTOP.public_key), created_at=log.at + 2)
    ballot = speaking(LAPTOP, log, ballot_draft(check(poll, verify=False), ["yes"]), log.at + 3)
    post = posted(LAPTOP, log, g, "in", log.at + 4)
    pieces = [first, [added], [ask, ballot, post], [approve]]
    await store.ingest([group, poll])
    for i in order:
        await store.ingest(pieces[i])
    assert await people(store, g) == {OWNER.public_key: "member", log.identity: "member"}
    assert await entries(store, g) == [post["id"], poll["id"]]
    results = await polls.results(store, poll["id"])
    assert results is not None and results.tally.voters == 1  # the laptop votes as the member its identity is


async def test_a_device_named_before_its_log_comes_is_its_identitys_once_it_does(store: Store) -> None:
    log, group, pieces, ids = removal_scene(LAPTOP.public_key)
    first, added, joined, removal, rejoined = pieces
    await store.ingest([group, *removal])  # a removal of a key nobody knows yet: that key's place alone
    assert await people(store, ids["group"]) == {OWNER.public_key: "member", LAPTOP.public_key: "removed"}
    await store.ingest([*first, *added, *rejoined])  # the tablet's identity is the removed laptop's
    assert await people(store, ids["group"]) == {OWNER.public_key: "member", log.identity: "pending"}
    await store.ingest(joined)
    assert await people(store, ids["group"]) == {OWNER.public_key: "member", log.identity: "pending"}
    assert await entries(store, ids["group"]) == [ids["early"]]
