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

What goes into a calendar came from someone else, signed under older rules too (a title or a place on several
lines, before validation refused them: ``murmur.kinds.meetup._one_line``), so nothing it holds may make the
calendar fail or say more than it held. Text (``SUMMARY``, ``LOCATION``, ``DESCRIPTION``) keeps its line breaks,
which icalendar escapes, and loses every other control character; the calendar's name, a property icalendar does
not escape, is written on one line (``as_one_line``); a place is the event's ``URL`` only when it is a link as
iCalendar takes one (no space, no control character). An event that still cannot be written is left out of the
calendar, and logged, rather than failing the whole feed of everyone who answered it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from murmur.kinds.meetup import as_one_line, zone_of
from murmur.kinds.meetup_tally import MeetupSpec

MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//murmur//meetups//EN"
REMIND_BEFORE = timedelta(hours=1)
# What a TEXT property may not hold: RFC 5545's CONTROL characters but the tab and the line feed (which
# icalendar writes as "\\n"), and C1 controls; the carriage return of a CRLF goes, its line feed stays.
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A link as an event's URL: http(s), then no space (of any script), control character or line break.
_LINK = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f]+", re.IGNORECASE)

log = logging.getLogger(__name__)


def _at(ms: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=zone_of(zone))


def _text(value: str) -> str:
    """``value`` as a TEXT property may hold it: control characters a space, line breaks (CRLF, the line and
    paragraph separators) a line feed, which icalendar escapes."""
    lines = value.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _NOT_IN_TEXT.sub(" ", lines).strip()


def event(spec: MeetupSpec) -> Event:
    ev = Event()
    ev.add("uid", f"{spec.id}@murmur")
    ev.add("dtstamp", datetime.fromtimestamp(spec.updated_at / 1000, tz=UTC))
    ev.add("sequence", spec.versions - 1)
    ev.add("dtstart", _at(spec.start, spec.tz))
    ev.add("dtend", _at(spec.end, spec.tz))
    title = _text(spec.title)
    ev.add("summary", title)
    if description := _text(spec.description):
        ev.add("description", description)
    if place := _text(spec.place):
        ev.add("location", place)
        if _LINK.fullmatch(spec.place):
            ev.add("url", spec.place)
    ev.add("status", "CANCELLED" if spec.cancelled else "CONFIRMED")
    if not spec.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        alarm.add("trigger", -REMIND_BEFORE)
        ev.add_component(alarm)
    return ev


def calendar(specs: Iterable[MeetupSpec], name: str) -> bytes:
    """An RFC 5545 calendar of the meetups, with the ``VTIMEZONE`` of every zone they use.

    Each event is written once: the bytes that show whether icalendar can write it are the ones the calendar
    carries, set between the calendar's own lines (its properties and zones) and its ``END:VCALENDAR``, as a
    component's content lines stand in its parent's."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", as_one_line(name))
    events: list[bytes] = []
    written = []
    for spec in specs:
        try:
            ev = event(spec)
            events.append(bytes(ev.to_ical()))  # what icalendar refuses, it refuses here: the feed goes on
        except ValueError:
            log.warning("meetup %s left out of a calendar: iCalendar cannot hold it as signed", spec.id, exc_info=True)
            continue
        cal.add_component(ev)  # only so that the zones it uses are found below
        written.append(spec)
    if written:
        # The zones' rules for the span the meetups cover, not for 1970 to 2038: a feed stays small.
        first = min(datetime.fromtimestamp(s.start / 1000, tz=UTC) for s in written) - timedelta(days=1)
        last = max(datetime.fromtimestamp(s.end / 1000, tz=UTC) for s in written) + timedelta(days=1)
        cal.add_missing_timezones(first.date(), last.date())
    cal.subcomponents = list(cal.timezones)
    head = bytes(cal.to_ical())
    end = b"END:VCALENDAR\r\n"
    if not head.endswith(end):  # icalendar's own writing, checked rather than assumed
        raise AssertionError("icalendar wrote a calendar without its END:VCALENDAR line")
    return head[: -len(end)] + b"".join(events) + end
