"""``murmur notifications`` tells a letter's author of each signature, and reminds whoever answered a meetup going
or maybe from an hour before its start (first, above the rest; in ``--json`` as ``reminders``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.test_groups_cli import Someone, people
from tests.tui.test_snapshots import snap_server as home_server

__all__ = ["home_server", "people"]


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


def test_a_signature_is_told_to_the_letters_author(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, _ = people
    letter = alice.json("letter", "create", "Standing desks", "--to", "facilities", "Please.")["id"]
    bob.ok("letter", "sign", letter, "--note", "my back agrees")
    told = alice.json("notifications")["items"]
    assert [(n["kind"], n["actor"], n["target_id"]) for n in told][:1] == [("signature", bob.key, letter)]
    assert "signed your open letter: my back agrees" in alice.ok("notifications").stdout
    bob.ok("letter", "withdraw", letter)
    assert all(n["kind"] != "signature" for n in alice.json("notifications")["items"])


def test_a_meetup_starting_within_the_hour_is_a_reminder(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, me = people
    soon = alice.json("meetup", "create", "Stand-up", "--start", at(timedelta(minutes=30)),
                      "--end", at(timedelta(minutes=90)), "--tz", "UTC", "--place", "Room 4")["id"]  # fmt: skip
    later = alice.json("meetup", "create", "Retro", "--start", at(timedelta(hours=5)),
                       "--end", at(timedelta(hours=6)), "--tz", "UTC")["id"]  # fmt: skip
    bob.ok("meetup", "rsvp", soon, "maybe")
    bob.ok("meetup", "rsvp", later, "going")
    me.ok("meetup", "rsvp", soon, "no")
    page = bob.json("notifications")
    assert [m["id"] for m in page["reminders"]] == [soon]
    assert isinstance(page["next_reminder_at"], int)  # the retro's, four hours from now
    shown = bob.ok("notifications").stdout.splitlines()
    assert shown[0].startswith("Soon: Stand-up starts in ") and shown[0].endswith("· Room 4 · you: maybe")
    assert me.json("notifications")["reminders"] == []  # not going
    assert "reminders" not in bob.json("notifications", "--before", "1")  # of now, not of a page further back
