"""Private groups through a real home server in process, as a member's devices change and moderators come and
go: a device added after an epoch began gets the next one at the owner's next sync (and reads from there, not
before); a device removed gets none from there on; an epoch key counts by the role its sealer held when it was
sealed, as the group's signed log records it (docs/encryption.md §16.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.client.devices import device_envelope
from murmur.client.group_authority import check_sealer
from murmur.client.private_groups import PrivateGroups
from murmur.errors import Refused
from murmur.group_chains import GroupKeys
from murmur.group_epoch import Device as Member
from murmur.group_epoch import Link
from murmur.kinds.group_drafts import about_person_draft
from murmur.kinds.group_fold import RoleSpan
from murmur.message import complete_draft, now_ms, sign_envelope
from murmur.private_group import epoch_messages
from murmur.validate import check
from tests.dm_people import Device, Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_private_groups_faults import trio
from tests.server.test_sealed_api import joined, publish_events


async def test_a_device_added_later_reads_from_the_next_epoch_and_one_removed_reads_no_more(
    server: Harness, tmp_path: Path
) -> None:
    [owner, laptop, _], bo, group = await trio(server, tmp_path)
    bo_api = laptop.api
    await owner.post(group, "before the phone")

    phone_device = bo.add()
    await publish_events(bo_api, bo)
    # the phone reads through Bo's account as well: after its removal it stands for a device kept by a thief
    phone = groups_of(phone_device, bo_api, bo.identity, tmp_path / "phone")
    with pytest.raises(Refused) as waiting:  # no epoch holds the phone yet: a member cannot write past it
        await laptop.post(group, "too soon")
    assert waiting.value.code == "members_changed"

    await owner.sync()  # the owner's sync sees Bo's new device and starts an epoch sealed to it
    assert GroupKeys.from_json(owner.store.keys(group)).current().number == 2  # type: ignore[union-attr]
    await laptop.post(group, "after the phone")
    report = await phone.sync()
    assert texts(phone, group) == ["after the phone"]  # from when it was added, not before
    assert [u.code for u in report.unread] == ["wrong_epoch"]  # "before the phone": an epoch it was never in
    assert (await owner.sync()).read == 1 and texts(owner, group)[-1] == "after the phone"
    assert GroupKeys.from_json(owner.store.keys(group)).current().number == 2  # type: ignore[union-attr]

    bo.remove(phone_device)
    await publish_events(bo_api, bo)
    await owner.sync()  # the phone left Bo's identity: a new epoch without it
    await laptop.post(group, "after the removal")
    report = await phone.sync()
    assert texts(phone, group) == ["after the phone"]
    assert [u.code for u in report.unread] == ["wrong_epoch", "wrong_epoch"]  # tried again, and the new one
    assert (await owner.sync()).read == 1 and texts(owner, group)[-1] == "after the removal"


async def _as_device(api: MurmurClient, device: Device, identity: str, draft: dict[str, object], at: int) -> None:
    envelope = device_envelope(complete_draft(draft, device.key.public_key, created_at=at), identity, None)
    assert (await api.publish(sign_envelope(device.key, envelope)))["status"] == "stored"


async def _chunk_from(groups: PrivateGroups, group: str, devices: list[Member]) -> None:
    """An epoch after the newest ``groups`` holds, for ``devices``, sealed by its device and sent: what a device
    that bypasses its client's own checks can send."""
    head = GroupKeys.from_json(groups.store.keys(group)).current()
    assert head is not None
    link = Link(group, head.number, head.digest)
    _, chunks = epoch_messages(group, devices, link, groups.talks.x25519, "local", now_ms())
    for message in chunks:
        check(message)
        assert (await groups.api.publish(message))["status"] == "stored"


