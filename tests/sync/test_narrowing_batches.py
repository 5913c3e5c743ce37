"""A reply in a scoped thread and its delete, arriving in one batch, still narrow what later names the reply: a
public-signed reaction to it never reaches the outside server, by push, pull or repair."""

from __future__ import annotations

from tests.federation.conftest import Network
from tests.store.test_deleted_stays_narrowed import delete
from tests.sync.test_scopes import _three, ids_of, post, reaction


async def test_what_names_a_reply_deleted_in_its_threads_batch_stays_inside(net: Network) -> None:
    a, b, c = await _three(net)
    ada, bob = await a.member(), await a.member()
    scoped = post(ada[0], "inside only", "scope:inside")
    reply = post(bob[0], "a public-signed reply", parent=scoped)
    await a.state.store.ingest([scoped, reply, delete(bob[0], reply)])
    react = reaction(ada[0], reply)  # from a client that signs it public
    await a.state.store.ingest([react])
    assert react["id"] in await ids_of(a.state.store)

    await a.push(c)
    await c.pull(a)
    assert (await c.federator.repair(await c.peer(a))).error == ""
    await a.push(b)
    await b.push(c)
    await c.pull(b)
    assert (await c.federator.repair(await c.peer(b))).error == ""
    assert react["id"] not in await ids_of(c.state.store)
