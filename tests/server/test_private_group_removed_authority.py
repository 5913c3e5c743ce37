"""Through a real home server in process: a moderator removed from a private group, or a moderator's device removed
from its identity (lost, stolen), still signs; neither act gives anyone the next epoch (docs/encryption.md §14,
§16.5; the rules are murmur.client.group_acts).

A removed moderator signs, after the removal, an invitation of an identity it holds (a sock puppet) dated before
the removal: folded by its claimed time alone it would count, and the owner's next sync would seal the next epoch
to the puppet. A stolen device removed from its identity signs an invitation the (compromised) home server puts in
the group's log: checked for its signature alone it would count. Each is judged at the later of its signed time
and its arrival, against its author's role and its device's place in its identity's log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from murmur.client.devices import device_envelope, publish_as_device
from murmur.client.group_authority import signed_state
from murmur.client.group_checks import member_roles
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import complete_draft, now_ms, sign_envelope
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_arrival_bound import board
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_private_groups_faults import pair, trio
from tests.server.test_sealed_api import joined, publish_events


async def test_a_removed_moderators_backdated_invitation_gives_no_one_the_next_epoch(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    # Bo's device is appointed moderator (the role is his identity's), then Bo is removed
    made = await publish_as_device(laptop.api, laptop.device,
                                   about_person_draft("group_mod", group, bog.device.public_key))  # fmt: skip
    assert made["status"] == "stored"
    before = now_ms()
    await laptop.remove(group, bog.me)  # Bo is no moderator, no member, from now on
    roles = (await signed_state(laptop.api, group, laptop.store)).roles
    assert [r.end is not None for r in roles if r.key in (bog.me, bog.device.public_key)] == [True]
    puppet = Speaker.new()
    puppet_groups = groups_of(puppet.devices[0], await joined(server, puppet), puppet.identity, tmp_path / "puppet")
    draft = complete_draft(about_person_draft("group_approve", group, puppet.identity), bog.device.public_key,
                           created_at=before - 1)  # fmt: skip
    backdated = sign_envelope(bog.device, device_envelope(draft, bog.me, None))
    assert (await bog.api.publish(backdated))["status"] == "stored"  # the server takes any signed message
    await laptop.sync()  # the owner's device folds the group again
    assert puppet.identity not in member_roles(await signed_state(laptop.api, group, laptop.store))
    await laptop.post(group, "canary-r3b after Bo was removed")
    await puppet_groups.sync()
    assert "canary-r3b after Bo was removed" not in texts(puppet_groups, group)


async def test_an_invitation_signed_by_a_moderator_device_removed_from_its_identity_counts_for_nothing(
    server: Harness, tmp_path: Path
) -> None:
    (owner, laptop, _), bo, group = await trio(server, tmp_path)
    phone_device = bo.add()
    await publish_events(laptop.api, bo)
    phone = groups_of(phone_device, laptop.api, bo.identity, tmp_path / "phone")
    made = await publish_as_device(owner.api, owner.device,
                                   about_person_draft("group_mod", group, phone_device.key.public_key))  # fmt: skip
    assert made["status"] == "stored"
    bo.remove(phone_device)  # the phone is stolen: Bo removes it from his identity
    await publish_events(laptop.api, bo)
    puppet = Speaker.new()
    await joined(server, puppet)
    draft = complete_draft(about_person_draft("group_approve", group, puppet.identity), phone.device.public_key,
                           created_at=now_ms())  # fmt: skip
    forged = sign_envelope(phone.device, device_envelope(draft, bo.identity, None))
    real = owner.api.group_log

    async def lying_log(group_id: str) -> dict[str, Any]:
        found = await real(group_id)
        return {**found, "messages": [*found["messages"], forged]}

    owner.api.group_log = lying_log  # type: ignore[method-assign]
    assert puppet.identity not in member_roles(await signed_state(owner.api, group, owner.store))


async def test_group_remove_removes_a_moderator_under_every_key_they_are_a_member_under(
    server: Harness, tmp_path: Path
) -> None:
    """Bo was invited by his identity and made moderator by his device's key: a member under both. `remove` by
    his identity removes both, so his role ends on every device, whichever key the fold lists first."""
    for n in range(3):  # the order of the two keys is the keys' own: several groups, several orders
        laptop, bog, _, group = await board(server, tmp_path / str(n))
        mod = about_person_draft("group_mod", group, bog.device.public_key)
        assert (await publish_as_device(laptop.api, laptop.device, mod))["status"] == "stored"
        await laptop.remove(group, bog.me)
        state = await signed_state(laptop.api, group, laptop.store)
        assert not {bog.me, bog.device.public_key} & member_roles(state).keys()
        assert all(r.end is not None for r in state.roles if r.key == bog.device.public_key)
