"""A delete reaches every peer that signed it holds the message, whatever the audience rule says of that peer now
(murmur.store.audience.delivery): a peer labelled `inside` that stored an inside post and then lost its label
still gets the author's delete, and `murmur delete ID --status` (``receipts.owed``) lists it. Only deletes: what
else names the post (an edit, a reaction) carries words the peer is no longer trusted with."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import signed
from murmur.store import Store, receipts, trust
from murmur.store.peers import add_peer, outbound
from tests.store.test_narrowing_travels import about
from tests.sync.test_scopes import T0, post


async def _sent(store: Store, peer: str) -> set[str]:
    page = await outbound(store, after=0, limit=1000, exclude_origin=None, to=peer)
    return {bytes(i).hex() for i in page.ids}


def deleting(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    draft = {"kind": "delete", "created_at": T0 + 9, "body": {"visibility": target["body"]["visibility"]}}
    return sign_draft(author, {**draft, "tags": [["target", target["id"]]]})


@pytest.mark.parametrize("status", ["stored", "duplicate"])
async def test_a_delete_reaches_a_peer_that_confirmed_the_post_after_the_peer_lost_its_label(
    store: Store, status: str
) -> None:
    ada, x, admin = Identity.generate(), Identity.generate(), Identity.generate()
    other = Identity.generate().public_key  # never held the post, never labelled inside
    for key in (x.public_key, other):
        await add_peer(store, key, f"http://{key[:6]}.test")
    await trust.set_labels(store, admin, x.public_key, ["inside"])
    scoped = post(ada, "inside only", "scope:inside")
    await store.ingest([scoped])
    assert scoped["id"] in await _sent(store, x.public_key)
    line = signed(x, {"id": scoped["id"], "status": status, "code": "", "reason": ""})
    await receipts.note(store, x.public_key, {scoped["id"]}, [line])
    await trust.set_labels(store, admin, x.public_key, ["outside"])
    reaction = about(Identity.generate(), "reaction", scoped, "scope:inside")
    gone = deleting(ada, scoped)
    await store.ingest([reaction])
    await store.ingest([gone])
    owed = {key for key, _ in await receipts.owed(store, gone["id"])}
    assert owed == {x.public_key}, "delete --status lists the peer that holds the post, and only it"
    assert gone["id"] in await _sent(store, x.public_key), "the delete goes to the peer that holds the post"
    assert reaction["id"] not in await _sent(store, x.public_key), "only a delete: a reaction carries words"
    assert gone["id"] not in await _sent(store, other)


async def test_a_refusal_is_not_holding(store: Store) -> None:
    """A peer that refused the post (for its audience, or any reason) holds nothing the delete should take."""
    ada, x, admin = Identity.generate(), Identity.generate(), Identity.generate()
    await add_peer(store, x.public_key, "http://x.test")
    await trust.set_labels(store, admin, x.public_key, ["inside"])
    scoped = post(ada, "inside only", "scope:inside")
    await store.ingest([scoped])
    line = signed(x, {"id": scoped["id"], "status": "refused", "code": "policy", "reason": "no"})
    await receipts.note(store, x.public_key, {scoped["id"]}, [line])
    await trust.set_labels(store, admin, x.public_key, ["outside"])
    gone = deleting(ada, scoped)
    await store.ingest([gone])
    assert gone["id"] not in await _sent(store, x.public_key)
