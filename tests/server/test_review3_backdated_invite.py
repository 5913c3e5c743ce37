"""Review (issue 16): a moderator removed from a private group signs, after the removal, an invitation of an
identity it holds (a sock puppet) dated before the removal. The device folds the group's signed log by the times
the messages claim (``murmur.kinds.group_fold.order``), so the invitation counts as made while its author was a
moderator; the owner's next sync then seals the next epoch to the puppet's devices and the removed moderator reads
everything written after its removal. docs/encryption.md judges epoch chunks and group messages at the later of
their claimed time and their arrival exactly so that a removed holder cannot date an act back (§16.3, §16.5); a
membership act needs the same rule, or a removal does not shut anyone out."""

from __future__ import annotations

from pathlib import Path

from murmur.client.devices import device_envelope, publish_as_device
from murmur.client.group_authority import signed_state
from murmur.client.group_checks import member_roles
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import complete_draft, now_ms, sign_envelope
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined


async def test_review3_a_removed_moderators_backdated_invitation_gives_no_one_the_next_epoch(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    # Bo's device is appointed moderator (acts are folded by their signing key), then removed with Bo
    made = await publish_as_device(laptop.api, laptop.device,
                                   about_person_draft("group_mod", group, bog.device.public_key))  # fmt: skip
    assert made["status"] == "stored"
    before = now_ms()
    removed = await publish_as_device(laptop.api, laptop.device,
                                      about_person_draft("group_remove", group, bog.device.public_key))  # fmt: skip
    assert removed["status"] == "stored"
    await laptop.remove(group, bog.me)  # Bo is no moderator, no member, from now on
    roles = (await signed_state(laptop.api, group, laptop.store)).roles
    assert [r.end is not None for r in roles if r.key == bog.device.public_key] == [True]
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
