"""Through a real home server in process: a member of a private group leaves from a second device of theirs. A place
is the person's (docs/protocol.md §11), so the owner's device folds the leave as the identity's, as the server does,
and its next epoch is sealed without any of the member's devices (murmur.client.group_authority.speakers_for)."""

from __future__ import annotations

from pathlib import Path

from murmur.client.group_authority import signed_state
from murmur.client.group_checks import member_roles
from murmur.group_chains import GroupKeys
from murmur.kinds.group_drafts import membership_draft
from murmur.message import now_ms
from tests.server.conftest import Harness
from tests.server.test_private_group_devices import _as_device
from tests.server.test_private_groups_faults import trio
from tests.server.test_sealed_api import publish_events


async def test_a_member_leaving_from_another_device_is_out_of_the_next_epoch(server: Harness, tmp_path: Path) -> None:
    (owner, laptop, _), bo, group = await trio(server, tmp_path)
    phone = bo.add()
    await publish_events(laptop.api, bo)
    await owner.sync()  # an epoch for Bo's phone too
    assert bo.identity in member_roles(await signed_state(owner.api, group, owner.store))
    before = GroupKeys.from_json(owner.store.keys(group)).current()
    assert before is not None
    await _as_device(await server.member(phone.key), phone, bo.identity, membership_draft("group_leave", group),
                     now_ms())  # fmt: skip
    change = await owner.sync()  # the leave is Bo's: a new epoch, for Ada's and Cy's devices alone
    assert bo.identity not in member_roles(await signed_state(owner.api, group, owner.store)), change
    after = GroupKeys.from_json(owner.store.keys(group)).current()
    assert after is not None and after.number == before.number + 1
