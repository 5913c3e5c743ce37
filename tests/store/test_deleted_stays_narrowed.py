"""A deleted message's id stays narrowed: a local or scoped post that arrives after its author's delete is not
stored, yet what names it (a reply, a reaction, the delete itself), held before or still to come, goes no
further than the post could have, in either arrival order."""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from pathlib import Path
from typing import Any

import orjson
import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, trust
from murmur.store.audience import for_anyone, for_peers, from_peer
from murmur.store.peers import add_peer, outbound
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


def signed_for(author: Identity, kind: str, body: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return sign_draft(author, {"kind": kind, "created_at": T0 + 1, "body": body, "tags": [["target", target["id"]]]})


async def test_what_signs_a_deleted_posts_audience_stays_narrowed_one_hop_on(
    store: Store, tmp_path: Path, fresh_database: Callable[[], str | None]
) -> None:
    """H holds a scoped post, a reaction and a boost about it, then its delete: H's inside peer B never sees the
    post, yet what H sends it signs the post's audience, so on B it goes no further than the post could."""
    ada, bob = Identity.generate(), Identity.generate()
    h_server, b_key, out_key = Identity.generate(), Identity.generate().public_key, Identity.generate().public_key
    await add_peer(store, b_key, "http://b.test")
    await trust.set_labels(store, h_server, b_key, ["inside"])
    scoped = post(ada, "inside only", "scope:inside")
    about = [
        signed_for(bob, "reaction", {"emoji": "+1", "visibility": "scope:inside"}, scoped),
        signed_for(bob, "boost", {"visibility": "scope:inside"}, scoped),
        signed_for(ada, "delete", {"visibility": "scope:inside"}, scoped),
    ]
    await store.ingest([scoped, *about[:2]])
    await store.ingest(about[2:])
    page = await outbound(store, after=0, limit=100, exclude_origin=None, to=b_key)
    sent = [raw for _, raw in page.entries]
    assert {orjson.loads(raw)["id"] for raw in sent} == {m["id"] for m in about}
    b = await Store.open(tmp_path / "b.db", database=fresh_database())
    try:
        await add_peer(b, out_key, "http://out.test")
        results = await b.ingest(sent, origin="peer", policy=from_peer(frozenset({"inside"})))
        assert [r.status for r in results] == ["stored"] * 3
        ids = {m["id"] for m in about}
        assert not ids & await seen_by(b, for_anyone("m"))
        assert not ids & await seen_by(b, for_peers("m"), out_key)
    finally:
        await b.close()


@pytest.mark.parametrize("kind", ["reaction", "boost", "delete"])
async def test_a_reaction_boost_or_delete_may_sign_a_narrower_audience_and_nothing_else(
    store: Store, kind: str
) -> None:
    ada = Identity.generate()
    target = post(ada, "mine", "scope:inside")
    extra = {"emoji": "+1"} if kind == "reaction" else {}
    good = signed_for(ada, kind, {**extra, "visibility": "scope:inside"}, target)
    bad = signed_for(ada, kind, {**extra, "visibility": "everyone"}, target)
    await store.ingest([target])
    results = await store.ingest([good, bad])
    assert [r.status for r in results] == ["stored", "refused"]
    assert results[1].code == "bad_value"
    local = signed_for(ada, kind, {**extra, "visibility": "local"}, post(ada, "other"))
    [from_peer_result] = await store.ingest([local], origin="peer", policy=from_peer(frozenset({"inside"})))
    assert from_peer_result.code == "local_from_peer"
