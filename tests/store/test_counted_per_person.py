"""A poll's voters and a letter's signers are people: an identity that votes or signs from two of its devices counts
once, its latest ballot or signature by ``(created_at, id)``, as a place in a group is a person's (docs/protocol.md
§"A place is a person's too"). Counted by device key, a member of a group adds devices to their log and casts one
ballot from each: the "fresh keys cannot stuff a group's poll" guarantee is gone, since each device of a member is
that member."""

from __future__ import annotations

from typing import Any

import pytest
from store_people import Person

from murmur.keys import Identity
from murmur.kinds import letter as letters
from murmur.kinds import meetup as meetups
from murmur.kinds import poll as polls
from murmur.kinds.group_drafts import create_draft, membership_draft
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.meetup import meetup_body, meetup_draft, rsvp_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import sign_draft
from murmur.store import Store
from murmur.validate import check
from tests.identity_logs import LAPTOP, PHONE, STRANGER, T0, Log

OWNER = STRANGER
LATER = T0 + 10**9
PER_DEVICE = "counted() and count() key the latest ballot/signature by the signing device's key, not by its person"


def speaking(device: Identity, log: Log, draft: dict[str, Any], at: int) -> dict[str, Any]:
    return sign_draft(device, {**draft, "tags": [*draft["tags"], ["identity", log.identity]]}, created_at=at)


@pytest.mark.xfail(strict=True, reason=PER_DEVICE)
async def test_a_member_voting_from_two_devices_is_one_voter(store: Store) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    group = sign_draft(OWNER, create_draft("Stewards"), created_at=T0 - 1000)
    g = group["id"]
    poll = sign_draft(OWNER, poll_draft("Strike?", ["yes", "no"], closes_at=LATER, multiple=False, group=g),
                      created_at=T0 - 500)  # fmt: skip
    join = speaking(LAPTOP, log, membership_draft("group_join", g), log.at + 1)
    yes = speaking(LAPTOP, log, ballot_draft(check(poll, verify=False), ["yes"]), log.at + 2)
    no = speaking(PHONE, log, ballot_draft(check(poll, verify=False), ["no"]), log.at + 3)
    for batch in ([group, poll], log.events, [join], [yes, no]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    results = await polls.results(store, poll["id"])
    assert results is not None
    assert results.tally.voters == 1  # the member, whose latest ballot (from the phone) says "no"
    assert dict(results.tally.options) == {"yes": 0, "no": 1}


@pytest.mark.xfail(strict=True, reason=PER_DEVICE)
async def test_a_person_signing_from_two_devices_is_one_signer(store: Store) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    letter = sign_draft(OWNER, letter_draft("Four-day week", "the board", "Please.", deadline=LATER),
                        created_at=T0 - 500)  # fmt: skip
    on_laptop = speaking(LAPTOP, log, signature_draft(check(letter, verify=False)), log.at + 1)
    on_phone = speaking(PHONE, log, signature_draft(check(letter, verify=False), note="again"), log.at + 2)
    for batch in ([letter], log.events, [on_laptop, on_phone]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    standing = await letters.standing(store, letter["id"])
    assert standing is not None
    assert standing.count.count == 1


@pytest.mark.xfail(strict=True, reason=PER_DEVICE)
async def test_a_person_going_from_two_devices_takes_one_place(store: Store, ben: Person) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    body = meetup_body("Picnic", start=LATER, end=LATER + 3_600_000, tz="UTC", capacity=2)
    meetup = sign_draft(OWNER, meetup_draft(body), created_at=T0 - 500)
    going = rsvp_draft(meetup["id"], OWNER.public_key, "going")
    on_laptop = speaking(LAPTOP, log, going, log.at + 1)
    on_phone = speaking(PHONE, log, going, log.at + 2)
    for batch in (
        [meetup],
        log.events,
        [on_laptop, on_phone],
        [ben.sign("rsvp", going["body"], going["tags"], log.at + 3)],
    ):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    found = await meetups.held(store, meetup["id"])
    assert found is not None
    assert ben.key in found.answers.going  # two places, two people: nobody waits
