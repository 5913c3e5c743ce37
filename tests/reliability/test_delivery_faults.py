"""Delivery under faults: real servers federating through a fault-injecting proxy, then through a partition.

After the faults stop, every server holds the same set of public messages (read from the database files,
read-only), each once, and no local post ever left its server.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from tests.reliability.conftest import ServerFactory
from tests.reliability.faultproxy import FAULTS, FaultProxy
from tests.reliability.harness import Member, Server, link, wait_until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def proxies() -> Iterator[list[FaultProxy]]:
    made: list[FaultProxy] = []
    yield made
    for proxy in made:
        proxy.close()


def chatter(members: list[Member], rng: random.Random, rounds: int, published: dict[str, str]) -> None:
    """Each member in turn posts, reacts to, boosts, deletes or follows: a bit of everything that federates."""
    seen: list[dict[str, object]] = []
    for n in range(rounds):
        member = rng.choice(members)
        roll = rng.random()
        if roll < 0.1:
            message = member.post(f"local only {n}", visibility="local")
        elif seen and roll < 0.25:
            target = rng.choice(seen)
            message = member.sign({"kind": "reaction", "body": {"emoji": "+1"}, "tags": [["target", target["id"]]]})
        elif seen and roll < 0.35:
            target = rng.choice(seen)
            message = member.sign({"kind": "boost", "body": {}, "tags": [["target", target["id"]]]})
        elif seen and roll < 0.45:
            mine = [m for m in seen if m["author"] == member.key]
            if not mine:
                continue
            message = member.sign({"kind": "delete", "body": {}, "tags": [["target", rng.choice(mine)["id"]]]})
        elif seen and roll < 0.55:
            parent = rng.choice(seen)
            message = member.sign(
                {
                    "kind": "post",
                    "body": {"text": f"reply {n}", "visibility": "public"},
                    "tags": [["reply", parent["id"]], ["root", parent["id"]]],
                }
            )
        else:
            message = member.post(f"post {n} from {member.key[:8]}")
        answer = member.publish(message)
        assert answer.status_code in (200, 201), answer.text
        published[str(message["id"])] = str(message["kind"])
        if message["kind"] == "post" and message["body"]["visibility"] == "public":  # type: ignore[index]
            seen.append(message)


MAX_ROUNDS = 300


def every_fault_injected(proxies: list[FaultProxy]) -> bool:
    injected = [kind for proxy in proxies for kind, n in proxy.counts.items() if n and kind != "pass"]
    return set(FAULTS) <= set(injected) and sum(p.counts[k] for p in proxies for k in FAULTS) >= 10


def converged(servers: list[Server]) -> bool:
    sets = [s.public_ids() for s in servers]
    return all(ids == sets[0] for ids in sets[1:])


def assert_clean(servers: list[Server]) -> None:
    for server in servers:
        rows = server.query("SELECT count(*), count(DISTINCT id) FROM messages")
        assert rows[0][0] == rows[0][1]
        # A local post is stored only where it was written.
        assert not server.query("SELECT 1 FROM messages WHERE visibility = 'local' AND origin != 'local'")
        assert server.integrity() == "ok"
        assert "Traceback" not in server.log()


def test_two_servers_converge_after_every_kind_of_fault(make_server: ServerFactory, proxies: list[FaultProxy]) -> None:
    a, b = make_server("a"), make_server("b")
    to_b = FaultProxy(b.port, seed=1).start()
    to_a = FaultProxy(a.port, seed=2).start()
    proxies += [to_a, to_b]
    link(a, b, a_url=to_a.url, b_url=to_b.url)
    rng = random.Random(7)
    ada, amy = Member(a.url).join(), Member(a.url).join()
    bob, bea = Member(b.url).join(), Member(b.url).join()
    published: dict[str, str] = {}
    for proxy in proxies:
        proxy.faulty = True
    rounds = 0
    # Chatter until the proxies have injected every kind of fault (they take kinds in turn), not for a while:
    # on a loaded machine "a while" may carry too few requests to fault.
    while not every_fault_injected(proxies):
        assert rounds < MAX_ROUNDS, f"{rounds} rounds of chatter, faults {[dict(p.counts) for p in proxies]}"
        chatter([ada, amy], rng, 5, published)
        chatter([bob, bea], rng, 5, published)
        rounds += 1
    for proxy in proxies:
        proxy.heal()
    assert wait_until(lambda: converged([a, b]), 60), (
        f"a-only {len(a.public_ids() - b.public_ids())}, b-only {len(b.public_ids() - a.public_ids())}"
    )
    assert_clean([a, b])
    injected = sum(to_a.counts.values()) + sum(to_b.counts.values()) - to_a.counts["pass"] - to_b.counts["pass"]
    assert injected >= 10, (to_a.counts, to_b.counts)
    every = set(to_a.counts) | set(to_b.counts)
    assert set(FAULTS) <= every, every
    print(f"\nfaults injected a<-b {dict(to_a.counts)}, b<-a {dict(to_b.counts)}; {len(published)} messages")
    for m in (ada, amy, bob, bea):
        m.close()


def test_partition_between_a_and_c_heals_through_b(make_server: ServerFactory, proxies: list[FaultProxy]) -> None:
    """A - B - C: cut B-C, write on both sides, heal; B relays so that A and C end with the same messages."""
    a, b, c = make_server("a"), make_server("b"), make_server("c")
    b_to_c = FaultProxy(c.port, seed=3).start()
    c_to_b = FaultProxy(b.port, seed=4).start()
    proxies += [b_to_c, c_to_b]
    link(a, b)
    link(b, c, a_url=c_to_b.url, b_url=b_to_c.url)
    ada, cat, bob = Member(a.url).join(), Member(c.url).join(), Member(b.url).join()
    published: dict[str, str] = {}
    rng = random.Random(11)
    chatter([ada], rng, 5, published)
    chatter([cat], rng, 5, published)
    assert wait_until(lambda: converged([a, b, c]), 60)

    b_to_c.partitioned = c_to_b.partitioned = True
    for _ in range(4):
        chatter([ada], rng, 6, published)
        chatter([cat], rng, 6, published)
        chatter([bob], rng, 3, published)
    assert wait_until(lambda: converged([a, b]), 60)
    assert not converged([a, c]), "the partition let messages through"

    b_to_c.heal()
    c_to_b.heal()
    assert wait_until(lambda: converged([a, b, c]), 60), (
        f"a-only {len(a.public_ids() - c.public_ids())}, c-only {len(c.public_ids() - a.public_ids())}"
    )
    assert_clean([a, b, c])
    for m in (ada, cat, bob):
        m.close()
