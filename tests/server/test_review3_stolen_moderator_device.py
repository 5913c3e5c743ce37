"""Review (issue 16): a moderator's device is stolen and its owner removes it from their identity. The thief signs
an invitation of an identity it holds, dated after the removal, and the (compromised) home server puts it in the
group's log. The device folds the log with ``check`` alone (signature and form), never asking whether the signing
device was still its identity's at the act's time, so the invitation counts: the next epoch a moderator starts is
sealed to the thief's puppet. docs/encryption.md §14 promises that a home server cannot make anyone a member
"with a message in the group's log that no owner or moderator signed", and that a device removed from its
identity is judged as removed (``device_removed``); an act signed by a removed device is signed by no moderator."""

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
from tests.server.test_private_groups import groups_of
from tests.server.test_private_groups_faults import trio
from tests.server.test_sealed_api import joined, publish_events


async def test_review3_an_invitation_signed_by_a_removed_moderator_device_counts_for_nothing(
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
