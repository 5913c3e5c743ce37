"""Through a real home server in process: a member the next epoch cannot be sealed to is never left out quietly
(docs/encryption.md §14, §16.5). One whose devices this device pinned from signed key events is not dropped on
its server's word ("a bare key", "not found"): the epoch waits, saying why, and is made once the member's log
resolves again. Any other member left out (a bare key, no current device) is named in ``skipped``, with why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError
from murmur.client.devices import publish_as_device
from murmur.client.private_groups import PrivateGroups
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft
from murmur.private_group import open_chunk
from murmur.validate import check
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_private_group_trust import _recording
from tests.server.test_private_groups import groups_of, texts
from tests.server.test_private_groups_faults import pair
from tests.server.test_sealed_api import joined


def lying_about(groups: PrivateGroups, who: str, answer: str) -> None:
    """Make the device's home server answer ``who``'s identity with ``answer`` ("bare" or "not_found")."""
    real = groups.api.identity_events

    async def lying(name: str) -> dict[str, Any]:
        if name != who:
            return await real(name)
        if answer == "bare":
            return {"identity": name, "bare": True, "events": []}
        raise ApiError(404, "not_found", "No identity or key of that name here.")

    groups.api.identity_events = lying  # type: ignore[method-assign]


def opens_for(sent: list[dict[str, Any]], member: PrivateGroups) -> bool:
    """Whether an epoch chunk among ``sent`` opens on ``member``'s device."""
    opened = False
    for message in sent:
        if "envelope" in message["body"]:
            try:
                opened |= open_chunk(check(message), member.talks.x25519) is not None
            except Refused:
                continue
    return opened


async def test_a_member_called_bare_by_the_server_is_not_silently_left_out_of_the_next_epoch(
    server: Harness, tmp_path: Path
) -> None:
    laptop, bog, group = await pair(server, tmp_path)  # Ada's device has pinned Bo's devices
    cy = Speaker.new()
    await joined(server, cy)
    lying_about(laptop, bog.me, "bare")
    sent = _recording(laptop)
    try:
        await laptop.invite(group, [cy.identity])
    except Refused:
        return  # refusing the change is an answer too
    assert opens_for(sent, bog) or laptop.skipped, "Bo was left out of the epoch, and nothing said so"


@pytest.mark.parametrize("answer", ["bare", "not_found"])
async def test_a_pinned_member_the_server_disowns_stops_the_epoch_until_their_log_resolves(
    server: Harness, tmp_path: Path, answer: str
) -> None:
    laptop, bog, group = await pair(server, tmp_path)
    cy = Speaker.new()
    cy_api = await joined(server, cy)
    real = laptop.api.identity_events
    lying_about(laptop, bog.me, answer)
    sent = _recording(laptop)
    with pytest.raises(Refused) as refused:
        await laptop.invite(group, [cy.identity])
    assert refused.value.code == "identity_unverified"
    assert "published" in refused.value.message and "pinned" in refused.value.message
    assert not any("envelope" in m["body"] for m in sent), "no epoch is sealed without Bo"
    with pytest.raises(Refused) as post_refused:  # nothing is written in an epoch Bo would be shut out of
        await laptop.post(group, "canary-u1 while Bo is disowned")
    assert post_refused.value.code == "identity_unverified"
    report = await laptop.sync()  # a sync reads on, and says who waits
    assert "pinned" in report.skipped[bog.me] and "No new epoch" in report.skipped[group]
    laptop.api.identity_events = real  # type: ignore[method-assign]
    await laptop.sync()  # the invitation's epoch is made now, for Bo's devices and Cy's
    assert opens_for(sent, bog)
    await laptop.post(group, "canary-u2 for everyone")
    cy_groups = groups_of(cy.devices[0], cy_api, cy.identity, tmp_path / "cy")
    await bog.sync()
    await cy_groups.sync()
    assert texts(bog, group)[-1] == texts(cy_groups, group)[-1] == "canary-u2 for everyone"


async def test_a_member_nothing_can_be_sealed_to_is_named_in_skipped(server: Harness, tmp_path: Path) -> None:
    laptop, _, group = await pair(server, tmp_path)
    bare = Identity.from_seed(bytes([77]) * 32)  # a bare key a moderator's own client approved: no log, no devices
    approved = await publish_as_device(laptop.api, laptop.device,
                                       about_person_draft("group_approve", group, bare.public_key))  # fmt: skip
    assert approved["status"] == "stored"
    cy = Speaker.new()
    await joined(server, cy)
    change = await laptop.invite(group, [cy.identity])
    assert "left out" in change.skipped[bare.public_key]
    assert change.devices == 3  # Ada's, Bo's and Cy's devices: the bare key left out, and said


async def test_a_member_left_out_is_not_said_again_once_removed(server: Harness, tmp_path: Path) -> None:
    """``skipped`` is each command's own: a long-lived instance (the TUI's) says a member left out only while they
    are; once the bare key is removed, the next sync leaves no one out."""
    laptop, _, group = await pair(server, tmp_path)
    bare = Identity.from_seed(bytes([78]) * 32)
    approved = await publish_as_device(laptop.api, laptop.device,
                                       about_person_draft("group_approve", group, bare.public_key))  # fmt: skip
    assert approved["status"] == "stored"
    assert bare.public_key in (await laptop.sync()).skipped
    removed = await publish_as_device(laptop.api, laptop.device,
                                      about_person_draft("group_remove", group, bare.public_key))  # fmt: skip
    assert removed["status"] == "stored"
    report = await laptop.sync()
    assert report.skipped == {} and laptop.skipped == {}
