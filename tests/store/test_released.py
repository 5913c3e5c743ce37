"""What the push cursor passed while the audience rule kept it from a peer goes once the rule lets it
(murmur.store.passed): whatever changed what the rule reads (a confirmation, a parent stored again, a label),
the message is released to that peer, once, through the same rule, and the repair set follows."""

from __future__ import annotations

import pytest

from murmur.keys import Identity
from murmur.store import Store, trust
from murmur.store.ingest import remove_messages
from murmur.store.peers import (
    Peer,
    forget_released,
    get_peer,
    outbound,
    queued,
    record_success,
    released,
    set_push_cursor,
)
from murmur.sync.index import index_for
from tests.store.test_narrowing_travels import Network, about, acknowledge, delete, network
from tests.sync.test_scopes import post

__all__ = ["network"]  # the fixture, used by name


async def peer_of(store: Store, key: str) -> Peer:
    peer = await get_peer(store, key)
    assert peer is not None
    return peer


async def push_log(store: Store, key: str) -> set[str]:
    """What a push of the whole log hands the peer now, the cursor moving past it (as the federator does)."""
    peer = await peer_of(store, key)
    page = await outbound(store, after=peer.push_cursor, limit=1000, exclude_origin=peer.origin, to=key)
    await record_success(store, key, push_cursor=page.next_cursor, passed_over=page.passed)
    return {item.hex() for item in page.ids}


async def push_released(store: Store, key: str) -> set[str]:
    """What the pusher sends before the next page of the log: what the rule now lets go that the cursor passed."""
    peer = await peer_of(store, key)
    page = await released(store, peer, 1000)
    await forget_released(store, peer, page.ids)
    return {item.hex() for item in page.ids}


async def in_repair_set(store: Store, key: str, msg_id: str) -> bool:
    index = index_for(store, await peer_of(store, key))
    return bytes.fromhex(msg_id) in {item for _, item in (await index.current()).items}


async def held_back_from_inside(store: Store, net: Network) -> tuple[dict[str, object], dict[str, object]]:
    """A scoped post, deleted, and a public-signed reaction to it: the push cursor passes the reaction, kept from
    the inside peer (which never confirmed the post) and from the outside one."""
    _, inside, outside = net
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    reaction = about(bob, "reaction", scoped)
    await store.ingest([scoped, delete(ada, scoped)])
    await store.ingest([reaction])
    for key in (inside.public_key, outside):
        assert reaction["id"] not in await push_log(store, key)
    assert not await in_repair_set(store, inside.public_key, reaction["id"])
    return scoped, reaction


async def test_a_confirmation_arriving_after_the_cursor_passed_releases_the_message_once(
    store: Store, network: Network
) -> None:
    _, inside, outside = network
    scoped, reaction = await held_back_from_inside(store, network)
    assert await push_released(store, inside.public_key) == set()  # nothing changed: nothing goes
    assert await queued(store, await peer_of(store, inside.public_key)) == 0
    await acknowledge(store, inside, str(scoped["id"]), "deleted", "deleted")
    assert await in_repair_set(store, inside.public_key, str(reaction["id"]))
    assert await queued(store, await peer_of(store, inside.public_key)) == 1  # what `murmur peer list` shows
    assert await push_released(store, inside.public_key) == {reaction["id"]}
    assert await queued(store, await peer_of(store, inside.public_key)) == 0
    assert await push_released(store, inside.public_key) == set()  # once
    assert await push_log(store, inside.public_key) == set()
    assert await push_released(store, outside) == set()  # a confirmation by one peer says nothing of another


async def test_a_parent_stored_again_releases_what_leans_on_it(store: Store, network: Network) -> None:
    """A scoped post set aside (an identity's log refused its device: removed, not deleted) and stored again once
    the log no longer refuses it: the public-signed reply the cursor passed meanwhile goes with it, to its scope."""
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    reply = about(bob, "reply", scoped)
    await store.ingest([scoped])
    async with store.writer.transaction() as conn:
        await remove_messages(conn, [bytes.fromhex(str(scoped["id"]))])
    await store.ingest([reply])
    assert reply["id"] not in await push_log(store, inside.public_key)
    await store.ingest([scoped])
    assert await in_repair_set(store, inside.public_key, str(reply["id"]))
    assert await push_released(store, inside.public_key) == {reply["id"]}
    assert await push_log(store, inside.public_key) == {scoped["id"]}
    assert await push_released(store, outside) == set()
    assert not {scoped["id"], reply["id"]} & await push_log(store, outside)


@pytest.mark.parametrize("add", [True, False])
async def test_a_label_given_after_the_cursor_passed_releases_the_scope(
    store: Store, network: Network, add: bool
) -> None:
    server, _, outside = network
    ada = Identity.generate()
    scoped, public = post(ada, "inside only", "scope:inside"), post(ada, "everyone")
    two = post(ada, "inside and team", "scope:team", parent=scoped)
    await store.ingest([scoped, public, two])
    assert await push_log(store, outside) == {public["id"]}
    await trust.set_labels(store, server, outside, ["inside"], add=add)
    assert await push_released(store, outside) == {scoped["id"]}  # not the one also in a scope it lacks
    assert await push_released(store, outside) == set()
    await trust.set_labels(store, server, outside, ["team"], add=True)
    assert await push_released(store, outside) == {two["id"]}


async def test_what_is_removed_or_given_up_waits_for_no_one(store: Store, network: Network) -> None:
    _, inside, _ = network
    scoped, reaction = await held_back_from_inside(store, network)
    async with store.writer.transaction() as conn:
        await remove_messages(conn, [bytes.fromhex(str(reaction["id"]))])
    await acknowledge(store, inside, str(scoped["id"]), "deleted", "deleted")
    assert await push_released(store, inside.public_key) == set()
    rows = await store.conn.execute_fetchall("SELECT count(*) FROM passed_over")
    assert rows[0][0] == 0


async def test_moving_the_cursor_past_nothing_sent_keeps_what_waits(store: Store, network: Network) -> None:
    """A page with nothing for the peer moves the cursor without a push (set_push_cursor): what it kept from
    the peer is kept aside all the same."""
    _, inside, _ = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    reaction = about(bob, "reaction", scoped)
    await store.ingest([scoped, delete(ada, scoped)])
    peer = await peer_of(store, inside.public_key)
    first = await outbound(store, after=0, limit=1000, exclude_origin=peer.origin, to=inside.public_key)
    await record_success(store, inside.public_key, push_cursor=first.next_cursor, passed_over=first.passed)
    await store.ingest([reaction])
    page = await outbound(store, after=first.next_cursor, limit=1000, exclude_origin=peer.origin, to=peer.key)
    assert not page.entries and page.passed == [bytes.fromhex(str(reaction["id"]))]
    await set_push_cursor(store, inside.public_key, page.next_cursor, page.passed)
    await acknowledge(store, inside, str(scoped["id"]), "deleted", "deleted")
    assert await push_released(store, inside.public_key) == {reaction["id"]}
