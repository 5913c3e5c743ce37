"""The meetup routes in-process: who is coming and the waiting list, a person's calendar feed, .ics answers that
are RFC 5545 documents, refusals with their reason, and not_found for what is not a meetup."""

from __future__ import annotations

from typing import Any

import icalendar
import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.kinds.meetup import meetup_body, meetup_draft, rsvp_draft
from murmur.message import sign_draft
from tests.server.conftest import Harness

START = 1_900_000_000_000


async def publish(api: MurmurClient, draft: dict[str, Any]) -> dict[str, Any]:
    message = sign_draft(api.identity, draft)
    result = await api.publish(message)
    assert result["status"] == "stored", result
    return message


def a_meetup(capacity: int | None = 1, start: int = START) -> dict[str, Any]:
    return meetup_draft(meetup_body("Picnic", start=start, end=start + 3_600_000, tz="Europe/Paris", capacity=capacity))


async def test_who_is_coming_and_who_waits(server: Harness) -> None:
    ann, ben, cat = await server.member(), await server.member(), await server.member()
    meetup = await publish(ann, a_meetup())
    await publish(ben, rsvp_draft(meetup["id"], ann.identity.public_key, "going"))
    await publish(cat, rsvp_draft(meetup["id"], ann.identity.public_key, "going"))
    found = await cat.meetup(meetup["id"][:12])
    assert (found["going"], found["waiting"], found["maybe"], found["capacity"]) == (1, 1, 0, 1)
    assert found["answers"]["going"] == [ben.identity.public_key]
    assert found["answers"]["waiting"] == [cat.identity.public_key]
    [listed] = await cat.meetups()
    assert listed == found


async def test_a_misaddressed_rsvp_is_refused_with_its_reason(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    meetup = await publish(ann, a_meetup())
    with pytest.raises(ApiError) as refused:
        await ben.publish(sign_draft(ben.identity, rsvp_draft(meetup["id"], ben.identity.public_key, "going")))
    assert refused.value.code == "bad_target"


async def test_one_meetup_and_a_persons_feed_as_icalendar(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    first, second, third = [await publish(ann, a_meetup(start=START + n)) for n in range(3)]
    for meetup, answer in ((first, "going"), (second, "maybe"), (third, "no")):
        await publish(ben, rsvp_draft(meetup["id"], ann.identity.public_key, answer))
    one = icalendar.Calendar.from_ical(await ben.meetup_ics(first["id"]))
    assert [str(e["uid"]) for e in one.walk("VEVENT")] == [f"{first['id']}@murmur"]
    assert [str(z["tzid"]) for z in one.walk("VTIMEZONE")] == ["Europe/Paris"]
    feed = icalendar.Calendar.from_ical(await ann.calendar_text(f"/api/v1/calendars/{ben.identity.public_key}"))
    assert [str(e["uid"]) for e in feed.walk("VEVENT")] == [f"{first['id']}@murmur", f"{second['id']}@murmur"]


@pytest.mark.parametrize("path", ["/api/v1/meetups/{id}", "/api/v1/meetups/{id}/ics"])
async def test_what_is_not_a_meetup_is_not_found(server: Harness, path: str) -> None:
    ann = await server.member()
    post = await publish(ann, {"kind": "post", "body": {"text": "hi"}, "tags": []})
    with pytest.raises(ApiError) as refused:
        await ann.calendar_text(path.format(id=post["id"]))
    assert (refused.value.status, refused.value.code) == (404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/meetups/xyz",
        "/api/v1/meetups/%00%ff/ics",
        "/api/v1/meetups/" + "ab" * 40,
        "/api/v1/calendars/not-a-key",
        "/api/v1/calendars/" + "0" * 65,
    ],
)
async def test_a_path_that_names_nothing_is_refused_with_a_reason(server: Harness, path: str) -> None:
    ann = await server.member()
    with pytest.raises(ApiError) as refused:
        await ann.calendar_text(path)
    assert refused.value.status in (400, 404) and refused.value.code != "http_error", refused.value


async def test_a_person_who_answered_nothing_has_an_empty_calendar(server: Harness) -> None:
    ann = await server.member()
    empty = icalendar.Calendar.from_ical(await ann.calendar_text(f"/api/v1/calendars/{ann.identity.public_key}"))
    assert empty.walk("VEVENT") == [] and str(empty["prodid"]).startswith("-//murmur")


async def test_a_zone_this_machine_does_not_know_is_exported_in_utc(server: Harness) -> None:
    ann = await server.member()
    body = meetup_body("On Mars", start=START, end=START + 3_600_000, tz="Mars/Olympus")
    meetup = await publish(ann, meetup_draft(body))
    [event] = icalendar.Calendar.from_ical(await ann.meetup_ics(meetup["id"])).walk("VEVENT")
    assert event["dtstart"].dt.timestamp() * 1000 == START and event["dtstart"].dt.utcoffset().total_seconds() == 0
