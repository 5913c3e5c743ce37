"""``murmur meetup create / rsvp / list / ics / cancel`` against a real server on 127.0.0.1: the exact JSON shapes
of the contract, a full capacity that puts a later "going" on the waiting list, the .ics document, and refusals
that say why."""

from __future__ import annotations

import icalendar
import pytest

from tests.cli.test_groups_cli import Someone, people
from tests.tui.test_snapshots import snap_server as home_server

__all__ = ["home_server", "people"]


def test_a_meetup_from_the_command_line(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, me = people
    created = alice.json("meetup", "create", "Picnic", "--start", "2030-06-01T12:00", "--end", "2030-06-01T14:00",
                         "--tz", "Europe/Paris", "--place", "The park", "--capacity", "1")  # fmt: skip
    assert list(created) == ["id"]
    meetup = created["id"]
    bob.ok("meetup", "rsvp", meetup[:12], "going")
    waiting = me.json("meetup", "rsvp", meetup, "going")
    assert waiting["waiting"] is True  # one place, and bob's "going" came first
    [row] = [m for m in me.json("meetup", "list") if m["id"] == meetup]
    assert {k: row[k] for k in ("id", "title", "going", "maybe", "waiting")} == {
        "id": meetup, "title": "Picnic", "going": 1, "maybe": 0, "waiting": 1,
    }  # fmt: skip
    bob.ok("meetup", "rsvp", meetup, "maybe")  # a change of mind frees the place
    [row] = [m for m in me.json("meetup", "list") if m["id"] == meetup]
    assert (row["going"], row["maybe"], row["waiting"]) == (1, 1, 0)
    assert "Picnic" in me.ok("meetup", "list").stdout
    shown = me.ok("meetup", "show", meetup).stdout
    assert f"going: {me.key[:12]}" in shown and f"maybe: {bob.key[:12]}" in shown  # the freed place went to me

    document = me.ok("meetup", "ics", meetup).stdout
    [event] = icalendar.Calendar.from_ical(document).walk("VEVENT")
    assert str(event["summary"]) == "Picnic" and str(event["location"]) == "The park"
    assert event["dtstart"].dt.isoformat() == "2030-06-01T12:00:00+02:00"  # Paris summer time, as meant
    assert str(event["uid"]).startswith(meetup) and str(event["status"]) == "CONFIRMED"

    alice.ok("meetup", "update", meetup, "--capacity", "2", "--start", "2030-06-01T13:00")
    [row] = [m for m in me.json("meetup", "list") if m["id"] == meetup]
    assert (row["going"], row["maybe"], row["waiting"], row["capacity"]) == (1, 1, 0, 2)
    [event] = icalendar.Calendar.from_ical(me.ok("meetup", "ics", meetup).stdout).walk("VEVENT")
    assert event["dtstart"].dt.isoformat() == "2030-06-01T13:00:00+02:00" and int(event["sequence"]) == 1
    assert str(event["location"]) == "The park"  # what the update did not change stays

    for args in (["cancel", meetup], ["update", meetup, "--title", "Mine now"]):
        refused = bob.run("meetup", *args)
        assert refused.exit_code != 0 and "organiser" in refused.stderr
    alice.ok("meetup", "cancel", meetup)
    [row] = [m for m in me.json("meetup", "list") if m["id"] == meetup]
    assert row["cancelled"] is True and row["title"] == "Picnic"
    [event] = icalendar.Calendar.from_ical(me.ok("meetup", "ics", meetup).stdout).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 2
    told = bob.ok("notifications").stdout
    assert "cancelled a meetup you answered" in told and "updated a meetup you answered" in told


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--start", "soon", "--end", "2030-06-01T14:00"], "not a time"),
        (["--start", "2030-06-01T12:00", "--end", "2030-06-01T14:00", "--tz", "Mars/Olympus"], "IANA"),
        (["--start", "2030-06-01T12:00", "--end", "2030-06-01T11:00"], "ends after it starts"),
        (["--start", "2030-06-01T12:00", "--end", "2030-06-01T14:00", "--capacity", "0"], "capacity"),
    ],
)
def test_a_meetup_that_cannot_be_is_refused_with_why(
    people: tuple[Someone, Someone, Someone], args: list[str], says: str
) -> None:
    result = people[0].run("meetup", "create", "Picnic", *args)
    assert result.exit_code != 0 and says in result.stderr


def test_an_rsvp_says_what_it_answers(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, _ = people
    times = ["--start", "2030-06-01T12:00Z", "--end", "2030-06-01T13:00Z"]
    meetup = alice.json("meetup", "create", "Picnic", *times)["id"]
    wrong = bob.run("meetup", "rsvp", meetup, "yes")
    assert wrong.exit_code == 2 and "going, maybe or no" in wrong.stderr
    missing = bob.run("meetup", "rsvp", "ab" * 32, "going")
    assert missing.exit_code != 0 and "meetup" in missing.stderr