async def test_an_epoch_key_counts_by_the_role_its_sealer_held_when_it_was_sealed(
    server: Harness, tmp_path: Path
) -> None:
    people = {name: Speaker.new() for name in ("ada", "bo", "cy", "dee")}
    apis = {name: await joined(server, s) for name, s in people.items()}
    groups = {name: groups_of(s.devices[0], apis[name], s.identity, tmp_path / name) for name, s in people.items()}
    ada, bo, cy, dee = groups["ada"], groups["bo"], groups["cy"], groups["dee"]
    group = await ada.create("organisers")
    await ada.invite(group, [bo.me, dee.me])
    bo_device = people["bo"].devices[0]
    await _as_device(ada.api, people["ada"].devices[0], ada.me, about_person_draft("group_mod", group,
                     bo_device.key.public_key), now_ms())  # fmt: skip

    await bo.invite(group, [cy.me])  # sealed by Bo while a moderator
    await ada.post(group, "welcome Cy")
    # then Bo is demoted (dated after his epoch key reached the server, which it did before invite returned)
    await _as_device(ada.api, people["ada"].devices[0], ada.me, about_person_draft("group_unmod", group,
                     bo_device.key.public_key), now_ms() + 1)  # fmt: skip
    assert (await ada.api.group(group))["moderators"] == []

    report = await cy.sync()  # Cy comes online only now: Bo's key still counts, he was a moderator then
    assert texts(cy, group) == ["welcome Cy"] and report.unread == []

    await bo.sync()
    await dee.sync()
    members = sorted({Member(d.key.public_key, d.public) for s in people.values() for d in s.devices})
    await _chunk_from(bo, group, members)  # after his demotion
    await _chunk_from(dee, group, members)  # never a moderator
    listing = cy.api.group_members

    async def says_everyone_moderates(group_id: str) -> dict[str, Any]:  # a home server lying about roles
        found = await listing(group_id)
        return {**found, "members": [{**m, "role": "moderator"} for m in found["members"]]}

    cy.api.group_members = says_everyone_moderates  # type: ignore[method-assign]
    report = await cy.sync()
    assert [u.code for u in report.unread] == ["not_member", "not_member"]
    reasons = " | ".join(u.reason for u in report.unread)
    assert "no one who was ever owner or moderator" in reasons  # Dee's
    assert "when they were not owner or moderator" in reasons  # Bo's, after his demotion
    assert GroupKeys.from_json(cy.store.keys(group)).current().number == 2  # type: ignore[union-attr]


async def test_an_epoch_key_waits_while_the_group_log_gives_no_signed_creation(server: Harness, tmp_path: Path) -> None:
    [owner, laptop, _], _, group = await trio(server, tmp_path)
    await owner.post(group, "hello")
    real = laptop.api.group_log

    async def without_creation(group_id: str) -> dict[str, Any]:  # a home server dropping (or forging) it
        found = await real(group_id)
        return {**found, "messages": [m for m in found["messages"] if m.get("id") != group_id]}

    laptop.api.group_log = without_creation  # type: ignore[method-assign]
    report = await laptop.sync()
    assert [u.code for u in report.unread] == ["group_unknown"] and "signed creation" in report.unread[0].reason
    assert laptop.store.keys(group) is None and "signed creation" in report.failed[group]  # said, not only kept
    laptop.api.group_log = real  # type: ignore[method-assign]
    report = await laptop.sync()  # tried again at the next sync: the key is taken, the post read
    assert texts(laptop, group) == ["hello"] and report.unread == []


async def test_the_sealers_device_counts_by_its_own_time_in_its_identitys_log_too() -> None:
    """The class, on the device side: a moderator's device removed since sealed a good key while it was theirs;
    one sealed after its removal, or before it was added, counts for nothing."""
    t = 1_800_000_000_000
    x = "cd" * 32
    logs = {"ab" * 32: {"identity": "ab" * 32, "devices": [
        {"key": "ef" * 32, "x25519": x, "added_at": t, "removed_at": t + 3_600_000, "disputed_at": None},
    ]}}  # fmt: skip

    async def log_of(key: str) -> dict[str, Any] | None:
        return logs.get(key)

    roles = [RoleSpan("ab" * 32, "moderator", t - 1, None)]
    await check_sealer(roles, x, t, t + 60_000, log_of)  # sealed while the device was current
    for at, arrived in ((t + 3_600_000, t + 3_600_000 + 1), (t - 3_600_000, t - 3_600_000 + 1)):
        with pytest.raises(Refused) as refused:
            await check_sealer(roles, x, at, arrived, log_of)
        assert refused.value.code == "not_member" and "when they were not owner or moderator" in refused.value.message
    with pytest.raises(Refused, match="no one who was ever"):
        await check_sealer(roles, "01" * 32, t, t + 60_000, log_of)
