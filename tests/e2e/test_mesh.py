"""Relay through real servers, ids before bodies: in a full mesh each server receives each body once (its own
counters say so), a relay that was down in the middle of a chain gets and passes on everything once it is back,
and the id of a post to ``inside`` never crosses the link to a server outside that audience."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import ServerProcess, stored_ids, together, wait_for
from tests.e2e.proxies import Proxy
from tests.e2e.test_metrics import scrape
from tests.e2e.test_scopes import cli, peer
from tests.e2e.test_three_servers import settled
from tests.e2e.two_servers import member, mesh, servers, trust

pytestmark = pytest.mark.timeout(300)
# Scheduled repair off: what arrives came by push and pull, ids first.
CONFIG = {"repair_interval_seconds": 0, "metrics": True}


def holds(proc: ServerProcess, ids: list[str]) -> bool:
    return set(ids) <= set(stored_ids(proc))


def test_a_full_mesh_receives_each_body_once(tmp_path: Path, procs: list[ServerProcess]) -> None:
    nodes = servers(tmp_path, procs, "a", "b", "c", "d", config=CONFIG)
    mesh(tmp_path, *nodes)
    ada = member(tmp_path, nodes[0], "ada")
    posts = [ada.json("post", f"to all four, {n}")["id"] for n in range(4)]
    wait_for(lambda: all(holds(node, posts) for node in nodes))
    wait_for(lambda: settled(*nodes))  # every offer made, every pull read: nothing more will come
    made = scrape(nodes[0].url)[("murmur_messages_stored_total", (("origin", "local"),))]  # the posts, her profile
    assert made >= len(posts)
    for node in nodes[1:]:
        counted = scrape(node.url)
        assert counted[("murmur_messages_stored_total", (("origin", "peer"),))] == made
        assert counted.get(("murmur_messages_duplicate_total", (("origin", "peer"),)), 0) == 0, node.data.name


def test_a_relay_down_in_the_middle_of_a_chain_loses_nothing(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a, b, c, d = servers(tmp_path, procs, "a", "b", "c", "d", config=CONFIG)
    together(lambda: trust(tmp_path, a, b), lambda: trust(tmp_path, b, c), lambda: trust(tmp_path, c, d))
    ada = member(tmp_path, a, "ada")
    first = ada.json("post", "before the outage")["id"]
    wait_for(lambda: holds(d, [first]))
    b.kill()
    posts = [ada.json("post", f"while b is down, {n}")["id"] for n in range(3)]
    assert not any(holds(proc, posts) for proc in (c, d))
    b.start()
    wait_for(lambda: all(holds(proc, posts) for proc in (b, c, d)))
    wait_for(lambda: settled(a, b, c, d))
    for proc in (b, c, d):
        assert sorted(stored_ids(proc)).count(posts[0]) == 1


def test_a_scoped_post_is_never_announced_outside_its_audience(tmp_path: Path, procs: list[ServerProcess]) -> None:
    a, inside, outside = servers(tmp_path, procs, "a", "inside", "outside", config=CONFIG)
    # a and outside dial each other through proxies that keep every byte, both ways
    a_to_outside, outside_to_a = Proxy("http").start(), Proxy("http").start()
    try:
        peer(a, inside, "inside", "inside")
        peer(inside, a, "a", "inside")
        peer(inside, outside, "outside")
        peer(outside, inside, "inside")
        for here, there, proxy in ((a, outside, a_to_outside), (outside, a, outside_to_a)):
            cli("peer", "add", "--data", str(here.data), there.url, "--key", there.key, "--proxy", proxy.url)
        ada = member(tmp_path, a, "ada")
        scoped = ada.json("post", "--audience", "inside", "inside only")["id"]
        public = ada.json("post", "for everyone")["id"]
        wait_for(lambda: holds(inside, [scoped, public]) and holds(outside, [public]))
        wait_for(lambda: settled(a, inside, outside))
        carried = bytes(a_to_outside.carried + outside_to_a.carried)
        assert bytes.fromhex(public) in carried or public.encode() in carried  # the capture sees what crosses
        for form in (bytes.fromhex(scoped), scoped.encode()):
            assert form not in carried
        assert scoped not in stored_ids(outside)
    finally:
        a_to_outside.stop()
        outside_to_a.stop()
