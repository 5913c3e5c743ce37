"""A peer relaying a message beyond its audience is caught by the next server, which refuses it with a reason and
records it against that peer (issue 18): a message naming a post this server holds as local, or in a scope it does
not label the peer with, whatever the message signs itself (``public``, by an older client). Every kind that names
a message: what matters is what it names, not what it is."""

from __future__ import annotations

import pytest

from murmur.keys import Identity
from murmur.store import Store, trust
from murmur.store.audience import OUT_OF_AUDIENCE, from_peer
from tests.store.test_narrowing_travels import about
from tests.sync.test_scopes import post

KINDS = ["reply", "reaction", "boost", "delete"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("visibility", ["scope:inside", "local"])
async def test_a_peer_not_in_a_scope_relaying_a_public_signed_message_into_that_scope_is_refused(
    store: Store, visibility: str, kind: str
) -> None:
    ada, mallory, outsider = Identity.generate(), Identity.generate(), Identity.generate().public_key
    scoped = post(ada, "inside only", visibility)
    await store.ingest([scoped])
    relayed = about(ada if kind == "delete" else mallory, kind, scoped)  # signed public, as an older client does
    [result] = await store.ingest([relayed], origin=f"peer:{outsider}", policy=from_peer(frozenset({"outside"})))
    assert (result.status, result.code) == ("refused", OUT_OF_AUDIENCE), result
    assert await store.get(relayed["id"]) is None
    assert await trust.note_refusals(store, outsider, [result]) == 1
    count, reason = (await trust.refusals_by_peer(store))[outsider]
    assert count == 1 and ("local" in reason if visibility == "local" else "'inside'" in reason), reason
    if kind == "delete":
        assert await store.get(scoped["id"]) is not None, "a refused delete deletes nothing"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_peer_in_the_scope_or_a_public_thread_is_not_refused(store: Store, kind: str) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    scoped, public = post(ada, "inside only", "scope:inside"), post(ada, "for all", "public")
    await store.ingest([scoped, public])
    inside = about(ada if kind == "delete" else bob, kind, scoped)
    [result] = await store.ingest([inside], origin="peer:in", policy=from_peer(frozenset({"inside"})))
    assert result.status in ("stored", "deleted"), result
    anyone = about(ada if kind == "delete" else bob, kind, public)
    [result] = await store.ingest([anyone], origin="peer:out", policy=from_peer(frozenset({"outside"})))
    assert result.status in ("stored", "deleted"), result
