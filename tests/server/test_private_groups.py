"""Private groups through a real home server in process (murmur.client.private_groups): a group created, members
invited and removed, each change a new epoch sealed to the member devices; posts, replies and reactions sealed
for the members, fetched from ``GET /api/v1/sealed?group=ID`` and read only on their devices. Real keys and
ciphertexts throughout."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.client.private_groups import PrivateGroups
from murmur.errors import ConfigError, Refused
from murmur.group_chains import GroupKeys
from murmur.message import now_ms
from murmur.private_group import group_inner, seal_group
from murmur.store.export import ExportFilter, matching
from murmur.store.group_inbox import GroupInbox
from murmur.store.inbox import Cursor
from tests.dm_people import Device, Speaker
from tests.server.conftest import Harness
from tests.server.test_sealed_api import joined

CANARY = "canary-5e1d plans for friday"


def groups_of(device: Device, api: MurmurClient, identity: str, folder: Path) -> PrivateGroups:
    folder.mkdir(parents=True, exist_ok=True)
    name = device.key.public_key[:12]
    talks = device.conversations(api, identity, folder / "dm")
    return PrivateGroups(talks, device.key, GroupInbox.open(folder / f"{name}.groups.db"))


@pytest.fixture
async def people(server: Harness, tmp_path: Path) -> dict[str, PrivateGroups]:
    """Ada (two devices), Bo and Cy, each device with its own store."""
    ada, bo, cy = Speaker.new(), Speaker.new(), Speaker.new()
    ada.add()
    apis = {name: await joined(server, s) for name, s in (("ada", ada), ("bo", bo), ("cy", cy))}
    return {
        "ada": groups_of(ada.devices[0], apis["ada"], ada.identity, tmp_path / "ada"),
        "phone": groups_of(ada.devices[1], server.client(ada.devices[1].key), ada.identity, tmp_path / "phone"),
        "bo": groups_of(bo.devices[0], apis["bo"], bo.identity, tmp_path / "bo"),
        "cy": groups_of(cy.devices[0], apis["cy"], cy.identity, tmp_path / "cy"),
    }


def texts(device: PrivateGroups, group: str) -> list[str]:
    return [p.text for p in reversed(device.timeline(group))]


async def test_create_invite_post_read_and_remove(
    server: Harness, people: dict[str, PrivateGroups], tmp_path: Path
) -> None:
    ada, phone, bo, cy = people["ada"], people["phone"], people["bo"], people["cy"]
    group = await ada.create("organisers")
    change = await ada.invite(group, [bo.me])
    assert (change.epoch, change.devices) == (1, 3)  # Ada's two devices and Bo's
    first = await ada.post(group, CANARY)
    assert (await bo.sync()).read == 1
    reply = await bo.post(group, "count me in", reply_to=first.id)
    await bo.post(group, "+1", react_to=first.id)
    assert (await phone.sync()).read == 3
    assert texts(phone, group) == [CANARY, "count me in", "+1"]
    [shown] = [p for p in phone.timeline(group) if p.id == reply.id]
    assert (shown.sender, shown.reply_to, shown.kind) == (bo.me, first.id, "post")
    assert [p.kind for p in phone.timeline(group) if p.target == first.id] == ["reaction"]
    assert [p.text for p in phone.search("friday")] == [CANARY]
    assert (await phone.sync()).read == 0  # nothing twice

    with pytest.raises(ApiError) as refused:  # not a member: the server gives Cy nothing of the group
        await cy.api.sealed(group=group)
    assert refused.value.code == "not_member"
    assert (await cy.sync()).read == 0 and cy.store.groups() == []

    # Cy, invited later, reads from the epoch sealed to her devices, never before
    await ada.invite(group, [cy.me])
    await ada.post(group, "welcome Cy")
    report = await cy.sync()
    assert texts(cy, group) == ["welcome Cy"]
    assert sorted({u.code for u in report.unread}) == ["wrong_epoch"] and len(report.unread) == 3

    # Bo removed: nothing written after it reads on his device, and it is kept with its reason, inert
    await ada.remove(group, bo.me)
    await ada.post(group, "after Bo left")
    report = await bo.sync()
    assert report.read == 1  # "welcome Cy", written in an epoch he was in
    assert [u.code for u in report.unread] == ["wrong_epoch"]
    assert "after Bo left" not in texts(bo, group)
    with pytest.raises(Refused) as cannot:
        await bo.post(group, "still here?")
    assert cannot.value.code == "not_member"
    # written anyway, in the old epoch whose keys Bo still holds: members refuse it by the group's spans
    old_keys = GroupKeys.from_json(bo.store.keys(group))
    inner = group_inner("post", bo.me, bo.device.public_key, "canary-5e1d sneaking in", now_ms())
    sneaked = seal_group(old_keys, bo.device, inner, "local")
    assert (await bo.api.publish(sneaked))["status"] == "stored"
    report = await cy.sync()
    assert report.read == 1 and [u.code for u in report.unread if u.code != "wrong_epoch"] == ["not_member"]
    assert texts(cy, group)[-1] == "after Bo left" and (await cy.sync()).read == 0
    assert texts(phone, group) == texts(ada, group) or (await phone.sync()).read > 0
    assert texts(phone, group)[-1] == "after Bo left"

    raw = await server.state.store.get_raw(first.id)
    assert raw is None  # the server knows messages by their outer id only
    exported = b"\n".join([raw async for raw in matching(server.state.store, ExportFilter(include_local=True))])
    assert exported.count(b"group_message") == 6  # every post, reply, reaction (and the sneaked one) travels, sealed
    for encoded in encodings(CANARY):
        for path in tmp_path.glob("server.db*"):
            assert encoded not in path.read_bytes()
        assert encoded not in exported


def encodings(text: str) -> list[bytes]:
    """The canary as a server could hold it: plain, JSON-escaped, UTF-16, hex, base64 and base64url."""
    raw = text.encode()
    return [raw, text.encode("utf-16-le"), raw.hex().encode(), base64.b64encode(raw)[:20],
            base64.urlsafe_b64encode(raw)[:20], json.dumps(text).encode()]  # fmt: skip


async def test_only_moderators_change_membership(people: dict[str, PrivateGroups]) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    group = await ada.create("organisers")
    await ada.invite(group, [bo.me])
    with pytest.raises(ConfigError, match="Only the owner and moderators"):
        await bo.invite(group, [cy.me])
    with pytest.raises(ConfigError, match="holds no key"):
        await cy.post(group, "let me in")


async def test_a_message_before_its_epoch_waits_and_reads_once_the_epoch_comes(
    server: Harness, people: dict[str, PrivateGroups]
) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    group = await ada.create("organisers")
    await ada.invite(group, [bo.me])
    await bo.sync()
    feed = f"chunks {bo.api.base_url}"
    held = bo.store.cursor(feed)
    await ada.invite(group, [cy.me])  # epoch 2: its chunk is late to reach Bo (a peer down, a bundle not yet carried)
    await ada.post(group, "in epoch two")
    bo.store.set_cursor(feed, Cursor(await server.state.store.last_seq()))
    report = await bo.sync()
    assert (report.read, [u.code for u in report.unread]) == (0, ["wrong_epoch"])
    assert texts(bo, group) == []
    bo.store.set_cursor(feed, held)  # the chunk comes
    report = await bo.sync()
    assert (report.read, report.unread) == (1, [])
    assert texts(bo, group) == ["in epoch two"]


async def test_an_invited_identity_has_its_place_on_each_of_its_devices(
    people: dict[str, PrivateGroups], engine: str
) -> None:
    """A private group invites identities: each of their devices is told it is a member (the group's screen, its
    listing of my groups), not asked to join."""
    ada, phone, bo, cy = people["ada"], people["phone"], people["bo"], people["cy"]
    group = await ada.create("organisers")
    await ada.invite(group, [bo.me])
    for device, status, role in ((bo, "member", "member"), (phone, "member", "owner"), (cy, "none", "")):
        assert (await device.api.group(group))["you"] == {"status": status, "role": role}
        mine = (await device.api.groups(mine=True))["groups"]
        assert [g["id"] for g in mine] == ([group] if status == "member" else [])


async def test_syncs_and_a_write_asked_at_once_run_one_at_a_time(people: dict[str, PrivateGroups]) -> None:
    """The TUI's screens and its live stream may all ask at once: each message is read once, none is called a
    replay of itself, and a write never reuses a chain key a read moved."""
    ada, bo = people["ada"], people["bo"]
    group = await ada.create("organisers")
    await ada.invite(group, [bo.me])
    await ada.post(group, "one")
    first, second, _ = await asyncio.gather(bo.sync(), bo.sync(), bo.post(group, "two"))
    assert first.read + second.read == 1 and first.unread == second.unread == []
    assert texts(bo, group) == ["one", "two"] and bo.store.unread(group) == []
    await asyncio.gather(bo.post(group, "three"), bo.post(group, "four"), ada.sync())
    report = await ada.sync()
    assert report.unread == [] and sorted(texts(ada, group)) == ["four", "one", "three", "two"]
