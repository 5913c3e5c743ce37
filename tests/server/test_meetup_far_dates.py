"""A meetup may start at any time up to 2^53-1 ms (docs/protocol.md), far past the year 9999 that Python's
``datetime`` ends at. Its calendar is still an answer: an event iCalendar or ``datetime`` cannot hold is left out
(``murmur.kinds.meetup_ics.calendar`` says so for a ``ValueError``), never a failed request."""

from __future__ import annotations

import icalendar
import pytest

from murmur.kinds.meetup import meetup_body, meetup_draft
from murmur.message import sign_draft
from tests.server.conftest import Harness

# 9999-12-31 10:00 UTC: the event itself is within datetime's range; the day of margin the calendar adds is not.
LAST_DAY = 253_402_250_400_000


@pytest.mark.xfail(
    strict=True,
    reason="meetup_ics.calendar adds timedelta(days=1) to the last end: OverflowError, not the ValueError it catches",
)
async def test_a_meetup_on_the_last_day_of_year_9999_has_a_calendar(server: Harness) -> None:
    ann = await server.member()
    body = meetup_body("Millennium party", start=LAST_DAY, end=LAST_DAY + 3_600_000, tz="UTC")
    meetup = sign_draft(ann.identity, meetup_draft(body))
    assert (await ann.publish(meetup))["status"] == "stored"
    calendar = icalendar.Calendar.from_ical(await ann.meetup_ics(meetup["id"]))
    assert calendar.name == "VCALENDAR"
