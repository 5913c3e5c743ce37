"""A device's first sight of a private group, through a real home server in process (docs/encryption.md §16.5,
"Doubtful acts"; murmur.client.group_witness): a device folding the group's log for the first time holds
no earlier fetch to bound arrivals by, so it cannot tell a removed moderator's act dated back into its role from
one that came in time. It seals no epoch on such an act until an epoch sealed by a device whose role was in force
witnesses how that device counted it; an honest history reads and seals the same whenever the device first came.

The attack: Bo, a moderator, is removed; he then signs an invitation of his puppet dated before the removal. The
owner's laptop held the removal first and leaves the invitation out; the owner's phone, syncing the group for the
first time, must not seal the next epoch to the puppet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client import group_epochs
from murmur.client.devices import device_envelope, publish_as_device
from murmur.client.group_checks import member_roles
from murmur.client.private_groups import PrivateGroups
from murmur.errors import Refused
from murmur.kinds.group_drafts import about_person_draft
from murmur.kinds.sealed import COARSE_MS
from murmur.message import complete_draft, now_ms, sign_envelope
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


async def person(server: Harness, tmp_path: Path, name: str, speaker: Speaker | None = None) -> PrivateGroups:
    speaker = speaker or Speaker.new()
    return groups_of(speaker.devices[0], await joined(server, speaker), speaker.identity, tmp_path / name)


async def owner_with_phone(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups]:
    """Ada's laptop and phone, both her identity's devices before the group is made; the phone never synced."""
    ada = Speaker.new()
    phone_device = ada.add()
    laptop = await person(server, tmp_path, "laptop", ada)
    phone = groups_of(phone_device, await server.member(phone_device.key), ada.identity, tmp_path / "phone")
    return laptop, phone


async def appoint(laptop: PrivateGroups, group: str, who: PrivateGroups) -> None:
    made = await publish_as_device(laptop.api, laptop.device,
                                   about_person_draft("group_mod", group, who.device.public_key))  # fmt: skip
    assert made["status"] == "stored"
    await laptop.sync()


async def remove_moderator(laptop: PrivateGroups, group: str, who: PrivateGroups) -> None:
    """The owner removes ``who`` (a moderator) from the group: their role and membership end (``remove`` removes
    every key they are a member under)."""
    await laptop.remove(group, who.me)


async def later_epoch(
    laptop: PrivateGroups, group: str, invited: PrivateGroups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The laptop invites ``invited``, the epoch it starts sealed in the next coarse window (a later sync): sealed
    after every act so far, as a change made some minutes later is."""
    later = now_ms() + COARSE_MS
    monkeypatch.setattr(group_epochs, "now_ms", lambda: later)
    await laptop.invite(group, [invited.me])
    monkeypatch.undo()


