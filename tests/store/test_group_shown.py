"""A group's members follow the rule readers are shown by (murmur.kinds.shown_sql), as every count does
(tests/store/test_counts_shown.py): a join, a request or an approval signed by a device counts for nothing while its
identity's log cannot judge it (waiting) or a fork disputes the device, and counts once the log arrives or the
rotation key settles the fork (docs/protocol.md §13.5). What a device folds itself (the group's log) and what a
poll's recount reads are the same set, so neither disagrees with the server's fold."""

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
from murmur.store.notifications import notifications
from murmur.validate import check, load_stored
from tests.identity_logs import LAPTOP, PHONE, ROTATION_0, ROTATION_1, ROTATION_2, SPARE, STRANGER, T0, TABLET, Log

LATER = T0 + 10**9  # the poll closes long after every message here


def made_group(join: str = "open") -> dict[str, Any]:
    return sign_draft(STRANGER, create_draft("Union", join=join), created_at=T0 - 1000)


def speaking(device: Identity, log: Log, draft: dict[str, Any]) -> dict[str, Any]:
    """``draft`` signed by ``device`` for the identity, dated after the log's last event."""
    log.at += 1000
    tagged = {**draft, "tags": [*draft["tags"], ["identity", log.identity]]}
    return sign_draft(device, tagged, created_at=log.at)


async def standing(store: Store, group: str) -> dict[str, Any]:
    """What a reader can be told of the group's people, through every door that reads its fold."""
    row = await group_reads.group(store, group)
    assert row is not None
    logged = [load_stored(raw).kind for raw in await group_reads.log(store, group)]
    return {
        "members": row.members,
        "people": {p.key: p.status for p in await group_reads.people(store, group)},
        "spans": sorted(key for key, _, _ in await group_reads.spans(store, group)),
        "log": sorted(logged),
    }


ALONE = {"members": 1, "people": {STRANGER.public_key: "member"}, "spans": [STRANGER.public_key], "log": ["group"]}


def joined(log: Log) -> dict[str, Any]:
    """The group with the person ``log`` names in it: the place is the identity's, whichever device joined."""
    people = {STRANGER.public_key: "member", log.identity: "member"}
    return {"members": 2, "people": people, "spans": sorted(people), "log": ["group", "group_join"]}


@pytest.mark.parametrize("arrival", ["group first", "join first", "one batch"])
async def test_a_join_waiting_for_its_identity_log_makes_nobody_a_member_until_the_log_comes(
    store: Store, arrival: str
) -> None:
    group, log = made_group(), Log()
    log.add(LAPTOP, PHONE, "phone")
    join = speaking(PHONE, log, membership_draft("group_join", group["id"]))
    batches = {"group first": [[group], [join]], "join first": [[join], [group]], "one batch": [[group, join]]}
    for batch in batches[arrival]:
        assert [r.status for r in await store.ingest(batch)] == ["stored"] * len(batch)
    assert await standing(store, group["id"]) == ALONE  # waiting: a member nowhere
    await store.ingest(log.events)
    assert await standing(store, group["id"]) == joined(log)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_every_order_of_the_group_the_join_and_the_log_ends_the_same(store: Store, order: tuple[int]) -> None:
    group, log = made_group(), Log()
    log.add(LAPTOP, PHONE, "phone")
    join = speaking(PHONE, log, membership_draft("group_join", group["id"]))
    batches = [[group], [join], log.events]
    for i in order:
        await store.ingest(batches[i])
    assert await standing(store, group["id"]) == joined(log)


async def test_a_request_counts_and_is_told_to_the_owner_once_its_log_comes(store: Store) -> None:
    group, log = made_group("approval"), Log()
    log.add(LAPTOP, PHONE, "phone")
    ask = speaking(PHONE, log, membership_draft("group_join", group["id"]))
    await store.ingest([group, ask])
    assert (await standing(store, group["id"]))["people"] == {STRANGER.public_key: "member"}
    assert (await notifications(store, STRANGER.public_key)).items == []  # nobody asked, as far as anyone is shown
    await store.ingest(log.events)
    people = {STRANGER.public_key: "member", log.identity: "pending"}
    assert (await standing(store, group["id"]))["people"] == people
    told = (await notifications(store, STRANGER.public_key)).items
    assert [(n.kind, n.actor) for n in told] == [("group_join", PHONE.public_key)]


