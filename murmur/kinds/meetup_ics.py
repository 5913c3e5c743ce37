"""Meetups as iCalendar (RFC 5545), for the calendars people already use: one meetup, or a feed of several.

Written with ``icalendar`` (a maintained RFC 5545 library) rather than by hand: folding long lines at 75 octets,
escaping commas and semicolons in text, and the ``VTIMEZONE`` each zoned time needs are what hand-written
exporters get wrong. Times are given in the organiser's zone (``DTSTART;TZID=Europe/Paris``), with that zone's
rules included for the span the calendar covers, so a calendar shows the meetup at the hour the organiser meant
(a zone this machine's database lacks is written as UTC: the same instants).

The ``UID`` is the meetup's id (stable across updates); ``SEQUENCE`` counts its updates, and ``DTSTAMP`` is the
current version's time, so a calendar that imported an earlier version takes the newer one; a cancelled meetup
is ``STATUS:CANCELLED``. Each event carries an alarm an hour before the start (``VALARM``): the reminder is the
calendar's to give.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from murmur.kinds.meetup import zone_of
from murmur.kinds.meetup_tally import MeetupSpec

MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//murmur//meetups//EN"
REMIND_BEFORE = timedelta(hours=1)


def _at(ms: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=zone_of(zone))


def event(spec: MeetupSpec) -> Event:
    ev = Event()
    ev.add("uid", f"{spec.id}@murmur")
    ev.add("dtstamp", datetime.fromtimestamp(spec.updated_at / 1000, tz=UTC))
    ev.add("sequence", spec.versions - 1)
    ev.add("dtstart", _at(spec.start, spec.tz))
    ev.add("dtend", _at(spec.end, spec.tz))
    ev.add("summary", spec.title)
    if spec.description:
        ev.add("description", spec.description)
    if spec.place:
        ev.add("location", spec.place)
        if spec.place.startswith(("https://", "http://")):
            ev.add("url", spec.place)
    ev.add("status", "CANCELLED" if spec.cancelled else "CONFIRMED")
    if not spec.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", spec.title)
        alarm.add("trigger", -REMIND_BEFORE)
        ev.add_component(alarm)
    return ev


def calendar(specs: Iterable[MeetupSpec], name: str) -> bytes:
    """An RFC 5545 calendar of the meetups, with the ``VTIMEZONE`` of every zone they use."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    specs = list(specs)
    for spec in specs:
        cal.add_component(event(spec))
    if specs:
        # The zones' rules for the span the meetups cover, not for 1970 to 2038: a feed stays small.
        first = min(datetime.fromtimestamp(s.start / 1000, tz=UTC) for s in specs) - timedelta(days=1)
        last = max(datetime.fromtimestamp(s.end / 1000, tz=UTC) for s in specs) + timedelta(days=1)
        cal.add_missing_timezones(first.date(), last.date())
    return bytes(cal.to_ical())
