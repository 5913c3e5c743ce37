"""Doubtful acts on a device that held the group before, through a real home server in process (docs/encryption.md
§16.5, "Doubtful acts"; murmur.client.group_acts.unbounded): an act of a moderator whose role has since ended,
first held by the device in the same fetch as the act ending that role, has no arrival bound past that end, so
the device cannot tell it from one dated back. It seals no epoch to the act's subject until an epoch witnesses it.

The attack: Ada removes moderator Bo; Bo at once signs an invitation of his puppet dated before his removal. Cy,
another moderator who synced the group before, gets the removal and the invitation in one fetch (she was offline,
or her home server held the removal back until the invitation existed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.client.devices import device_envelope, publish_as_device
from murmur.client.group_acts import ACT_UNWITNESSED
from murmur.client.private_groups import PrivateGroups
from murmur.errors import Refused
from murmur.kinds.group_drafts import about_person_draft
from murmur.message import complete_draft, now_ms, sign_envelope
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_arrival_bound import board
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_sealed_api import joined


async def doubted(server: Harness, tmp_path: Path) -> tuple[PrivateGroups, PrivateGroups, PrivateGroups, str]:
    """The attack above, played to the point where Cy's device holds the removal and the backdated invitation of
    the puppet from one fetch, and is refused a post: Ada's laptop, Cy's device, the puppet's, the group."""
    laptop, bog, cyg, group = await board(server, tmp_path)
    for who in (bog, cyg):
        made = await publish_as_device(laptop.api, laptop.device,
                                       about_person_draft("group_mod", group, who.device.public_key))  # fmt: skip
        assert made["status"] == "stored"
    await bog.sync()
    await cyg.sync()  # Cy's device has folded the group: Bo and Cy moderators (not a first sight)
    before = now_ms()
    await laptop.remove(group, bog.me)
    puppet = Speaker.new()
    puppet_groups = groups_of(puppet.devices[0], await joined(server, puppet), puppet.identity, tmp_path / "pup")
    draft = complete_draft(about_person_draft("group_approve", group, puppet.identity), bog.device.public_key,
                           created_at=before - 1)  # fmt: skip
    backdated = sign_envelope(bog.device, device_envelope(draft, bog.me, None))
    assert (await bog.api.publish(backdated))["status"] == "stored"
    await cyg.sync()  # the removal and the backdated invitation, first held in one fetch
    assert [why for why in cyg.skipped.values() if "cannot tell whether they came before that end" in why]
    with pytest.raises(Refused) as refused:  # told why, nothing sent
        await cyg.post(group, "canary-doubt written by Cy")
    assert refused.value.code == ACT_UNWITNESSED
    assert refused.value.message.startswith("Nothing was sent")
    return laptop, cyg, puppet_groups, group


async def test_a_removed_moderators_backdated_invitation_seals_nothing_to_the_puppet_on_a_device_offline_meanwhile(
    server: Harness, tmp_path: Path
) -> None:
    _, _, puppet_groups, group = await doubted(server, tmp_path)
    await puppet_groups.sync()
    assert "canary-doubt written by Cy" not in texts(puppet_groups, group)


async def test_a_later_epoch_by_another_sealer_settles_the_doubtful_act_cy_posts_again_and_the_puppet_still_cannot_read(
    server: Harness, tmp_path: Path
) -> None:
    """The cost of the rule above, and its end: Cy cannot post until an epoch sealed after Bo's removal, by a
    sealer in force, witnesses whether the invitation counted. Ada's device held the removal before the
    invitation (it made it), so it counts the invitation for nothing; her next epoch (she invites Dee) leaves the
    puppet out, Cy's device takes that as the witness and posts again, and the puppet reads nothing of it. The epoch
    is sealed within minutes of the removal, so its coarse time is before it: the set it matched (the group's after
    Dee's invitation, itself after the removal) is what shows it was sealed after the end."""
    laptop, cyg, puppet_groups, group = await doubted(server, tmp_path)
    dee = Speaker.new()
    dee_groups = groups_of(dee.devices[0], await joined(server, dee), dee.identity, tmp_path / "dee")
    await laptop.sync()  # the invitation came after the removal Ada's device made: late, it counts for nothing
    await laptop.invite(group, [dee_groups.me])
    await laptop.post(group, "welcome, Dee")  # sealed in the epoch that leaves the puppet out
    await cyg.sync()
    await cyg.post(group, "canary-settled written by Cy")
    await dee_groups.sync()
    assert {"welcome, Dee", "canary-settled written by Cy"} <= set(texts(dee_groups, group))
    await puppet_groups.sync()
    assert not {"welcome, Dee", "canary-settled written by Cy"} & set(texts(puppet_groups, group))
