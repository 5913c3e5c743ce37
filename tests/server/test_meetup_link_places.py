"""A meetup whose place is a link with a line break in it: refused now, and when one is held from before (an older
server stored it, a peer sent it), its calendar answers, and so does the feed of everyone who answered it.
iCalendar's URL property may hold no line break (``icalendar`` raises ``ValueError``)."""

from __future__ import annotations

import re

import icalendar
import pytest

from murmur.client.api import ApiError
from murmur.kinds import meetup as meetup_kind
from murmur.kinds.meetup import meetup_body, meetup_draft, rsvp_draft
from murmur.message import sign_draft
from tests.server.conftest import Harness
from tests.server.test_meetups_api import START, publish

PLACE = "https://x.test/\nATTENDEE:mailto:someone@evil.test"


async def test_a_place_or_a_title_on_several_lines_is_refused_saying_so(server: Harness) -> None:
    ann = await server.member()
    for body in (
        meetup_body("Picnic", start=START, end=START + 3_600_000, tz="UTC", place=PLACE),
        meetup_body("Picnic\r\nATTENDEE:x", start=START, end=START + 3_600_000, tz="UTC"),
        meetup_body("Picnic", start=START, end=START + 3_600_000, tz="UTC", place="Park\u2028gate"),
    ):
        with pytest.raises(ApiError) as refused:
            await ann.publish(sign_draft(ann.identity, meetup_draft(body)))
        assert refused.value.code == "bad_value"
        assert "one line" in str(refused.value)


async def test_a_link_place_with_a_line_break_leaves_the_calendars_answering(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, ben = await server.member(), await server.member()
    fine = await publish(ann, meetup_draft(meetup_body("Fine", start=START, end=START + 3_600_000, tz="UTC")))
    odd = sign_draft(
        ann.identity, meetup_draft(meetup_body("Picnic", start=START, end=START + 3_600_000, tz="UTC", place=PLACE))
    )
    with monkeypatch.context() as older:  # held from before the rule: stored as an older murmur validated it
        older.setattr(meetup_kind, "LINE_BREAKING", re.compile(r"(?!)"))
        [stored] = await server.state.store.ingest([odd], origin="local")
    assert stored.status == "stored", stored
    for meetup in (fine, odd):
        await publish(ben, rsvp_draft(meetup["id"], ann.identity.public_key, "going"))
    feed = icalendar.Calendar.from_ical(await ann.calendar_text(f"/api/v1/calendars/{ben.identity.public_key}"))
    assert sorted(str(e["uid"]) for e in feed.walk("VEVENT")) == sorted(f"{m['id']}@murmur" for m in (fine, odd))
    [event] = icalendar.Calendar.from_ical(await ben.meetup_ics(odd["id"])).walk("VEVENT")
    assert "ATTENDEE" not in event and "URL" not in event and str(event["location"]) == PLACE
