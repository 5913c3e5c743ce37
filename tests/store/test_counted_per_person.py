"""A poll's voters and a letter's signers are people: an identity that votes or signs from two of its devices counts
once, its latest ballot or signature by ``(created_at, id)``, as a place in a group is a person's (docs/protocol.md
§"A place is a person's too"). Counted by device key, a member of a group adds devices to their log and casts one
ballot from each: the "fresh keys cannot stuff a group's poll" guarantee is gone, since each device of a member is
that member."""

from __future__ import annotations

from typing import Any

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
from murmur.store.timelines import author
from murmur.validate import check
from tests.identity_logs import LAPTOP, PHONE, STRANGER, T0, Log

OWNER = STRANGER
LATER = T0 + 10**9


def speaking(device: Identity, log: Log, draft: dict[str, Any], at: int) -> dict[str, Any]:
    return sign_draft(device, {**draft, "tags": [*draft["tags"], ["identity", log.identity]]}, created_at=at)


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


def two_devices_and_a_letter() -> tuple[Log, dict[str, Any]]:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    letter = sign_draft(OWNER, letter_draft("Four-day week", "the board", "Please.", deadline=LATER),
                        created_at=T0 - 500)  # fmt: skip
    return log, letter


async def test_a_person_signing_from_two_devices_is_one_signer(store: Store) -> None:
    log, letter = two_devices_and_a_letter()
    on_laptop = speaking(LAPTOP, log, signature_draft(check(letter, verify=False)), log.at + 1)
    on_phone = speaking(PHONE, log, signature_draft(check(letter, verify=False), note="again"), log.at + 2)
    for batch in ([letter], log.events, [on_laptop, on_phone]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    standing = await letters.standing(store, letter["id"])
    assert standing is not None
    assert standing.count.count == 1


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


async def test_a_withdrawal_from_another_device_takes_back_the_persons_signature(store: Store) -> None:
    log, letter = two_devices_and_a_letter()
    on_laptop = speaking(LAPTOP, log, signature_draft(check(letter, verify=False)), log.at + 1)
    withdrawn = speaking(PHONE, log, {"kind": "delete", "body": {}, "tags": [["target", on_laptop["id"]]]}, log.at + 2)
    for batch in ([letter], log.events, [on_laptop], [withdrawn]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    standing = await letters.standing(store, letter["id"])
    assert standing is not None
    assert standing.count.count == 0  # the person took it back, from the other device


def ballot(device: Identity, poll: dict[str, Any], picked: str, at: int) -> dict[str, Any]:
    """A ballot ``device`` signs as a bare key, naming no identity."""
    return sign_draft(device, ballot_draft(check(poll, verify=False), [picked]), created_at=at)


def public_poll() -> dict[str, Any]:
    draft = poll_draft("Strike?", ["yes", "no"], closes_at=LATER, multiple=False, group=None)
    return sign_draft(OWNER, draft, created_at=T0 - 500)


async def figures(store: Store, poll: dict[str, Any]) -> tuple[int, dict[str, int]]:
    results = await polls.results(store, poll["id"])
    assert results is not None
    return results.tally.voters, dict(results.tally.options)


async def test_a_device_voting_without_naming_its_identity_is_still_that_person(store: Store) -> None:
    """Naming the identity or not, a device's key is its identity's: leaving the tag off is no second vote."""
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    poll = public_poll()
    yes = speaking(LAPTOP, log, ballot_draft(check(poll, verify=False), ["yes"]), log.at + 1)
    for batch in ([poll], log.events, [yes], [ballot(PHONE, poll, "no", log.at + 2)]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    assert await figures(store, poll) == (1, {"yes": 0, "no": 1})


async def test_a_removed_devices_later_ballot_counts_for_no_one(store: Store) -> None:
    """A lost phone, removed, cannot vote over its person (nor beside them) by leaving the identity's tag off."""
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    poll = public_poll()
    yes = speaking(LAPTOP, log, ballot_draft(check(poll, verify=False), ["yes"]), log.at + 1)
    log.remove(LAPTOP, PHONE)
    for batch in ([poll], log.events, [yes], [ballot(PHONE, poll, "no", log.at + 1)]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    assert await figures(store, poll) == (1, {"yes": 1, "no": 0})


async def test_a_key_made_a_device_later_is_recounted_as_its_person(store: Store) -> None:
    """Two keys vote, then one is added to the other's identity: the remembered figure follows the log, and the
    key's ballot from before it was added is its person's too (as its place in a group would be)."""
    log = Log()
    poll = public_poll()
    yes = speaking(LAPTOP, log, ballot_draft(check(poll, verify=False), ["yes"]), log.at + 1)
    for batch in ([poll], log.events, [yes], [ballot(PHONE, poll, "no", log.at + 2)]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    assert await figures(store, poll) == (2, {"yes": 1, "no": 1})
    assert {r.status for r in await store.ingest([log.add(LAPTOP, PHONE, "phone")])} == {"stored"}
    assert await figures(store, poll) == (1, {"yes": 0, "no": 1})


async def test_a_persons_meetups_are_found_from_any_of_their_devices(store: Store) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    meetup = sign_draft(OWNER, meetup_draft(meetup_body("Picnic", start=LATER, end=LATER + 3_600_000, tz="UTC")),
                        created_at=T0 - 500)  # fmt: skip
    going = speaking(LAPTOP, log, rsvp_draft(meetup["id"], OWNER.public_key, "going"), log.at + 1)
    for batch in ([meetup], log.events, [going]):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    assert [h.spec.id for h in await meetups.answered(store, PHONE.public_key)] == [meetup["id"]]
    assert [h.spec.id for h in await meetups.answered(store, log.identity)] == [meetup["id"]]
    held = await meetups.held(store, meetup["id"])
    assert held is not None and held.answers.of(log.identity) == "going"


async def test_a_person_reacting_and_boosting_from_two_devices_counts_once(store: Store, ann: Person) -> None:
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    post = ann.post("mine")
    react = {"kind": "reaction", "body": {"emoji": "👍"}, "tags": [["target", post["id"]]]}
    boost = {"kind": "boost", "body": {}, "tags": [["target", post["id"]]]}
    tallies = [speaking(d, log, draft, log.at + n) for n, (d, draft) in
               enumerate([(LAPTOP, react), (PHONE, react), (LAPTOP, boost), (PHONE, boost)], 1)]  # fmt: skip
    for batch in ([post], log.events, tallies):
        assert {r.status for r in await store.ingest(batch)} == {"stored"}
    [item] = (await author(store, ann.key)).items
    assert (item.reactions, item.boosts) == (1, 1)
