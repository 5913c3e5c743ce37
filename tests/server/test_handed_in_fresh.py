"""Every door of a member judges a message dated by its author as of when it is handed in (docs/protocol.md §7.4):
publish and the moving import refuse one dated too long before now (``too_old``) or answering what had closed by
now (``poll_closed``, ``letter_closed``); a peer still relays older ones, which their author's door took."""

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


@pytest.mark.parametrize("door", ["publish", "import"])
async def test_a_ballot_dated_too_long_ago_is_refused_at_either_door(server: Harness, door: str) -> None:
    ann, ben = await server.member(), await server.member()
    now = int(time.time() * 1000)
    poll = await _poll(ann, now + 24 * HOUR)
    old = sign_draft(ben.identity, ballot_draft(check(orjson.dumps(poll)), ["1"]), created_at=now - HOUR)
    if door == "publish":
        with pytest.raises(ApiError) as refused:
            await ben.publish(old)
        code, reason = refused.value.code, str(refused.value)
    else:
        [result] = await ben.import_own([orjson.dumps(old)])
        code, reason = result["code"], result["reason"]
    assert code == "too_old" and "clock" in reason and "Make it again now" in reason
    assert (await ann.poll(str(poll["id"])))["voters"] == 0


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
    assert all("handed in" in r["reason"] for r in results)
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
