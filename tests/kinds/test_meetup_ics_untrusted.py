"""What a calendar holds came from someone else, and from older rules: no field of a held meetup (title, place,
description, the link made of its place, the calendar's name) makes its calendar fail or write a property of its
own; and one event that still cannot be written leaves the others' calendar answering."""

from __future__ import annotations

import dataclasses

import icalendar
import pytest

from murmur.kinds import meetup_ics
from murmur.kinds.meetup import as_one_line
from murmur.kinds.meetup_tally import MeetupSpec

START = 1_900_000_000_000
BREAKS = ["\n", "\r", "\r\n", "\x00", "\x1b[31m", "\x7f", "\x85", "\u2028"]


def spec(**changed: str) -> MeetupSpec:
    base = MeetupSpec(
        id="a" * 64, author="b" * 64, version="a" * 64, updated_at=START, versions=1, title="Picnic",
        description="", start=START, end=START + 3_600_000, tz="UTC", place="", capacity=None, group=None,
        cancelled=False,
    )  # fmt: skip
    return dataclasses.replace(base, **changed)


def injected(text: str) -> str:
    return f"x{text}ATTENDEE:mailto:someone@evil.test"


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("field", ["title", "place", "description"])
def test_no_field_of_a_meetup_makes_its_calendar_fail_or_speak(field: str, brk: str) -> None:
    value = f"https://x.test/{injected(brk)}" if field == "place" else injected(brk)
    body = meetup_ics.calendar([spec(**{field: value})], name=injected(brk))
    assert not any(ch in body.decode() for ch in "\x00\x1b\x7f\x85\u2028" if ch in brk)
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert "ATTENDEE" not in event and "URL" not in event
    prop = {"title": "summary", "place": "location", "description": "description"}[field]
    assert "someone@evil.test" in str(event[prop])


def test_a_clean_link_place_is_the_events_url() -> None:
    [event] = icalendar.Calendar.from_ical(meetup_ics.calendar([spec(place="https://x.test/p?q=1")], "c")).walk(
        "VEVENT"
    )
    assert str(event["url"]) == "https://x.test/p?q=1"


def test_the_calendars_name_is_one_line() -> None:
    assert as_one_line("Picnic\r\nX-INJECTED:1\u2028") == "Picnic  X-INJECTED:1"
    cal = icalendar.Calendar.from_ical(meetup_ics.calendar([spec()], "Picnic\r\nX-INJECTED:1"))
    assert "X-INJECTED" not in cal and "X-INJECTED" in str(cal["x-wr-calname"])


def test_an_event_that_cannot_be_written_leaves_the_feed_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = spec(id="c" * 64, title="Fine"), spec(id="d" * 64)
    real = meetup_ics.event

    def event(s: MeetupSpec) -> icalendar.Event:
        ev = real(s)
        if s.id == bad.id:
            ev.add("url", "https://x.test/\nbroken")  # as icalendar refuses a link with a line break
        return ev

    monkeypatch.setattr(meetup_ics, "event", event)
    feed = icalendar.Calendar.from_ical(meetup_ics.calendar([good, bad], "feed"))
    assert [str(e["uid"]) for e in feed.walk("VEVENT")] == [f"{good.id}@murmur"]


def test_each_event_is_written_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed of many meetups writes each event's text once, not once to see whether it can and again in the
    calendar; and the calendar still reads back whole, zones included."""
    written: list[str] = []
    to_ical = icalendar.vText.to_ical

    def counted(self: icalendar.vText) -> bytes:
        written.append(str(self))
        return to_ical(self)

    monkeypatch.setattr(icalendar.vText, "to_ical", counted)
    paris = spec(id="e" * 64, description="only in Paris", tz="Europe/Paris")
    body = meetup_ics.calendar([spec(description="only here"), paris], "feed")
    assert written.count("only here") == 1 and written.count("only in Paris") == 1
    cal = icalendar.Calendar.from_ical(body)
    assert [str(e["description"]) for e in cal.walk("VEVENT")] == ["only here", "only in Paris"]
    assert [str(z["tzid"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert body.endswith(b"END:VEVENT\r\nEND:VCALENDAR\r\n") and body.count(b"END:VCALENDAR") == 1
