"""How arrivals are cut into batches, and their order, never changes what narrows a message: a reply in a scoped
thread, its delete and a public-signed reaction to the reply leave the reaction scoped whatever the batching, as
when they arrive one at a time in the order they were written. A removed or never-stored id keeps the scope it
would have had (murmur.store.audience.narrowing, the ``unheld`` table)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import permutations, product
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, trust
from murmur.store.audience import for_peers
from murmur.store.moderation import remove
from murmur.store.peers import add_peer
from tests.identity_logs import LAPTOP, PHONE, Log
from tests.store.test_deleted_stays_narrowed import delete, seen_by
from tests.sync.test_scopes import post, reaction


def batchings(count: int) -> Iterator[list[list[int]]]:
    """Every order of ``count`` arrivals, cut into consecutive batches in every way."""
    for order in permutations(range(count)):
        for cuts in product((False, True), repeat=count - 1):
            batches, current = [], [order[0]]
            for index, cut in zip(order[1:], cuts, strict=True):
                if cut:
                    batches.append(current)
                    current = []
                current.append(index)
            yield [*batches, current]


async def _outside(store: Store) -> str:
    outside = Identity.generate().public_key
    await add_peer(store, outside, "http://out.test")
    await trust.set_labels(store, Identity.generate(), outside, ["outside"])
    return outside


def _thread(visibility: str = "scope:inside") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    ada, bob, cy = Identity.generate(), Identity.generate(), Identity.generate()
    scoped = post(ada, "not for everyone", visibility)
    reply = post(bob, "a public-signed reply", parent=scoped)
    react = reaction(cy, reply)
    return [scoped, reply, delete(bob, reply), react], react


async def _scopes(store: Store, msg_id: str) -> set[str]:
    """The scopes of ``msg_id`` here, ``local`` among them when it stays here."""
    key = (bytes.fromhex(msg_id),)
    rows = await store.conn.execute_fetchall("SELECT scope FROM scoped WHERE id = ?", key)
    confined = await store.conn.execute_fetchall("SELECT 1 FROM confined WHERE id = ?", key)
    return {str(row[0]) for row in rows} | ({"local"} if confined else set())


async def _arrive(store: Store, arrivals: Sequence[dict[str, Any]], batches: list[list[int]]) -> None:
    for batch in batches:
        await store.ingest([arrivals[index] for index in batch])


async def test_a_reply_and_its_delete_in_one_batch_still_scope_what_names_the_reply(store: Store) -> None:
    outside = await _outside(store)
    (scoped, reply, gone, react), _ = _thread()
    await store.ingest([scoped, reply, gone])
    await store.ingest([react])
    assert react["id"] not in await seen_by(store, for_peers("m"), outside)
    assert await _scopes(store, react["id"]) == {"inside"}


@pytest.mark.parametrize("visibility", ["scope:inside", "local"])
async def test_every_batching_of_a_thread_narrows_as_one_at_a_time(store: Store, visibility: str) -> None:
    outside = await _outside(store)
    arrivals, react = _thread(visibility)
    await _arrive(store, arrivals, [[0], [1], [2], [3]])
    expected = await _scopes(store, react["id"])
    assert expected == {"inside" if visibility == "scope:inside" else "local"}
    for batches in batchings(len(arrivals)):
        arrivals, react = _thread(visibility)
        await _arrive(store, arrivals, batches)
        assert await _scopes(store, react["id"]) == expected, batches
        assert await _scopes(store, arrivals[1]["id"]) == expected, batches  # the reply's id keeps its scope
        assert react["id"] not in await seen_by(store, for_peers("m"), outside), batches


async def test_a_reply_a_moderator_removed_before_its_thread_arrived_keeps_its_scope(store: Store) -> None:
    outside = await _outside(store)
    for comes_back in (False, True):
        (scoped, reply, _, react), _ = _thread()
        await store.ingest([reply])
        await remove(store, reply["id"], "spam")
        if comes_back:  # refused again: its id keeps what it names all the same
            await store.ingest([reply])
        await store.ingest([scoped])
        await store.ingest([react])
        assert await _scopes(store, react["id"]) == {"inside"}, comes_back
        assert react["id"] not in await seen_by(store, for_peers("m"), outside)


async def test_a_reply_set_aside_by_its_identitys_log_keeps_its_scope_in_either_order(store: Store) -> None:
    """A reply from a removed device is set aside as it arrives (not held): what names it is narrowed by its thread
    all the same, as when it was held first and set aside after."""
    outside = await _outside(store)
    for thread_first in (False, True):
        made, ada = Log(), Identity.generate()
        made.add(LAPTOP, PHONE, "phone")
        made.remove(LAPTOP, PHONE)
        await store.ingest(made.events)
        scoped = post(ada, "inside only", "scope:inside")
        tags = [["identity", made.identity], ["reply", scoped["id"]], ["root", scoped["id"]]]
        draft = {"kind": "post", "body": {"text": "from the removed phone"}, "tags": tags}
        reply = sign_draft(PHONE, draft, created_at=made.at + 1000)
        react = reaction(ada, reply)
        arrivals = [scoped, reply] if thread_first else [reply, scoped]
        for message in arrivals:
            await store.ingest([message])
        assert (await store.ingest([reply]))[0].code == "device_removed"
        await store.ingest([react])
        assert await _scopes(store, react["id"]) == {"inside"}, thread_first
        assert react["id"] not in await seen_by(store, for_peers("m"), outside)
