"""A deleted message's id stays narrowed: a local or scoped post that arrives after its author's delete is not
stored, yet what names it (a reply, a reaction, the delete itself), held before or still to come, goes no
further than the post could have, in either arrival order."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, trust
from murmur.store.audience import for_anyone, for_peers
from murmur.store.peers import add_peer
from tests.sync.test_scopes import T0, post, reaction


def delete(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    return sign_draft(author, {"kind": "delete", "created_at": T0 + 5, "body": {}, "tags": [["target", target["id"]]]})


async def seen_by(store: Store, condition: str, peer: str | None = None) -> set[str]:
    params = {"peer": bytes.fromhex(peer)} if peer else {}
    async with store.conn.execute(f"SELECT m.id FROM messages m WHERE {condition}", params) as cursor:
        return {bytes(r[0]).hex() for r in await cursor.fetchall()}


@pytest.mark.parametrize("visibility", ["local", "scope:inside"])
@pytest.mark.parametrize("order", list(permutations(range(4))))
async def test_a_post_arriving_deleted_still_narrows_what_names_it(
    store: Store, visibility: str, order: tuple[int, ...]
) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    server, outside = Identity.generate(), Identity.generate().public_key
    await add_peer(store, outside, "http://out.test")
    await trust.set_labels(store, server, outside, ["outside"])
    narrow = post(ada, "not for everyone", visibility)
    about = [post(bob, "a public-signed reply", parent=narrow), reaction(bob, narrow), delete(ada, narrow)]
    arrivals = [narrow, *about]
    for index in order:  # one message per batch, in every order
        await store.ingest([arrivals[index]])
    names_it = {m["id"] for m in about}
    assert not names_it & await seen_by(store, for_anyone("m"))
    assert not names_it & await seen_by(store, for_peers("m"), outside)
    assert narrow["id"] not in await seen_by(store, "TRUE")


async def test_a_post_deleted_in_its_own_batch_still_narrows_what_names_it(store: Store) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    react = reaction(bob, scoped)
    await store.ingest([scoped, delete(ada, scoped)])
    await store.ingest([react])
    assert react["id"] not in await seen_by(store, for_anyone("m"))
