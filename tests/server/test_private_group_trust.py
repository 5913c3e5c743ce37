"""What a hostile home server, a removed member or a stolen device can do to a private group, through a real
home server in process: each attack is refused with the reason the person is shown (docs/encryption.md §14,
§16.5). Members, roles and membership spans come from the group's signed messages, folded on the device; a
group message counts at the later of its time and its arrival; old epochs' keys are deleted."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from murmur.client.private_groups import PrivateGroups
from murmur.errors import ConfigError, Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Device as Member
from murmur.group_epoch import Link
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import now_ms
from murmur.private_group import epoch_messages, group_inner, open_chunk, seal_group
from murmur.sealing import public_hex
from murmur.validate import check
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_devices import _as_device
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_private_groups_faults import pair, trio
from tests.server.test_sealed_api import joined, publish_events


def _recording(groups: PrivateGroups) -> list[dict[str, Any]]:
    """Every message ``groups`` publishes from now on, as it sent it."""
    sent: list[dict[str, Any]] = []
    real = groups.api.publish

    async def recording(message: dict[str, Any]) -> dict[str, Any]:
        sent.append(message)
        return await real(message)

    groups.api.publish = recording  # type: ignore[method-assign]
    return sent


def _opens_for(sent: list[dict[str, Any]], speaker: Speaker) -> bool:
    """Whether any epoch chunk among ``sent`` opens with a device of ``speaker``."""
    for message in sent:
        if "envelope" in message["body"]:
            for device in speaker.devices:
                try:
                    if open_chunk(check(message), device.x25519) is not None:
                        return True
                except Refused:  # not sealed to that device: what we want
                    continue
    return False


async def _lying_home(groups: PrivateGroups, eve: Speaker, extra: list[dict[str, Any]]) -> None:
    """The home server says Eve (an identity its admin holds) is a moderator and member of every group, and adds
    ``extra`` messages to every group's log."""
    members, log = groups.api.group_members, groups.api.group_log

    async def lying_members(group_id: str) -> dict[str, Any]:
        found = await members(group_id)
        found["members"].append({"key": eve.identity, "role": "moderator", "since": 0})
        found["spans"].append({"key": eve.identity, "start": 0, "end": None})
        return found

    async def lying_log(group_id: str) -> dict[str, Any]:
        found = await log(group_id)
        return {**found, "messages": [*found["messages"], *extra]}

    groups.api.group_members = lying_members  # type: ignore[method-assign]
    groups.api.group_log = lying_log  # type: ignore[method-assign]


async def _forgeries(server: Harness, owner: PrivateGroups, group: str, eve: Speaker) -> list[dict[str, Any]]:
    """What a server can make to put Eve in a group: Eve's own approval and appointment of herself (signed, but
    by no one with the authority), and the owner's approval of Bo with Bo swapped for Eve (a broken signature)."""
    eve_api = await joined(server, eve)
    device = eve.devices[0]
    for kind in ("group_approve", "group_mod"):
        await _as_device(eve_api, device, eve.identity, about_person_draft(kind, group, eve.identity), now_ms())
    log = (await owner.api.group_log(group))["messages"]
    own = [m for m in log if m["author"] == device.key.public_key]
    approval = copy.deepcopy(next(m for m in log if m["kind"] == "group_approve" and m not in own))
    approval["tags"] = [["subject", eve.identity] if t[0] == "subject" else t for t in approval["tags"]]
    return [*own, approval]