async def test_a_new_owner_device_seals_no_epoch_to_a_removed_moderators_backdated_puppet(
    server: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop, phone = await owner_with_phone(server, tmp_path)
    bog, puppet, cy = [await person(server, tmp_path, n) for n in ("bo", "puppet", "cy")]
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await appoint(laptop, group, bog)
    before = now_ms()
    await remove_moderator(laptop, group, bog)
    invitation = backdated(bog, "group_approve", group, puppet.me, before - 1)
    assert (await bog.api.publish(invitation))["status"] == "stored"
    await laptop.sync()  # the laptop held the removal first: the invitation counts for nothing there
    assert puppet.me not in member_roles(await laptop._state(group))

    report = await phone.sync()  # the phone's first sight of the group: every act at once
    await puppet.sync()
    assert puppet.store.keys(group) is None  # no epoch was sealed to the puppet
    assert "cannot tell whether they came before that end" in report.skipped[group]
    with pytest.raises(Refused) as waits:  # nor is one now, for a post
        await phone.post(group, "canary-fs1 from the phone")
    assert waits.value.code == "act_unwitnessed" and waits.value.message.startswith("Nothing was sent")
    await puppet.sync()
    assert puppet.store.keys(group) is None and texts(puppet, group) == []

    await later_epoch(laptop, group, cy, monkeypatch)  # an epoch sealed after the removal witnesses the invitation
    await phone.sync()
    assert puppet.me not in member_roles(await phone._state(group))
    await phone.post(group, "canary-fs2 from the phone")
    for reader in (puppet, cy, laptop):
        await reader.sync()
    assert texts(puppet, group) == [] and "canary-fs2 from the phone" in texts(cy, group)
    assert "canary-fs2 from the phone" in texts(laptop, group)


@pytest.mark.parametrize("first_sync", ["before_the_appointment", "after_the_invitation", "after_the_removal"])
async def test_an_honest_history_reads_and_seals_the_same_whenever_the_new_device_first_syncs(
    server: Harness, tmp_path: Path, first_sync: str
) -> None:
    """Bo, a moderator, invites Ann, then the owner removes Bo: Ann stays a member on every device, whether the
    phone first held the log before the appointment, between the invitation and the removal, or after both (the
    invitation then one it cannot bound, witnessed by the epochs); and the phone seals the next epoch to her."""
    laptop, phone = await owner_with_phone(server, tmp_path)
    bog, ann, cy = [await person(server, tmp_path, n) for n in ("bo", "ann", "cy")]
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await bog.sync()
    if first_sync == "before_the_appointment":
        await phone.sync()
    await appoint(laptop, group, bog)
    await bog.sync()
    await bog.invite(group, [ann.me])
    if first_sync == "after_the_invitation":
        await phone.sync()
    await laptop.sync()
    await remove_moderator(laptop, group, bog)
    report = await phone.sync()
    assert group not in report.failed and group not in report.skipped
    for device in (laptop, phone):
        members = member_roles(await device._state(group))
        assert ann.me in members and bog.me not in members
    await phone.invite(group, [cy.me])  # the phone seals the next epoch: Ann is in it
    await phone.post(group, "canary-fs3 from the phone")
    for reader in (ann, cy, bog):
        await reader.sync()
    assert "canary-fs3 from the phone" in texts(ann, group) and "canary-fs3 from the phone" in texts(cy, group)
    assert "canary-fs3 from the phone" not in texts(bog, group)


def backdated(moderator: PrivateGroups, kind: str, group: str, subject: str, at: int) -> dict[str, object]:
    """``moderator``'s act about ``subject``, signed now and dated ``at``."""
    draft = complete_draft(about_person_draft(kind, group, subject), moderator.device.public_key, created_at=at)
    return sign_envelope(moderator.device, device_envelope(draft, moderator.me, None))


async def test_many_backdated_acts_beside_an_honest_one_are_told_apart_by_a_later_epoch(
    server: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bo invited Ann while a moderator; once removed, he dates back two puppets' invitations and Ann's removal.
    The phone, seeing it all at once, takes the later epoch's key by the one way of counting them that gives its
    member set: Ann in, the puppets out; then it seals to Ann and to no puppet."""
    laptop, phone = await owner_with_phone(server, tmp_path)
    bog, ann, cy, dee, one, two = [await person(server, tmp_path, n) for n in ("bo", "ann", "cy", "dee", "p1", "p2")]
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await bog.sync()
    await appoint(laptop, group, bog)
    await bog.sync()
    await bog.invite(group, [ann.me])
    await laptop.sync()
    before = now_ms()
    await remove_moderator(laptop, group, bog)
    for act in (backdated(bog, "group_approve", group, one.me, before - 3),
                backdated(bog, "group_approve", group, two.me, before - 2),
                backdated(bog, "group_remove", group, ann.me, before - 1)):  # fmt: skip
        assert (await bog.api.publish(act))["status"] == "stored"
    await laptop.sync()
    await later_epoch(laptop, group, cy, monkeypatch)
    await phone.sync()
    members = member_roles(await phone._state(group))
    assert ann.me in members and cy.me in members and not {one.me, two.me} & set(members)
    await phone.invite(group, [dee.me])
    await phone.post(group, "canary-fs4 from the phone")
    for reader in (ann, one, two):
        await reader.sync()
    assert "canary-fs4 from the phone" in texts(ann, group)
    assert texts(one, group) == [] and texts(two, group) == []


async def test_a_server_withholding_the_epochs_that_witness_an_honest_act_gets_no_one_dropped(
    server: Harness, tmp_path: Path
) -> None:
    """Bo invited Ann while a moderator, then was removed; the phone's server shows it the group's whole log but
    withholds every epoch made since the invitation. Ann's invitation is unwitnessed there: the phone reads Ann as a
    member and seals no epoch at all (one without her would shut an honest member out)."""
    laptop, phone = await owner_with_phone(server, tmp_path)
    bog, ann, cy = [await person(server, tmp_path, n) for n in ("bo", "ann", "cy")]
    group = await laptop.create("board")
    await laptop.invite(group, [bog.me])
    await bog.sync()
    await appoint(laptop, group, bog)
    await bog.sync()
    early = max(int(i["seq"]) for i in (await phone.api.sealed(0))["sealed"])
    await bog.invite(group, [ann.me])
    await laptop.sync()
    await remove_moderator(laptop, group, bog)
    real = phone.api.sealed

    async def withholding(after: int = 0, **kw: Any) -> dict[str, Any]:
        page = await real(after, **kw)
        if kw.get("group") is not None:
            return page
        kept = [i for i in page["sealed"] if int(i["seq"]) <= early]
        return {"sealed": kept, "next_cursor": max([after, *(int(i["seq"]) for i in kept)]), "more": False}

    phone.api.sealed = withholding  # type: ignore[method-assign]
    report = await phone.sync()
    assert ann.me in member_roles(await phone._state(group))
    assert "cannot tell whether they came before that end" in report.skipped[group]
    with pytest.raises(Refused) as waits:
        await phone.invite(group, [cy.me])
    assert waits.value.code == "act_unwitnessed"
    assert phone.store.witnessed(group) == {}
