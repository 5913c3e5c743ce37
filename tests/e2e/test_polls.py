"""Polls on two real `murmur serve` processes, read with the real CLI: the same ballots reaching each server in
opposite orders (on one, before their poll) give the same figures and the same recount on both."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.harness import Person, ServerProcess, stored_ids
from tests.e2e.two_servers import bundle, deliver, signed, two_servers

pytestmark = pytest.mark.timeout(240)


def test_ballots_in_opposite_orders_give_the_same_results(tmp_path: Path, procs: list[ServerProcess]) -> None:
    servers = two_servers(tmp_path, procs, "cy")
    a, b, ada, bea, (cy,) = servers.a, servers.b, servers.ada, servers.bea, servers.others
    now = int(time.time() * 1000)
    # Open for longer than the test may run (its timeout), so "closed: False" below never depends on the load;
    # the late ballot (a second past it) stays within the future a server takes (MAX_FUTURE_SKEW_MS).
    closes = now + 300_000
    body = {"question": "Retro day?", "options": "mon\ntue\nwed", "multiple": "no", "closes": str(closes)}
    poll = signed(ada, {"kind": "poll", "body": body, "tags": [], "created_at": now - 60_000})

    def ballot(person: Person, choices: str, at: int) -> dict[str, object]:
        tags = [["target", poll["id"]], ["subject", poll["author"]]]
        return signed(person, {"kind": "ballot", "body": {"choices": choices}, "tags": tags, "created_at": at})

    ballots = [
        ballot(ada, "1", now - 50_000),
        ballot(bea, "1", now - 40_000),
        ballot(bea, "2", now - 30_000),  # Bea changed her mind: this one counts
        ballot(cy, "3", now - 20_000),
        ballot(cy, "1", closes + 1000),  # after the close: never counts
    ]
    # a: the poll first, then the ballots oldest first; b: the ballots newest first, then the poll.
    path = bundle(tmp_path / "a.jsonl", poll, *ballots)
    to_a = bea.run("import", "--data", str(a.data), str(path), "--json", check=False)
    assert to_a.returncode == 1  # the late ballot is refused, seen against its poll; the rest are stored
    assert (json.loads(to_a.stdout)["stored"], json.loads(to_a.stdout)["refused"]) == (5, 1)
    assert deliver(bea, b, tmp_path / "b1.jsonl", *reversed(ballots))["stored"] == 5  # waiting for their poll
    assert deliver(bea, b, tmp_path / "b2.jsonl", poll)["stored"] == 1
    assert poll["id"] in stored_ids(a) and poll["id"] in stored_ids(b)

    expected = {
        "options": [{"text": "mon", "votes": 1}, {"text": "tue", "votes": 1}, {"text": "wed", "votes": 1}],
        "voters": 3,
        "closed": False,
    }
    for person in (ada, bea):
        found = person.json("poll", "results", poll["id"], "--verify")
        assert {k: found[k] for k in expected} == expected
        assert found["recount"] == expected and found["agrees"] is True and found["invalid"] == 0
