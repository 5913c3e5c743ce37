"""A reader's recount counts each person once, as the server does: a person voting, signing or withdrawing from
two devices is found the same on both sides (murmur.client.recount, murmur.client.letter_check), from the identity
logs the reader resolves itself (murmur.client.group_authority.group_speakers, ``voices``). By signing keys alone
the recount would differ, so each test also shows the difference it closes."""

from __future__ import annotations

import time

from murmur.client.api import MurmurClient
from murmur.client.group_authority import group_speakers, voices
from murmur.client.letter_check import check_letter, fetch_checked, to_withdraw
from murmur.client.recount import checked_messages, recount
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import now_ms
from murmur.validate import check
from tests.dm_people import Speaker
from tests.server.conftest import Harness
from tests.server.test_polls_api import publish
from tests.server.test_private_group_devices import _as_device
from tests.server.test_sealed_api import joined, publish_events


async def two_devices(server: Harness) -> tuple[Speaker, MurmurClient, MurmurClient]:
    bo = Speaker.new()
    laptop_api = await joined(server, bo)
    phone = bo.add()
    await publish_events(laptop_api, bo)
    return bo, laptop_api, await server.member(phone.key)


async def test_a_public_poll_recounts_a_person_voting_from_two_devices_once(server: Harness) -> None:
    ann = await server.member()
    bo, laptop_api, phone_api = await two_devices(server)
    closes = int(time.time() * 1000) + 3_600_000
    poll = await publish(ann, poll_draft("Lunch?", ["noon", "one"], closes_at=closes, multiple=False, group=None))
    at = now_ms()
    await _as_device(laptop_api, bo.devices[0], bo.identity, ballot_draft(check(poll), ["1"]), at)
    await _as_device(phone_api, bo.devices[1], bo.identity, ballot_draft(check(poll), ["2"]), at + 1)
    figures = await ann.poll(poll["id"])
    assert (figures["voters"], [o["votes"] for o in figures["options"]]) == (1, [0, 1])
    signed = await ann.poll_signed(poll["id"])
    speakers = await group_speakers(ann, [], voices(checked_messages(list(signed["ballots"]))[0]))
    found = recount(signed, poll["id"], speakers).tally
    assert (found.voters, dict(found.options)) == (1, {"noon": 0, "one": 1})  # the server's figures
    assert recount(signed, poll["id"]).tally.voters == 2  # by signing keys alone: two voters


async def test_a_letter_signed_on_one_device_and_withdrawn_from_another_checks_as_the_server_counts(
    server: Harness,
) -> None:
    ann = await server.member()
    bo, laptop_api, phone_api = await two_devices(server)
    letter = await publish(ann, letter_draft("Rooms", "the board", "More rooms."))
    at = now_ms()
    await _as_device(laptop_api, bo.devices[0], bo.identity, signature_draft(check(letter), "on the laptop"), at)
    await _as_device(phone_api, bo.devices[1], bo.identity, signature_draft(check(letter), "again"), at + 1)
    assert (await ann.letter(letter["id"]))["count"] == 1
    held = await fetch_checked(ann, letter["id"])
    assert held.count.count == 1 and check_letter(await ann.letter_signed(letter["id"]), letter["id"]).count.count == 2
    both = await fetch_checked(phone_api, letter["id"])
    ids = to_withdraw(both, bo.devices[1].key.public_key)
    assert len(ids) == 2  # withdrawing from the phone takes back the laptop's signature too
    for n, signature in enumerate(ids):
        await _as_device(phone_api, bo.devices[1], bo.identity,
                         {"kind": "delete", "body": {}, "tags": [["target", signature]]}, at + 2 + n)  # fmt: skip
    assert (await ann.letter(letter["id"]))["count"] == 0
    assert (await fetch_checked(ann, letter["id"])).count.count == 0
