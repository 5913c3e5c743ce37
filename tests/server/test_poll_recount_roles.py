"""A group poll's recount folds the group's members with the roles servers use: a moderator appointed by identity
approves from a second device, the server counts the member's ballot, and so does the recount on the reader's
device (murmur.client.group_authority.group_speakers), from the identity's log as it resolves it."""

from __future__ import annotations

import time

from murmur.client.group_authority import group_speakers
from murmur.client.recount import checked_messages, recount
from murmur.kinds.group_drafts import about_person_draft, create_draft, membership_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import now_ms
from murmur.validate import check
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_polls_api import publish
from tests.server.test_private_group_devices import _as_device
from tests.server.test_sealed_api import joined, publish_events


async def test_a_members_ballot_approved_from_a_moderators_second_device_is_recounted(server: Harness) -> None:
    ann, cat = await server.member(), await server.member()
    bo = Speaker.new()
    bo_api = await joined(server, bo)
    phone = bo.add()
    await publish_events(bo_api, bo)
    phone_api = await server.member(phone.key)
    group = await publish(ann, create_draft("Lunch club", approval=True))
    await publish(ann, about_person_draft("group_mod", group["id"], bo.identity))
    await publish(cat, membership_draft("group_join", group["id"]))
    at = now_ms()
    await _as_device(phone_api, phone, bo.identity, about_person_draft("group_approve", group["id"],
                                                                       cat.identity.public_key), at)  # fmt: skip
    closes = int(time.time() * 1000) + 3_600_000
    poll = await publish(ann, poll_draft("Lunch?", ["noon", "one"], closes_at=closes, multiple=False,
                                         group=group["id"]))  # fmt: skip
    await publish(cat, ballot_draft(check(poll), ["1"]))
    figures = await cat.poll(poll["id"])
    assert figures["voters"] == 1  # the server counts Cat: approved by Bo's moderator role, from his phone
    signed = await cat.poll_signed(poll["id"])
    speakers = await group_speakers(cat, checked_messages(list(signed["group"]))[0])
    assert recount(signed, poll["id"], speakers).tally.voters == 1  # and so does the recount
    assert recount(signed, poll["id"]).tally.voters == 0  # by signing keys alone, the phone held no role


async def test_a_ballot_from_another_device_of_a_member_is_counted_and_recounted(server: Harness) -> None:
    """A place in the group is the person's: Bo joined from his laptop and votes from his phone; the server counts
    him, and the recount, looking up the logs of those with a place and of the voters, counts him too."""
    ann = await server.member()
    bo = Speaker.new()
    bo_api = await joined(server, bo)
    phone = bo.add()
    await publish_events(bo_api, bo)
    phone_api = await server.member(phone.key)
    group = await publish(ann, create_draft("Open club"))
    await _as_device(bo_api, bo.devices[0], bo.identity, membership_draft("group_join", group["id"]), now_ms())
    closes = int(time.time() * 1000) + 3_600_000
    poll = await publish(ann, poll_draft("Lunch?", ["noon", "one"], closes_at=closes, multiple=False,
                                         group=group["id"]))  # fmt: skip
    await _as_device(phone_api, phone, bo.identity, ballot_draft(check(poll), ["2"]), now_ms() + 1)
    assert (await ann.poll(poll["id"]))["voters"] == 1
    signed = await ann.poll_signed(poll["id"])
    ballots = checked_messages(list(signed["ballots"]))[0]
    speakers = await group_speakers(ann, checked_messages(list(signed["group"]))[0], [b.author for b in ballots])
    assert recount(signed, poll["id"], speakers).tally.voters == 1
    assert recount(signed, poll["id"]).tally.voters == 0  # by signing keys alone, the phone was never a member
