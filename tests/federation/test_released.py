"""The pusher sends what its cursor passed while the audience rule kept it from the peer, as soon as the rule
lets it (murmur.store.passed), offered like any page: a confirmation by the peer wakes it, a label given to the
peer releases the scope's history, and nothing the peer holds is sent again."""

from __future__ import annotations

from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import signed
from murmur.server.federation.answers import heard
from murmur.server.federation.federator import Federator
from murmur.store import trust
from tests.federation.conftest import Network, Node
from tests.federation.test_offers import record
from tests.store.test_narrowing_travels import about, delete
from tests.sync.test_scopes import post


async def inside_pair(net: Network) -> tuple[Node, Node]:
    a, inside = await net.node("a"), await net.node("inside")
    await net.link(a, inside)
    await trust.set_labels(a.state.store, a.state.identity, inside.key, ["inside"])
    await trust.set_labels(inside.state.store, inside.state.identity, a.key, ["inside"])
    return a, inside


async def held_back(a: Node) -> tuple[dict[str, Any], dict[str, Any]]:
    """On ``a``: a scoped post, its delete, and a public-signed reaction to it from a client that did not know."""
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    reaction = about(bob, "reaction", scoped)
    await a.state.store.ingest([scoped, delete(ada, scoped)])
    await a.state.store.ingest([reaction])
    return scoped, reaction


async def confirm(a: Node, inside: Node, msg_id: str) -> None:
    """``inside``'s signed answer that it remembers ``msg_id``'s audience (it holds the post's delete), kept by
    ``a`` as an answer to its push is."""
    line = signed(inside.state.identity, {"id": msg_id, "status": "deleted", "code": "deleted", "reason": ""})
    assert await heard(a.state, inside.key, {msg_id}, [line]) == 1


async def test_a_confirmation_after_the_push_passed_a_message_sends_it_once(net: Network) -> None:
    a, inside = await inside_pair(net)
    seen = record(inside)
    scoped, reaction = await held_back(a)
    await a.push(inside)
    assert not await inside.has(reaction["id"])
    await confirm(a, inside, scoped["id"])
    await a.push(inside)
    assert await inside.has(reaction["id"])
    offered = seen.offered()
    await a.push(inside)
    assert seen.offered() == offered  # sent once
    assert offered.count(bytes.fromhex(reaction["id"])) == 1


async def test_the_running_pusher_wakes_on_a_confirmation(net: Network) -> None:
    """Not at its next idle look (an hour away here): when the answer is kept."""
    a, inside = await inside_pair(net)
    a.federator = Federator(
        a.state, transport_for=net.transport_for, idle_poll=3600, pull_interval=3600, repair_interval=0, linger=0
    )
    scoped, reaction = await held_back(a)
    public = sign_draft(Identity.generate(), {"body": {"text": "everyone"}})
    await a.state.store.ingest([public])
    a.federator.start()
    try:
        await inside.until_stored(lambda: inside.has(public["id"]))
        await confirm(a, inside, scoped["id"])
        await inside.until_stored(lambda: inside.has(reaction["id"]))
    finally:
        await a.federator.close()


async def test_a_label_given_after_the_push_passed_sends_the_scope(net: Network) -> None:
    a, _ = await inside_pair(net)
    other = await net.node("other")
    await net.link(a, other)
    await trust.set_labels(other.state.store, other.state.identity, a.key, ["inside"])
    ada = Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    await a.state.store.ingest([scoped])
    await a.push(other)
    assert not await other.has(scoped["id"])
    await trust.set_labels(a.state.store, a.state.identity, other.key, ["inside"])
    await a.push(other)
    assert await other.has(scoped["id"])


async def test_what_the_peer_already_holds_is_offered_not_sent(net: Network) -> None:
    """The peer had the message from elsewhere: released, it is offered, declined, and its body stays here."""
    a, inside = await inside_pair(net)
    seen = record(inside)
    scoped, reaction = await held_back(a)
    await inside.state.store.ingest([reaction])  # from another server
    await a.push(inside)
    await confirm(a, inside, scoped["id"])
    await a.push(inside)
    assert bytes.fromhex(reaction["id"]) in seen.offered()
    assert reaction["id"] not in seen.bodies()
    rows = await a.state.store.conn.execute_fetchall("SELECT count(*) FROM passed_over")
    assert rows[0][0] == 0  # nothing waits any more


async def test_a_peer_that_only_pulls_gets_what_was_released_by_its_next_pull(net: Network) -> None:
    """``a`` never dials ``inside`` (serve-only there): only inside's pulls bring it anything. The pull that passed
    the reaction while it waited keeps its id, and the next pull after the confirmation brings it, once, as the
    push would (not only the next repair)."""
    a, inside = await net.node("a"), await net.node("inside")
    await net.link(a, inside, a_mode="serve-only")
    await trust.set_labels(a.state.store, a.state.identity, inside.key, ["inside"])
    await trust.set_labels(inside.state.store, inside.state.identity, a.key, ["inside"])
    seen = record(a)
    scoped, reaction = await held_back(a)
    later = sign_draft(Identity.generate(), {"body": {"text": "after the reaction in a's log"}})
    await a.state.store.ingest([later])
    await inside.pull(a)
    assert await inside.has(later["id"]) and not await inside.has(reaction["id"])
    await confirm(a, inside, scoped["id"])
    await inside.pull(a)
    assert await inside.has(reaction["id"])
    asked = len(seen.seen)
    await inside.pull(a)
    assert len(seen.seen) == asked + 1  # one pull, nothing released again
    rows = await a.state.store.conn.execute_fetchall("SELECT count(*) FROM passed_over")
    assert rows[0][0] == 0
