"""Private groups when things go wrong: a home server failing midway through a sync, or answering in a shape it
should not; membership changes that cannot finish; a removed member still holding keys."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.client.private_groups import PrivateGroups
from murmur.errors import ConfigError, Refused
from murmur.group_epoch import MAX_EPOCH
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined, publish_events


async def pair(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups, str]:
    """Ada's laptop owning a private group Bo was invited to (and has synced)."""
    ada, bo = Speaker.new(), Speaker.new()
    a_api, b_api = await joined(server, ada), await joined(server, bo)
    laptop = groups_of(ada.devices[0], a_api, ada.identity, tmp_path / "ada")
    bog = groups_of(bo.devices[0], b_api, bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await bog.sync()
    return laptop, bog, group


async def trio(server: Harness, tmp_path: Path) -> tuple[list[PrivateGroups], Speaker, str]:
    """Ada's laptop owning a private group Bo and Cy were invited to; Bo, to change his devices."""
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    people = [groups_of(s.devices[0], await joined(server, s), s.identity, tmp_path / str(i))
              for i, s in enumerate((ada, bo, cy))]  # fmt: skip
    group = await people[0].create("board")
    await people[0].invite(group, [people[1].me, people[2].me])
    return people, bo, group


async def test_a_sync_failing_midway_loses_nothing(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    for text in ("one", "two", "three"):
        await laptop.post(group, text)
    real = bog.api.identity_events

    async def unavailable(name: str) -> dict[str, Any]:
        raise ApiError(503, "unavailable", "busy")

    bog.api.identity_events = unavailable  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        await bog.sync(group)
    bog.api.identity_events = real  # type: ignore[method-assign]
    assert (await bog.sync(group)).read == 3
    assert texts(bog, group) == ["one", "two", "three"]


@pytest.mark.parametrize("messages", ["x", {"a": 1}, 3, None])
async def test_a_malformed_log_answer_is_refused_with_a_reason(
    server: Harness, tmp_path: Path, messages: object
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    await laptop.post(group, "hello")
    real = bog.api.request

    async def twisted(method: str, path: str, **kw: Any) -> Any:
        answer = await real(method, path, **kw)
        if path.endswith("/log"):
            answer["messages"] = messages
        return answer

    bog.api.request = twisted  # type: ignore[method-assign]
    with pytest.raises(ApiError) as refused:
        await bog.sync(group)
    assert refused.value.code == "bad_answer" and "messages" in refused.value.message
    bog.api.request = real  # type: ignore[method-assign]
    assert (await bog.sync(group)).read == 1  # nothing was lost: the cursor stayed


async def test_epoch_keys_the_server_did_not_take_are_sent_at_the_next_command(
    server: Harness, tmp_path: Path
) -> None:
    (laptop, bog, cyg), _, group = await trio(server, tmp_path)
    await bog.sync()
    await cyg.sync()
    real = laptop.api.publish

    async def chunks_fail(message: dict[str, Any]) -> dict[str, Any]:
        if message["kind"] == "sealed":
            raise ApiError(503, "unavailable", "busy")
        return await real(message)

    laptop.api.publish = chunks_fail  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        await laptop.remove(group, cyg.me)  # the removal is published; its epoch's keys are not
    laptop.api.publish = real  # type: ignore[method-assign]
    assert laptop.store.unsent()
    await laptop.post(group, "after Cy left")  # sends the kept keys first, then writes in their epoch
    assert laptop.store.unsent() == []
    assert (await bog.sync(group)).read == 1 and texts(bog, group) == ["after Cy left"]
    report = await cyg.sync(group)
    assert report.read == 0 and [u.code for u in report.unread] == ["wrong_epoch"]


async def test_no_one_writes_into_an_epoch_a_removed_device_still_holds(server: Harness, tmp_path: Path) -> None:
    """Ada removes her lost phone from her identity: the newest epoch was sealed to it too. Bo (a member) is
    refused until Ada (the owner) writes, which starts an epoch without the phone."""
    ada, bo = Speaker.new(), Speaker.new()
    phone = ada.add()
    a_api, b_api = await joined(server, ada), await joined(server, bo)
    laptop = groups_of(ada.devices[0], a_api, ada.identity, tmp_path / "ada")
    ph = groups_of(phone, await server.member(phone.key), ada.identity, tmp_path / "phone")
    bog = groups_of(bo.devices[0], b_api, bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await ph.sync()
    await bog.sync()
    ada.remove(phone)
    await publish_events(a_api, ada)

    with pytest.raises(Refused) as refused:
        await bog.post(group, "canary-0c1 for members only")
    assert refused.value.code == "members_changed" and "nothing was sent" in refused.value.message
    await laptop.post(group, "canary-0c2 after the phone was removed")
    await bog.post(group, "canary-0c3 in the new epoch")
    assert texts(bog, group) == ["canary-0c2 after the phone was removed", "canary-0c3 in the new epoch"]
    with contextlib.suppress(ApiError):  # its home server may refuse it altogether: either way it reads nothing
        await ph.sync(group)
    assert texts(ph, group) == []


async def test_a_change_is_refused_before_anything_is_published_when_no_epoch_number_is_left(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    stored = laptop.store.keys(group)
    assert stored is not None
    stored["epochs"][-1]["epoch"] = MAX_EPOCH
    laptop.store.save_keys(group, "board", stored)
    before = await laptop.api.group_members(group)
    with pytest.raises(ConfigError) as refused:
        await laptop.remove(group, bog.me)
    assert "every epoch number" in str(refused.value)
    assert await laptop.api.group_members(group) == before


async def test_an_offline_device_opens_epochs_made_before_a_member_changed_devices(
    server: Harness, tmp_path: Path
) -> None:
    (laptop, bog, cyg), bo, group = await trio(server, tmp_path)
    await laptop.post(group, "while Cy was away")
    bo.add()  # Bo adds a device since: the epoch Cy holds no key of yet was made without it
    await publish_events(bog.api, bo)
    report = await cyg.sync()
    assert [u.code for u in report.unread] == [] and texts(cyg, group) == ["while Cy was away"]


async def test_a_sealed_message_is_fetched_by_id_only_by_those_it_is_for(server: Harness, tmp_path: Path) -> None:
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    phone = ada.add()
    apis = [await joined(server, s) for s in (ada, bo, cy)]
    p_api = await server.member(phone.key)
    laptop = groups_of(ada.devices[0], apis[0], ada.identity, tmp_path / "ada")
    bog = groups_of(bo.devices[0], apis[1], bo.identity, tmp_path / "bo")
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await laptop.post(group, "canary-9aa for the board")
    [posted] = [i["message"]["id"] for i in (await apis[1].sealed(group=group))["sealed"]]
    chunks = [i["message"]["id"] for i in (await apis[1].sealed())["sealed"]]
    for msg_id in (posted, *chunks):
        assert (await apis[1].message(msg_id))["id"] == msg_id  # Bo: a member, and the chunks are sealed to him
        with pytest.raises(ApiError) as refused:  # Cy, a member of the server only, is told of nothing
            await apis[2].message(msg_id)
        assert refused.value.code == "not_found"
    assert (await p_api.message(posted))["id"] == posted
    ada.remove(phone)  # a device removed from its identity fetches its groups' messages no more
    await publish_events(apis[0], ada)
    with pytest.raises(ApiError) as refused:
        await p_api.message(posted)
    assert refused.value.code in ("not_found", "not_member")
    with pytest.raises(ApiError) as refused:
        await p_api.sealed(group=group)
    assert refused.value.code == "not_member"
