"""A delete signed public (by a client that did not know) of a scoped post: it reaches the peers that confirmed the
post, by a push's answer or, for a peer that only pulls, by the receipt it sends back for the scoped post it took;
to a peer that never confirmed the post it is held back, and its author is told why."""

from __future__ import annotations

from murmur.store import trust
from murmur.store.audience import HELD_BACK
from tests.federation.conftest import Network, Node
from tests.sync.test_receipts import delete, post


async def _inside(net: Network, **modes: str) -> tuple[Node, Node]:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b, **modes)
    await trust.set_labels(a.state.store, a.state.identity, b.key, ["inside"])
    await trust.set_labels(b.state.store, b.state.identity, a.key, ["inside"])
    return a, b


async def test_a_pulling_peer_confirms_a_scoped_post_so_its_public_signed_delete_follows(net: Network) -> None:
    a, b = await _inside(net, a_mode="serve-only", b_mode="pull-only")
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    await ada_api.publish(scoped)
    await b.pull(a)  # b took it, and answered with its signed receipt
    assert await b.state.store.get_raw(scoped["id"]) is not None
    answer = await ada_api.publish(delete(ada, scoped))
    assert answer["held_back"]["code"] == HELD_BACK  # it goes only where the post was confirmed: to b
    await b.pull(a)
    assert await b.state.store.get_raw(scoped["id"]) is None  # the delete came: b no longer shows the post
    [peer] = (await ada_api.delete_status(scoped["id"]))["peers"]
    assert (peer["key"], peer["status"]) == (b.key, "confirmed")


async def test_a_public_signed_delete_of_a_post_no_peer_confirmed_is_held_back_and_says_why(net: Network) -> None:
    a, b = await _inside(net)
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    await ada_api.publish(scoped)
    answer = await ada_api.publish(delete(ada, scoped))  # before any push: b never had the post
    assert answer["held_back"]["code"] == HELD_BACK
    await a.push(b)
    await b.pull(a)
    assert await b.state.store.get_raw(answer["id"]) is None
    status = await ada_api.delete_status(scoped["id"])
    assert status["peers"] == [] and status["held_back"]["code"] == HELD_BACK