async def test_a_moderators_approval_from_a_waiting_device_lets_nobody_in_until_its_log_comes(store: Store) -> None:
    group, log = made_group("approval"), Log()
    log.add(LAPTOP, PHONE, "phone")
    mod = sign_draft(STRANGER, about_person_draft("group_mod", group["id"], PHONE.public_key), created_at=T0)
    ask = sign_draft(SPARE, membership_draft("group_join", group["id"]), created_at=T0 + 1)
    approve = speaking(PHONE, log, about_person_draft("group_approve", group["id"], SPARE.public_key))
    await store.ingest([group, mod, ask, approve])
    assert (await standing(store, group["id"]))["people"][SPARE.public_key] == "pending"
    assert (await notifications(store, SPARE.public_key)).items == []
    await store.ingest(log.events)
    assert (await standing(store, group["id"]))["people"][SPARE.public_key] == "member"
    told = (await notifications(store, SPARE.public_key)).items
    assert [(n.kind, n.actor) for n in told] == [("group_approve", PHONE.public_key)]


async def test_a_disputed_device_joins_once_the_rotation_key_settles_the_fork(store: Store) -> None:
    group, log = made_group(), Log()
    log.add(LAPTOP, PHONE, "phone")
    rotation = log.rotate(ROTATION_0, ROTATION_1)
    log.add(PHONE, TABLET, "tablet")
    log.remove(TABLET, PHONE)
    kept = log.events[-1]
    await store.ingest([group, *log.events])
    # the thief, holding the phone, removes the laptop where the phone was still current: a fork disputing both
    await store.ingest([log.remove(PHONE, LAPTOP, prior=rotation["id"])])
    join = speaking(LAPTOP, log, membership_draft("group_join", group["id"]))
    await store.ingest([join])
    assert await standing(store, group["id"]) == ALONE  # disputed: held, a member nowhere
    await store.ingest([log.rotate(ROTATION_1, ROTATION_2, prior=kept["id"])])
    assert await standing(store, group["id"]) == joined(log)


async def test_a_group_polls_recount_reads_the_messages_the_fold_counts(store: Store) -> None:
    group, log = made_group(), Log()
    log.add(LAPTOP, PHONE, "phone")
    draft = poll_draft("Strike?", ["yes", "no"], closes_at=LATER, multiple=False, group=group["id"])
    poll = sign_draft(STRANGER, draft, created_at=T0)
    join = speaking(PHONE, log, membership_draft("group_join", group["id"]))
    ballot = speaking(PHONE, log, ballot_draft(check(poll, verify=False), ["yes"]))
    await store.ingest([group, poll, join, ballot])

    async def seen() -> tuple[int, list[str]]:
        results, signed = await polls.results(store, poll["id"]), await polls.signed(store, poll["id"])
        assert results is not None and signed is not None
        return results.tally.voters, sorted(load_stored(raw).kind for raw in signed.group)

    assert await seen() == (0, ["group"])
    await store.ingest(log.events)
    assert await seen() == (1, ["group", "group_join"])


async def test_a_group_a_waiting_device_made_is_no_group_until_its_log_comes(store: Store) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    made = speaking(PHONE, log, create_draft("Night shift"))
    await store.ingest([made])

    async def known() -> list[bool]:
        found = await group_reads.group(store, made["id"])
        listed = [g.id for g in await group_reads.directory(store)]
        searched = [g.id for g in await group_reads.directory(store, query="night")]
        mine = [g.id for g, _, _ in await group_reads.groups_of(store, PHONE.public_key)]
        return [found is not None, made["id"] in listed, made["id"] in searched, made["id"] in mine]

    assert await known() == [False] * 4  # waiting: its creation is shown nowhere, and so is the group
    await store.ingest(log.events)
    assert await known() == [True] * 4
