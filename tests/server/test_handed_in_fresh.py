"""Every door of a member judges a message dated by its author as of when it is handed in (docs/protocol.md §7.4):
publish refuses one dated too long before now (``too_old``), and publish and the moving import one answering what
had closed by now (``poll_closed``, ``letter_closed``); the moving import brings a person's older history, which
their old home took, and a peer still relays older ones, which their author's door took."""

from __future__ import annotations

import time

import orjson
import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.kinds import REGISTRY
from murmur.kinds.base import HANDED_IN_WITHIN_MS
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.meetup import meetup_body, meetup_draft, rsvp_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import sign_draft
from murmur.store.audience import from_peer
from murmur.validate import check
from tests.server.conftest import Harness, handed_in_at

HOUR = 3_600_000


def test_the_kinds_dated_by_their_author_are_those_docs_protocol_names() -> None:
    # A new kind whose meaning depends on its time must be named here and in docs/protocol.md §7.4 alike.
    assert {name for name, k in REGISTRY.items() if k.handed_in_fresh} == {"ballot", "rsvp", "signature", "sealed"}


async def _poll(ann: MurmurClient, closes: int) -> dict[str, object]:
    poll = sign_draft(ann.identity, poll_draft("Tea?", ["yes", "no"], closes_at=closes, multiple=False, group=None))
    await ann.publish(poll)
    return poll


