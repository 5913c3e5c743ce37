"""Review 4 (issue 16), through a real home server in process: an attack on private groups that still works,
proven by a test that fails until it is fixed (finding 1: the arrival bound of group authority acts, in
murmur.client.group_acts; the other findings' tests moved to files named for what they hold)."""

from __future__ import annotations

from pathlib import Path

from murmur.client.devices import device_envelope, publish_as_device
from murmur.client.group_authority import signed_state
from murmur.client.group_checks import member_roles
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import complete_draft, now_ms, sign_envelope
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_arrival_bound import board
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


async def test_a_removed_moderators_backdated_invitation_counts_on_a_moderator_that_was_offline(
    server: Harness, tmp_path: Path
) -> None:
    """Ada removes Bo, a moderator; Cy, another moderator, last synced before that (not her first sync). Bo at once
    signs an invitation of his puppet dated before his removal. Cy's next fetch holds the removal and the
    invitation together, so her device has no bound on the invitation's arrival and counts it by its claimed time:
    her sync seals the next epoch to the puppet, who reads what Cy writes. (A hostile home server can arrange the
    same for every device but the remover's by holding the removal back until the invitation exists.)"""
    laptop, bog, cyg, group = await board(server, tmp_path)
    for who in (bog, cyg):
        made = await publish_as_device(laptop.api, laptop.device,
                                       about_person_draft("group_mod", group, who.device.public_key))  # fmt: skip
        assert made["status"] == "stored"
    await bog.sync()
    await cyg.sync()  # Cy's device has folded the group: Bo and Cy moderators
    before = now_ms()
    await laptop.remove(group, bog.me)
    puppet = Speaker.new()
    puppet_groups = groups_of(puppet.devices[0], await joined(server, puppet), puppet.identity, tmp_path / "pup")
    draft = complete_draft(about_person_draft("group_approve", group, puppet.identity), bog.device.public_key,
                           created_at=before - 1)  # fmt: skip
    backdated = sign_envelope(bog.device, device_envelope(draft, bog.me, None))
    assert (await bog.api.publish(backdated))["status"] == "stored"
    await cyg.sync()  # the removal and the backdated invitation, first held in one fetch
    await cyg.post(group, "canary-r4mod written by Cy")
    await puppet_groups.sync()
    assert "canary-r4mod written by Cy" not in texts(puppet_groups, group)
    assert puppet.identity not in member_roles(await signed_state(cyg.api, group, cyg.store))
