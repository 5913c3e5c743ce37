"""The timeline and thread answers are the same on both engines (items, counts, order, cursors, names), and on
PostgreSQL cost the round trips they must: the caller's membership, the page (its window and counts in one
statement), then what the page names (display names, shared names, withheld notices) together, in one pipeline
(murmur/store/postgres.py ``ReadPool``). A round trip is a wake of a backend, which waits for a core on a loaded
machine: docs/performance.md, "Round trips"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.pg_round_trips import RoundTrips, counting
from tests.postgres_server import PostgresServer
from tests.server.conftest import Harness, serving

T0 = 1_700_000_000_000
PEOPLE = {name: Identity.from_seed(bytes([seed]) * 32) for seed, name in enumerate(("ann", "bob", "cyd"), 21)}
SERVER = Identity.from_seed(bytes([20]) * 32)


def _messages() -> list[tuple[str, dict[str, Any]]]:
    """Who publishes what: follows, names two people share, a thread with replies below replies, reactions, a
    boost and enough posts for a second page."""
    ann, bob, cyd = PEOPLE["ann"], PEOPLE["bob"], PEOPLE["cyd"]
    at = iter(range(T0, T0 + 10_000_000, 1000))

    def signed(who: Identity, kind: str, body: dict[str, Any], tags: list[list[str]]) -> dict[str, Any]:
        return sign_draft(who, {"kind": kind, "body": body, "tags": tags}, created_at=next(at))

    out = [
        ("ann", signed(ann, "follow", {}, [["subject", bob.public_key]])),
        ("bob", signed(bob, "profile", {"name": "Bo"}, [])),
        ("cyd", signed(cyd, "profile", {"name": "bo"}, [])),
    ]
    root = signed(bob, "post", {"text": "root"}, [["mention", cyd.public_key]])
    out.append(("bob", root))
    reply = signed(ann, "post", {"text": "first reply"}, [["reply", root["id"]], ["root", root["id"]]])
    out.append(("ann", reply))
    out.append(("cyd", signed(cyd, "post", {"text": "below"}, [["reply", reply["id"]], ["root", root["id"]]])))
    out += [(who, signed(PEOPLE[who], "reaction", {"emoji": "+1"}, [["target", root["id"]]])) for who in ("ann", "cyd")]
    out.append(("ann", signed(ann, "boost", {}, [["target", root["id"]]])))
    out += [("bob", signed(bob, "post", {"text": f"number {n}"}, [])) for n in range(60)]
    out.append(("cyd", signed(cyd, "post", {"text": "not followed"}, [])))
    return out


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    return counting(monkeypatch)


async def _filled(harness: Harness) -> tuple[dict[str, MurmurClient], str]:
    clients = {name: await harness.member(identity) for name, identity in PEOPLE.items()}
    root = ""
    for who, message in _messages():
        await clients[who].publish(message)
        if message["body"].get("text") == "root":
            root = message["id"]
    return clients, root


@pytest.fixture
async def engines(
    tmp_path: Path, postgres: PostgresServer, migrated: Callable[[Path], None]
) -> AsyncIterator[dict[str, tuple[dict[str, MurmurClient], str]]]:
    migrated(tmp_path / "server.db")
    url = postgres.new_database()
    try:
        async with AsyncExitStack() as stack:
            lite = await stack.enter_async_context(serving(tmp_path / "server.db", None, SERVER))
            pg = await stack.enter_async_context(serving(tmp_path / "unused.db", url, SERVER))
            yield {"sqlite": await _filled(lite), "postgresql": await _filled(pg)}
    finally:
        postgres.release(url)


async def _answers(clients: dict[str, MurmurClient], root: str) -> dict[str, Any]:
    ann = clients["ann"]
    first = await ann.timeline("home", limit=50)
    return {
        "home": first,
        "home_page2": await ann.timeline("home", limit=50, before=first["next_cursor"]),
        "thread": await ann.thread(root),
        "local": await ann.timeline("local", limit=10),
        "federated": await ann.timeline("federated", limit=10),
    }


async def test_timelines_and_threads_answer_alike_on_both_engines(
    engines: dict[str, tuple[dict[str, MurmurClient], str]],
) -> None:
    lite, pg = [await _answers(*engines[e]) for e in ("sqlite", "postgresql")]
    assert lite == pg
    home = lite["home"]
    assert len(home["items"]) == 50 and home["next_cursor"]
    assert home["shared_names"] == [PEOPLE["bob"].public_key]  # "Bo" and "bo": cyd is not on this page
    assert lite["thread"]["shared_names"] == sorted([PEOPLE["bob"].public_key, PEOPLE["cyd"].public_key])
    assert lite["thread"]["size"] == 2
    boosted = [i for i in home["items"] + lite["home_page2"]["items"] if i.get("boosted_by")]
    assert boosted and boosted[0]["counts"] == {"replies": 1, "reactions": 2, "boosts": 1}


async def test_a_timeline_and_a_thread_cost_their_round_trips_on_postgresql(
    engines: dict[str, tuple[dict[str, MurmurClient], str]], trips: RoundTrips
) -> None:
    clients, root = engines["postgresql"]
    ann = clients["ann"]
    await _answers(clients, root)  # every statement prepared once
    trips.count = 0
    await ann.timeline("home", limit=50)
    # the caller, the page (window and counts), what it names (names, shared names, withheld)
    assert trips.count == 3
    trips.count = 0
    await ann.thread(root)
    # the caller, the asked message's root with the root and its replies, their items, what they name and who
    # wrote them, the gaps of those authors
    assert trips.count == 5