async def test_a_ballot_dated_too_long_ago_is_refused_at_publish(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    poll = await _poll(ann, now + 24 * HOUR)
    old = sign_draft(ben.identity, ballot_draft(check(orjson.dumps(poll)), ["1"]), created_at=now - HOUR)
    with pytest.raises(ApiError) as refused:
        await ben.publish(old)
    reason = str(refused.value)
    assert refused.value.code == "too_old" and "clock" in reason and "Make it again now" in reason
    assert (await ann.poll(str(poll["id"])))["voters"] == 0


async def test_the_moving_import_brings_a_persons_older_ballots_rsvps_and_signatures(server: Harness) -> None:
    """History from the old home is older than the move by nature: none of it is too_old. What its held target
    takes as of now (a poll still open, a meetup to come, a letter before its deadline) counts by its time, as
    everywhere its old home relayed it; a withdrawal moves along with the signature it withdraws."""
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    made, answered = now - 3 * 24 * HOUR, now - 2 * 24 * HOUR
    poll = sign_draft(ann.identity, poll_draft("Tea?", ["yes", "no"], closes_at=now + HOUR, multiple=False, group=None),
                      created_at=made)  # fmt: skip
    start = now + 24 * HOUR
    meetup = sign_draft(ann.identity, meetup_draft(meetup_body("Walk", start=start, end=start + HOUR, tz="UTC")),
                        created_at=made)  # fmt: skip
    letters = [
        sign_draft(ann.identity, letter_draft(title, "the park", "More.", deadline=now + HOUR), created_at=made)
        for title in ("Benches", "Lamps")
    ]
    for message in (poll, meetup, *letters):
        await ann.publish(message)
    ballot = sign_draft(ben.identity, ballot_draft(check(orjson.dumps(poll)), ["2"]), created_at=answered)
    going = rsvp_draft(str(meetup["id"]), ann.identity.public_key, "going")
    rsvp = sign_draft(ben.identity, going, created_at=answered)
    kept, withdrawn = (
        sign_draft(ben.identity, signature_draft(check(orjson.dumps(letter))), created_at=answered)
        for letter in letters
    )
    withdrawal = sign_draft(ben.identity, {"kind": "delete", "body": {}, "tags": [["target", withdrawn["id"]]]},
                            created_at=answered + HOUR)  # fmt: skip
    history = [ballot, rsvp, kept, withdrawn, withdrawal]
    results = await ben.import_own([orjson.dumps(m) for m in history])
    assert [(r["status"], r.get("code")) for r in results] == [("stored", None)] * len(history), results
    assert (await ann.poll(str(poll["id"])))["options"][1]["votes"] == 1
    assert (await ann.meetup(str(meetup["id"])))["answers"]["going"] == [ben.identity.public_key]
    assert [(await ann.letter(str(letter["id"])))["count"] for letter in letters] == [1, 0]


@pytest.mark.parametrize("age", [HANDED_IN_WITHIN_MS - 5_000, HANDED_IN_WITHIN_MS + 5_000])
async def test_the_window_is_handed_in_within_ms(server: Harness, age: int) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    poll = await _poll(ann, now + 24 * HOUR)
    ballot = sign_draft(ben.identity, ballot_draft(check(orjson.dumps(poll)), ["2"]), created_at=now - age)
    with handed_in_at(now):
        if age < HANDED_IN_WITHIN_MS:
            await ben.publish(ballot)
        else:
            with pytest.raises(ApiError, match="dated"):
                await ben.publish(ballot)
    assert (await ann.poll(str(poll["id"])))["voters"] == (1 if age < HANDED_IN_WITHIN_MS else 0)


async def test_the_moving_import_judges_a_ballot_and_a_signature_as_of_now(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    closes = now - 60_000
    poll = await _poll(ann, closes)
    letter = sign_draft(ann.identity, letter_draft("Benches", "the park", "More benches.", deadline=closes))
    with handed_in_at(now - HOUR):
        await ann.publish(letter)
    ballot = sign_draft(ben.identity, ballot_draft(check(orjson.dumps(poll)), ["1"]), created_at=closes - 1)
    signed = sign_draft(ben.identity, signature_draft(check(orjson.dumps(letter))), created_at=closes - 1)
    results = await ben.import_own([orjson.dumps(ballot), orjson.dumps(signed)])
    assert [r["code"] for r in results] == ["poll_closed", "letter_closed"]
    assert all("moved from another server" in r["reason"] and "cannot tell" in r["reason"] for r in results)
    assert (await ann.letter(str(letter["id"])))["count"] == 0


async def test_a_peer_still_relays_an_older_rsvp(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    start = now + 24 * HOUR
    meetup = sign_draft(ann.identity, meetup_draft(meetup_body("Walk", start=start, end=start + HOUR, tz="UTC")))
    await ann.publish(meetup)
    away = sign_draft(
        ben.identity, rsvp_draft(str(meetup["id"]), ann.identity.public_key, "going"), created_at=now - HOUR
    )
    [result] = await server.state.store.ingest([orjson.dumps(away)], origin="peer:p", policy=from_peer(frozenset()))
    assert result.status == "stored"
    assert (await ann.meetup(str(meetup["id"])))["answers"]["going"] == [ben.identity.public_key]


async def test_a_withdrawal_handed_in_after_the_deadline_and_dated_before_it_withdraws_nothing(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    deadline = now - 60_000
    letter = sign_draft(ann.identity, letter_draft("Lamps", "the town", "More lamps.", deadline=deadline))
    await ann.publish(letter)
    signed = sign_draft(ben.identity, signature_draft(check(orjson.dumps(letter))), created_at=now - HOUR)
    with handed_in_at(now - HOUR):
        await ben.publish(signed)
    assert (await ann.letter(str(letter["id"])))["count"] == 1

    withdrawal = {"kind": "delete", "body": {}, "tags": [["target", signed["id"]]]}
    with pytest.raises(ApiError) as refused:
        await ben.publish(sign_draft(ben.identity, withdrawal, created_at=deadline - 1))
    assert refused.value.code == "letter_closed" and "delete of a signature reached" in str(refused.value)
    with pytest.raises(ApiError) as old:
        await ben.publish(sign_draft(ben.identity, withdrawal, created_at=now - HOUR + 1))
    assert old.value.code == "too_old"
    assert (await ann.letter(str(letter["id"])))["count"] == 1
