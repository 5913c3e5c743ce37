"""What a private group's commands and syncs look up on the home server (issue 16, docs/encryption.md §16.5,
``murmur.client.lookups``): one command costs each member's identity log at most once, so a moderator of a large
group posts far under the home server's rate limit (600 requests a minute per key by default); the names a
stranger's messages give (a made-up group in an epoch chunk, a made-up sender in a group message) cost at most
the sync's budget, and a rate limit stops the look-ups, never the reading of the person's real groups; a post whose
look-ups are refused by a rate limit says that nothing was sent and to post again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.client.lookups import LOOKUPS_PER_SYNC, NOT_LOOKED_UP
from murmur.client.private_groups import PrivateGroups
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Device as Member
from murmur.message import now_ms
from murmur.private_group import epoch_messages, group_inner, seal_group
from murmur.sealing import public_hex
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import texts
from tests.server.test_private_groups_faults import pair, trio
from tests.server.test_sealed_api import joined

OTHERS = 6
RATE_LIMIT = 60  # requests the home server answers before saying 429, for these tests


def counted(api: MurmurClient) -> list[str]:
    """Every request ``api`` makes from now on, by its path."""
    asked: list[str] = []
    real = api.request

    async def counting(method: str, path: str, **kw: Any) -> Any:
        asked.append(path)
        return await real(method, path, **kw)

    api.request = counting  # type: ignore[method-assign]
    return asked


def rate_limited(api: MurmurClient, looks_up: str, after: int) -> None:
    """``api``'s home server answers 429 to every request for ``looks_up`` (a path's part) after ``after`` of them."""
    asked = 0
    real = api.request

    async def limited(method: str, path: str, **kw: Any) -> Any:
        nonlocal asked
        if looks_up in path:
            asked += 1
            if asked > after:
                raise ApiError(429, "rate_limited", "Too many requests; try again in 60 s.")
        return await real(method, path, **kw)

    api.request = limited  # type: ignore[method-assign]


async def group_of(server: Harness, tmp_path: Path, others: int) -> tuple[PrivateGroups, PrivateGroups, str]:
    """``pair``'s group with ``others`` more members, and something for the owner's next sync to read."""
    laptop, bog, group = await pair(server, tmp_path)
    people = [Speaker.new() for _ in range(others)]
    for person in people:
        await joined(server, person)
    await laptop.invite(group, [p.identity for p in people])
    await bog.post(group, "something to read")
    return laptop, bog, group


async def test_review3_one_post_looks_up_each_members_log_at_most_once(server: Harness, tmp_path: Path) -> None:
    laptop, _, group = await group_of(server, tmp_path, OTHERS)
    asked: list[str] = []
    real = laptop.api.identity_events

    async def counting(name: str) -> dict[str, Any]:
        asked.append(name)
        return await real(name)

    laptop.api.identity_events = counting  # type: ignore[method-assign]
    await laptop.post(group, "one post")
    members = OTHERS + 2
    assert len(asked) <= members, f"{len(asked)} look-ups for {members} members"


async def test_a_fifty_member_groups_post_costs_each_log_once_and_a_few_requests_more(
    server: Harness, tmp_path: Path
) -> None:
    others = 48
    laptop, bog, group = await group_of(server, tmp_path, others)
    asked = counted(laptop.api)
    await laptop.post(group, "one post")
    members = others + 2
    looked_up = [p for p in asked if p.startswith("/api/v1/identities/")]
    assert len(looked_up) == len(set(looked_up)) <= members
    assert len(asked) <= members + 12, f"{len(asked)} requests for one post in a group of {members}"
    await bog.sync()
    assert texts(bog, group)[-1] == "one post"


async def test_a_post_whose_look_ups_are_rate_limited_says_nothing_was_sent(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await group_of(server, tmp_path, 3)
    rate_limited(laptop.api, "/identities/", after=2)
    with pytest.raises(ApiError) as refused:
        await laptop.post(group, "not yet")
    assert refused.value.status == 429 and "nothing was sent" in refused.value.message
    assert not laptop.store.unsent()  # nothing written, nothing to send later: the person posts it again
    await bog.sync()
    assert "not yet" not in texts(bog, group)


async def test_a_rate_limit_reading_one_group_leaves_the_others_read(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    other = await laptop.create("the other board")
    await laptop.invite(other, [bog.me])
    await bog.sync()
    await laptop.post(group, "in the board")
    await laptop.post(other, "in the other")
    real = bog.api.request

    async def one_limited(method: str, path: str, **kw: Any) -> Any:
        if f"/groups/{group}/log" in path:
            raise ApiError(429, "rate_limited", "Too many requests; try again in 60 s.")
        return await real(method, path, **kw)

    bog.api.request = one_limited  # type: ignore[method-assign]
    report = await bog.sync()
    assert texts(bog, other) == ["in the other"] and "Too many requests" in report.failed[group]
    bog.api.request = real  # type: ignore[method-assign]
    await bog.sync()  # read at the next sync: nothing was lost
    assert texts(bog, group) == ["in the board"]


async def test_review3_a_flood_of_junk_epoch_chunks_does_not_stop_a_member_reading_their_group(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve = Speaker.new()
    eve_api = await joined(server, eve)
    bo_device = Member(bog.device.public_key, public_hex(bog.talks.x25519))
    for _ in range(RATE_LIMIT + 10):  # each names a group nobody made
        _, chunks = epoch_messages(os.urandom(32).hex(), [bo_device], None, eve.devices[0].x25519, "local", now_ms())
        assert (await eve_api.publish(chunks[0]))["status"] == "stored"
    await laptop.post(group, "the real post")
    rate_limited(bog.api, "/log", after=RATE_LIMIT)
    asked = counted(bog.api)
    report = await bog.sync()
    assert texts(bog, group) == ["the real post"]
    assert len([p for p in asked if p.endswith("/log")]) <= RATE_LIMIT + 1  # none asked past the first 429
    assert sum(u.code == NOT_LOOKED_UP for u in report.unread) >= 10  # kept, each with its reason, tried later


async def test_junk_chunks_cost_at_most_the_syncs_budget_of_requests(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve = Speaker.new()
    eve_api = await joined(server, eve)
    bo_device = Member(bog.device.public_key, public_hex(bog.talks.x25519))
    for _ in range(LOOKUPS_PER_SYNC + 6):
        _, chunks = epoch_messages(os.urandom(32).hex(), [bo_device], None, eve.devices[0].x25519, "local", now_ms())
        assert (await eve_api.publish(chunks[0]))["status"] == "stored"
    await laptop.post(group, "the real post")
    asked = counted(bog.api)
    report = await bog.sync()
    assert texts(bog, group) == ["the real post"]
    assert len([p for p in asked if p.endswith("/log")]) <= LOOKUPS_PER_SYNC + 1  # the made-up groups, and the real
    assert sum(u.code == NOT_LOOKED_UP for u in report.unread) == 6


async def test_a_members_messages_naming_made_up_senders_cost_at_most_the_syncs_budget(
    server: Harness, tmp_path: Path
) -> None:
    [owner, bo, cy], _, group = await trio(server, tmp_path)
    await bo.sync()
    keys = GroupKeys.from_json(bo.store.keys(group))  # Bo's chain, moved here only: he writes nothing real after
    for _ in range(LOOKUPS_PER_SYNC + 20):  # each claims a sender nobody is
        inner = group_inner("post", os.urandom(32).hex(), bo.device.public_key, "junk", now_ms())
        assert (await bo.api.publish(seal_group(keys, bo.device, inner, "local")))["status"] == "stored"
    await cy.post(group, "the real post")
    asked = counted(owner.api)
    report = await owner.sync()
    assert texts(owner, group) == ["the real post"]
    assert len([p for p in asked if p.startswith("/api/v1/identities/")]) <= LOOKUPS_PER_SYNC + 3
    assert {u.code for u in report.unread} <= {"forged_sender", NOT_LOOKED_UP}
