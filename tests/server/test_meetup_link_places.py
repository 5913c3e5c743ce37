"""A meetup whose place is a link with a line break in it: its calendar answers, and so does the feed of everyone
who answered it. iCalendar's URL property may hold no line break (``icalendar`` raises ``ValueError``), while the
place, as signed, may."""

from __future__ import annotations

import icalendar
import pytest

from murmur.kinds.meetup import meetup_body, meetup_draft, rsvp_draft
from tests.server.conftest import Harness
from tests.server.test_meetups_api import START, publish


@pytest.mark.xfail(strict=True, reason="review6: a link place with a line break makes every calendar holding it fail")
async def test_a_link_place_with_a_line_break_leaves_the_calendars_answering(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    fine = await publish(ann, meetup_draft(meetup_body("Fine", start=START, end=START + 3_600_000, tz="UTC")))
    place = "https://x.test/\nATTENDEE:mailto:someone@evil.test"
    odd = await publish(
        ann, meetup_draft(meetup_body("Picnic", start=START, end=START + 3_600_000, tz="UTC", place=place))
    )
    for meetup in (fine, odd):
        await publish(ben, rsvp_draft(meetup["id"], ann.identity.public_key, "going"))
    feed = icalendar.Calendar.from_ical(await ann.calendar_text(f"/api/v1/calendars/{ben.identity.public_key}"))
    assert sorted(str(e["uid"]) for e in feed.walk("VEVENT")) == sorted(f"{m['id']}@murmur" for m in (fine, odd))
    [event] = icalendar.Calendar.from_ical(await ben.meetup_ics(odd["id"])).walk("VEVENT")
    assert "ATTENDEE" not in event and str(event["location"]) == place
