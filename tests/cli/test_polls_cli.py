"""``murmur poll create / vote / results [--verify]`` against a real server on 127.0.0.1: the exact JSON shapes
of the contract, options by number or text, a change of mind, and refusals that say why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from murmur.client.cli.polls import render_results
from tests.cli.test_groups_cli import Someone
from tests.tui.conftest import ALICE, BOB, ME
from tests.tui.test_snapshots import ThreadedServer
from tests.tui.test_snapshots import snap_server as home_server

__all__ = ["home_server"]


@pytest.fixture
def people(home_server: ThreadedServer, tmp_path: Path) -> tuple[Someone, Someone, Someone]:
    return tuple(Someone(tmp_path / n, who, home_server) for n, who in (("a", ALICE), ("b", BOB), ("m", ME)))  # type: ignore[return-value]


def test_a_poll_from_the_command_line(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, me = people
    created = alice.json("poll", "create", "Lunch?", "--option", "noon", "--option", "one", "--option", "two",
                         "--closes", "2h")  # fmt: skip
    assert list(created) == ["id"]
    poll = created["id"]
    bob.ok("poll", "vote", poll, "1")
    bob.ok("poll", "vote", poll[:12], "two")  # a change of mind, by text
    me.ok("poll", "vote", poll, "2")
    results = me.json("poll", "results", poll)
    assert results == {
        "options": [{"text": "noon", "votes": 0}, {"text": "one", "votes": 1}, {"text": "two", "votes": 1}],
        "voters": 2,
        "closed": False,
    }
    verified = me.json("poll", "results", poll, "--verify")
    assert verified["recount"] == results and verified["agrees"] is True
    assert {k: verified[k] for k in results} == results
    shown = me.ok("poll", "results", poll, "--verify").stdout
    assert "recount agrees" in shown and "open" in shown


def test_multiple_choice_and_refusals_that_say_why(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, _ = people
    poll = alice.json("poll", "create", "Which days?", "--option", "mon", "--option", "tue", "--option", "wed",
                      "--multiple", "--closes", "2030-01-01T00:00Z")["id"]  # fmt: skip
    bob.ok("poll", "vote", poll, "mon", "3")
    assert [o["votes"] for o in bob.json("poll", "results", poll)["options"]] == [1, 0, 1]
    unknown = bob.run("poll", "vote", poll, "fri")
    assert unknown.exit_code == 2 and "no option 'fri'" in unknown.stderr
    one = alice.run("poll", "create", "Only one?", "--option", "yes")
    assert one.exit_code == 2 and "2 to 10 options" in one.stderr
    past = alice.run("poll", "create", "Late?", "--option", "a", "--option", "b", "--closes", "2001-01-01")
    assert past.exit_code == 2 and "in the past" in past.stderr
    bad = alice.run("poll", "create", "When?", "--option", "a", "--option", "b", "--closes", "soon")
    assert bad.exit_code == 2 and "not a duration" in bad.stderr
    same = alice.run("poll", "create", "Twice?", "--option", "a", "--option", "a")
    assert same.exit_code != 0 and "different" in same.stderr


def test_a_recount_that_differs_is_shown_not_hidden() -> None:
    figures = {"question": "Lunch?"}
    out = {
        "options": [{"text": "noon", "votes": 2}, {"text": "one", "votes": 0}],
        "voters": 2,
        "closed": True,
        "recount": {"options": [{"text": "noon", "votes": 1}, {"text": "one", "votes": 0}], "voters": 1},
        "agrees": False,
        "invalid": 1,
    }
    lines = render_results(figures, out)
    assert lines[2] == "  1. noon: 2   (recount: 1)  DIFFERS" and lines[3] == "  2. one: 0   (recount: 0)"
    assert "THE RECOUNT DIFFERS" in lines[-1] and "did not check: 1" in lines[-1]


def test_a_recount_that_differs_fails_after_printing_everything(
    people: tuple[Someone, Someone, Someone], home_server: ThreadedServer
) -> None:
    alice, bob, me = people
    group = alice.json("group", "create", "Lunch club")["id"]
    bob.ok("group", "join", group)
    poll = alice.json("poll", "create", "Lunch?", "--option", "noon", "--option", "one", "--group", group)["id"]
    bob.ok("poll", "vote", poll, "1")
    me.ok("poll", "vote", poll, "2")  # no member: it does not count
    assert me.run("poll", "results", poll, "--verify").exit_code == 0  # agreeing: success
    # The server's kept state is changed behind the signed messages: I am made a member. Its figure follows; the
    # recount, which folds the group from its signed messages, does not.
    with sqlite3.connect(home_server.path) as db:
        row = (bytes.fromhex(group), bytes.fromhex(me.key), 0)
        db.execute("INSERT INTO groups_spans (grp, key, start_at, end_at) VALUES (?, ?, ?, NULL)", row)
    as_json = me.run("poll", "results", poll, "--verify", "--json")
    assert as_json.exit_code == 1
    found = json.loads(as_json.stdout)
    assert found["agrees"] is False and [o["votes"] for o in found["options"]] == [1, 1]
    assert [o["votes"] for o in found["recount"]["options"]] == [1, 0]
    shown = me.run("poll", "results", poll, "--verify")
    assert shown.exit_code == 1 and "THE RECOUNT DIFFERS" in shown.stdout and "DIFFERS" in shown.stdout
    assert me.run("poll", "results", poll).exit_code == 0  # without --verify nothing is checked


def test_people_discuss_a_poll_and_a_ballot_takes_no_reply(people: tuple[Someone, Someone, Someone]) -> None:
    alice, bob, me = people
    poll = alice.json("poll", "create", "Lunch?", "--option", "noon", "--option", "one", "--closes", "2h")["id"]
    ballot = bob.json("poll", "vote", poll, "1")["id"]
    reply = bob.json("post", "why noon?", "--reply-to", poll[:12])["id"]
    me.ok("react", poll, "👍")
    thread = me.json("thread", poll)
    assert thread["root"]["item"]["message"]["id"] == poll and thread["size"] == 1
    assert [c["item"]["message"]["id"] for c in thread["root"]["children"]] == [reply]
    assert thread["root"]["item"]["counts"] == {"replies": 1, "reactions": 1, "boosts": 0}
    shown = me.ok("thread", poll).stdout
    assert "Poll: Lunch?" in shown and "why noon?" in shown
    refused = me.run("post", "an answer", "--reply-to", ballot)
    assert refused.exit_code == 1 and "that is a ballot: only posts, polls and meetups take replies" in refused.stderr