async def test_a_home_server_cannot_add_its_own_identity_to_a_private_groups_members(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve, cy = Speaker.new(), Speaker.new()
    cyg = groups_of(cy.devices[0], await joined(server, cy), cy.identity, tmp_path / "cy")
    await _lying_home(laptop, eve, await _forgeries(server, laptop, group, eve))
    sent = _recording(laptop)
    await laptop.post(group, "canary: layoffs on friday")  # no member change the owner can prove: no new epoch
    await laptop.invite(group, [cyg.me])  # a real change: a new epoch, sealed to the members the log proves
    await laptop.post(group, "canary: the merger is off")
    assert any("envelope" in m["body"] for m in sent)  # the invitation's epoch was sealed
    assert not _opens_for(sent, eve)  # never to the server's device
    assert eve.identity not in {c.key for c in laptop.store.member_changes(group)}
    await bog.sync()
    assert texts(bog, group) == ["canary: layoffs on friday", "canary: the merger is off"]


async def test_a_home_server_naming_its_identity_moderator_gives_members_no_epoch_key(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    eve = Speaker.new()
    await _lying_home(bog, eve, await _forgeries(server, laptop, group, eve))
    head = GroupKeys.from_json(laptop.store.keys(group)).current()
    assert head is not None
    devices = sorted({Member(d.key.public_key, d.public) for s in (eve,) for d in s.devices}
                     | {Member(g.device.public_key, public_hex(g.talks.x25519)) for g in (laptop, bog)})  # fmt: skip
    _, chunks = epoch_messages(group, devices, Link(group, head.number, head.digest), eve.devices[0].x25519,
                               "local", now_ms())  # fmt: skip
    eve_api = await server.member(eve.devices[0].key)
    for message in chunks:
        assert (await eve_api.publish(message))["status"] == "stored"
    report = await bog.sync()
    assert [u.code for u in report.unread] == ["not_member"]
    assert "no one who was ever owner or moderator" in report.unread[0].reason
    assert GroupKeys.from_json(bog.store.keys(group)).current().digest == head.digest  # type: ignore[union-attr]
    await bog.post(group, "still only ours")  # written in the owner's epoch, which Eve never had
    await laptop.sync()
    assert texts(laptop, group) == ["still only ours"]


async def test_a_removed_member_backdating_into_an_epoch_it_was_in_is_refused(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    before = now_ms()
    await laptop.remove(group, bog.me)  # a new epoch without Bo
    old = GroupKeys.from_json(bog.store.keys(group))  # Bo still holds the epoch he was in
    inner = group_inner("post", bog.me, bog.device.public_key, "forged after removal", before - 1)
    assert (await bog.api.publish(seal_group(old, bog.device, inner, "local")))["status"] == "stored"
    report = await laptop.sync(group)
    assert [u.code for u in report.unread] == ["not_member"]
    assert "reached your server after its sender stopped being a member" in report.unread[0].reason
    assert texts(laptop, group) == []


async def test_a_stolen_device_backdating_after_its_removal_is_refused(server: Harness, tmp_path: Path) -> None:
    (owner, laptop, _), bo, group = await trio(server, tmp_path)
    phone_device = bo.add()
    await publish_events(laptop.api, bo)
    phone = groups_of(phone_device, laptop.api, bo.identity, tmp_path / "phone")
    await owner.sync()  # an epoch for Bo's phone too
    await phone.sync()
    before = now_ms()
    bo.remove(phone_device)  # the phone is stolen: Bo removes it from his identity
    await publish_events(laptop.api, bo)
    keys = GroupKeys.from_json(phone.store.keys(group))
    inner = group_inner("post", bo.identity, phone_device.key.public_key, "sent from the stolen phone", before - 1)
    assert (await laptop.api.publish(seal_group(keys, phone.device, inner, "local")))["status"] == "stored"
    report = await owner.sync(group)
    assert [u.code for u in report.unread] == ["device_removed"]
    assert "reached your server, after the device it names left" in report.unread[0].reason
    assert "sent from the stolen phone" not in texts(owner, group)


async def test_epochs_older_than_the_one_before_the_newest_are_forgotten(server: Harness, tmp_path: Path) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    first = GroupKeys.from_json(bog.store.keys(group))  # epoch 1, as a copy of Bo's store would hold it
    for name in ("cy", "dee"):
        other = Speaker.new()
        await joined(server, other)
        await laptop.invite(group, [other.identity])
        if name == "cy":
            await bog.sync()
            second = GroupKeys.from_json(bog.store.keys(group))  # epochs 1 and 2, before epoch 3 came
    await bog.sync()
    assert sorted(e.number for e in GroupKeys.from_json(bog.store.keys(group)).epochs.values()) == [2, 3]
    late = group_inner("post", bog.me, bog.device.public_key, "written in epoch 2, late", now_ms())
    assert (await bog.api.publish(seal_group(second, bog.device, late, "local")))["status"] == "stored"
    assert (await laptop.sync(group)).unread == []  # the epoch just replaced still reads
    assert sorted(e.number for e in GroupKeys.from_json(laptop.store.keys(group)).epochs.values()) == [2, 3]
    older = group_inner("post", bog.me, bog.device.public_key, "written in epoch 1", now_ms())
    assert (await bog.api.publish(seal_group(first, bog.device, older, "local")))["status"] == "stored"
    report = await laptop.sync(group)
    assert [u.code for u in report.unread] == ["too_old"]
    assert "deleted the keys of every epoch before 2" in report.unread[0].reason
    assert texts(laptop, group) == ["written in epoch 2, late"]


async def test_member_changes_are_pinned_and_a_removal_once_seen_cannot_be_taken_back(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    cy = Speaker.new()
    await joined(server, cy)
    await laptop.invite(group, [cy.identity])
    await bog.sync()
    await laptop.remove(group, cy.identity)
    await bog.sync()
    changes = [(c.key, c.change) for c in bog.store.member_changes(group)]
    assert changes == [(cy.identity, "added"), (cy.identity, "removed")]
    log = bog.api.group_log

    async def withholding_the_removal(group_id: str) -> dict[str, Any]:  # the server keeps the removal back
        found = await log(group_id)
        return {**found, "messages": [m for m in found["messages"] if m["kind"] != "group_remove"]}

    bog.api.group_log = withholding_the_removal  # type: ignore[method-assign]
    await bog.sync()
    assert [(c.key, c.change) for c in bog.store.member_changes(group)] == changes  # Cy stays out
    await bog.post(group, "after Cy left")  # sealed in the epoch without Cy: no members_changed


async def test_a_home_server_calling_a_member_owner_changes_nothing(server: Harness, tmp_path: Path) -> None:
    (laptop, bog, cyg), _, group = await trio(server, tmp_path)
    await bog.sync()
    real = bog.api.group

    async def says_owner(group_id: str) -> dict[str, Any]:  # the server tells Bo he owns the group
        found = await real(group_id)
        return {**found, "owner": bog.device.public_key, "you": {"status": "member", "role": "owner"}}

    bog.api.group = says_owner  # type: ignore[method-assign]
    with pytest.raises(ConfigError) as refused:
        await bog.remove(group, cyg.me)
    assert "Only the owner and moderators" in str(refused.value)
    before = GroupKeys.from_json(bog.store.keys(group)).current()
    await laptop.remove(group, cyg.me)  # the real owner's change: Bo has not seen its epoch yet
    real_sync = bog._sync  # the sync a post runs first, under the store's lock

    async def no_chunks(only: str | None = None) -> Any:  # the server withholds the new epoch's chunk from Bo
        return None

    bog._sync = no_chunks  # type: ignore[method-assign]
    with pytest.raises(Refused) as waiting:  # not an owner, whatever the server says: he starts no epoch
        await bog.post(group, "am I the owner?")
    assert waiting.value.code == "members_changed"
    bog._sync = real_sync  # type: ignore[method-assign]
    assert GroupKeys.from_json(bog.store.keys(group)).current() == before
