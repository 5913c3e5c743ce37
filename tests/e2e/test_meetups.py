"""Meetups on two real `murmur serve` processes, read with the real CLI: RSVPs at capacity reaching each server
in different orders (on one, before their meetup; on the other one at a time) give the same places and the same
waiting list on both."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.harness import Person, ServerProcess, stored_ids
from tests.e2e.two_servers import deliver, signed, two_servers

pytestmark = pytest.mark.timeout(240)


def test_rsvps_at_capacity_in_different_orders_give_the_same_waiting_list(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    servers = two_servers(tmp_path, procs, "cy", "di", "ed")
    a, b, ada, bea, (cy, di, ed) = servers.a, servers.b, servers.ada, servers.bea, servers.others
    now = int(time.time() * 1000)
    start = now + 86_400_000
    body = {"title": "Retro picnic", "start": str(start), "end": str(start + 3_600_000), "tz": "Europe/Berlin",
            "capacity": "2"}  # fmt: skip
    meetup = signed(ada, {"kind": "meetup", "body": body, "tags": [], "created_at": now - 60_000})

    def rsvp(person: Person, answer: str, at: int) -> dict[str, object]:
        tags = [["target", meetup["id"]], ["subject", meetup["author"]]]
        return signed(person, {"kind": "rsvp", "body": {"answer": answer}, "tags": tags, "created_at": at})

    rsvps = [
        rsvp(ed, "going", now - 50_000),  # first: a place
        rsvp(bea, "going", now - 45_000),  # second: a place
        rsvp(cy, "going", now - 40_000),  # waiting, first
        rsvp(di, "going", now - 30_000),  # waiting, second
        rsvp(ada, "maybe", now - 20_000),
    ]
    # a: the meetup, then the RSVPs newest first in one batch; b: the RSVPs before their meetup, one at a time in
    # a shuffled order, then the meetup.
    assert deliver(bea, a, tmp_path / "a.jsonl", meetup, *reversed(rsvps))["stored"] == 6
    for n in (2, 0, 4, 3, 1):
        assert deliver(bea, b, tmp_path / f"b{n}.jsonl", rsvps[n])["stored"] == 1
    assert deliver(bea, b, tmp_path / "b-meetup.jsonl", meetup)["stored"] == 1
    assert meetup["id"] in stored_ids(a) and meetup["id"] in stored_ids(b)

    expected = {"id": meetup["id"], "title": "Retro picnic", "going": 2, "maybe": 1, "waiting": 2}
    for person in (ada, bea):
        [row] = [m for m in person.json("meetup", "list") if m["id"] == meetup["id"]]
        assert {k: row[k] for k in expected} == expected
    # The same people placed and waiting, in the same order, on both servers.
    seen = [dict(person.json("meetup", "show", str(meetup["id"]))["answers"]) for person in (ada, bea)]
    assert seen[0] == seen[1] == {
        "going": [ed.key, bea.key], "waiting": [cy.key, di.key], "maybe": [ada.key], "no": [],
    }  # fmt: skip
