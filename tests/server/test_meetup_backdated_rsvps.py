"""A full meetup's places go in the order people answered: an RSVP handed in at a member's own door now, dated
before the others', must not take the place of someone who answered first. Its ``created_at`` is its author's
word; the home server sees when it was handed in and judges it as of then
(``murmur.store.audience.MemberDoor``)."""

from __future__ import annotations

import time

import pytest

from murmur.client.api import ApiError
from murmur.kinds.meetup import meetup_body, meetup_draft, rsvp_draft
from murmur.message import sign_draft
from tests.server.conftest import Harness, handed_in_at

HOUR = 3_600_000


async def test_an_rsvp_dated_before_the_others_takes_no_ones_place(server: Harness) -> None:
    ann, ben, cat = await server.member(), await server.member(), await server.member()
    now = int(time.time() * 1000)
    start = now + 24 * HOUR
    body = meetup_body("Picnic", start=start, end=start + HOUR, tz="UTC", capacity=1)
    meetup = sign_draft(ann.identity, meetup_draft(body), created_at=now - 2 * HOUR)
    await ann.publish(meetup)
    organiser = ann.identity.public_key
    with handed_in_at(now - HOUR):  # Ben answered an hour ago
        await ben.publish(sign_draft(ben.identity, rsvp_draft(meetup["id"], organiser, "going"), created_at=now - HOUR))
    assert (await ann.meetup(meetup["id"]))["answers"]["going"] == [ben.identity.public_key]

    # Cat answers last, dating her answer before Ben's (and just after the meetup was announced).
    with pytest.raises(ApiError) as refused:  # refused at the door: dated long before it was handed in
        late = rsvp_draft(meetup["id"], organiser, "going")
        await cat.publish(sign_draft(cat.identity, late, created_at=now - 2 * HOUR + 1000))
    assert refused.value.code == "too_old" and "clock" in str(refused.value)
    answers = (await ann.meetup(meetup["id"]))["answers"]
    assert answers["going"] == [ben.identity.public_key]
