"""A message signed wider than its audience goes to a peer only with what narrows it (murmur.store.audience.for_peers):
a public-signed reply, reaction, boost or delete about a scoped post, from a client that did not know, would be
taken as public by a server that never held the post, and relayed to everyone from there. So it goes to a peer
with the post, or to a peer that confirmed it holds the post (signed), and to no one else: once the post is
deleted here, to no peer that never had it; and its author is told so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import signed
from murmur.store import Store, receipts, trust
from murmur.store.audience import HELD_BACK, OUT_OF_AUDIENCE, for_peers, held_back
from murmur.store.audience.adrift import CREATE_ADRIFT, FILL_ADRIFT
from murmur.store.peers import add_peer, list_peers, outbound
from murmur.store.schema import MIGRATIONS
from murmur.sync.index import index_for, visible_raws
from murmur.validate import check
from tests.schema_at import database_at
from tests.sync.test_scopes import T0, post

Network = tuple[Identity, Identity, str]  # the server, the inside peer, the outside peer's key


def about(author: Identity, kind: str, target: dict[str, Any], visibility: str | None = None) -> dict[str, Any]:
    """A message of ``kind`` about ``target``, signed ``visibility`` (None: without one, as an older client)."""
    if kind == "reply":
        return post(author, "a reply", visibility or "public", parent=target)
    body: dict[str, Any] = {"emoji": "+1"} if kind == "reaction" else {}
    if visibility is not None:
        body["visibility"] = visibility
    draft = {"kind": kind, "created_at": T0 + 1, "body": body, "tags": [["target", target["id"]]]}
    return sign_draft(author, draft)


def delete(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    draft = {"kind": "delete", "created_at": T0 + 5, "body": {"visibility": target["body"].get("visibility")}}
    return sign_draft(author, {**draft, "tags": [["target", target["id"]]]})


@pytest.fixture
async def network(store: Store) -> Network:
    server, inside, outside = Identity.generate(), Identity.generate(), Identity.generate().public_key
    for key, labels in ((inside.public_key, ["inside", "team"]), (outside, ["outside"])):
        await add_peer(store, key, f"http://{key[:6]}.test")
        await trust.set_labels(store, server, key, labels)
    return server, inside, outside


async def sent_to(store: Store, peer: str) -> set[str]:
    async with store.conn.execute(
        f"SELECT m.id FROM messages m WHERE {for_peers('m')}", {"peer": bytes.fromhex(peer)}
    ) as c:
        return {bytes(r[0]).hex() for r in await c.fetchall()}


async def acknowledge(store: Store, peer: Identity, msg_id: str, status: str, code: str = "") -> None:
    """The peer's signed answer about ``msg_id``, as a push, pull or repair brings it back."""
    line = signed(peer, {"id": msg_id, "status": status, "code": code, "reason": "because" if code else ""})
    assert await receipts.note(store, peer.public_key, {msg_id}, [line]) == 1


@pytest.mark.parametrize("kind", ["reply", "reaction", "boost", "delete"])
async def test_what_signs_wider_than_a_deleted_scoped_post_goes_to_no_peer_that_never_had_it(
    store: Store, network: Network, kind: str
) -> None:
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    wider = about(ada if kind == "delete" else bob, kind, scoped)
    await store.ingest([scoped])
    if kind != "delete":  # while the post is held it goes with it, to its audience only
        await store.ingest([wider])
        assert wider["id"] in await sent_to(store, inside.public_key)
        assert wider["id"] not in await sent_to(store, outside)
        await store.ingest([delete(ada, scoped)])
    else:
        await store.ingest([wider])
    assert await store.get_raw(scoped["id"]) is None
    assert wider["id"] not in await sent_to(store, inside.public_key)
    assert wider["id"] not in await sent_to(store, outside)
    [code, reason] = await held_back(store, check(wider)) or ("", "")
    assert code == HELD_BACK and "'inside'" in reason and "scope:inside" in reason


@pytest.mark.parametrize(
    ("status", "code", "goes"),
    [
        ("stored", "", True),
        ("duplicate", "", True),
        ("deleted", "deleted", True),
        ("refused", OUT_OF_AUDIENCE, True),
        ("refused", "bad_signature", False),
    ],
)
async def test_a_peer_that_confirmed_the_post_gets_what_names_it_after_its_delete(
    store: Store, network: Network, status: str, code: str, goes: bool
) -> None:
    """Its signed answer says it holds the post, or remembers its audience: it narrows what names it itself."""
    server, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    await store.ingest([scoped])
    await acknowledge(store, inside, scoped["id"], status, code)
    await store.ingest([delete(ada, scoped)])
    reaction = about(bob, "reaction", scoped)
    await store.ingest([reaction])
    assert (reaction["id"] in await sent_to(store, inside.public_key)) is goes
    # a confirmation by another peer says nothing of this one, and nothing widens the audience
    other = Identity.generate()
    await add_peer(store, other.public_key, "http://other.test")
    await trust.set_labels(store, server, other.public_key, ["inside"])
    assert reaction["id"] not in await sent_to(store, other.public_key)
    assert reaction["id"] not in await sent_to(store, outside)


async def test_a_narrowing_is_followed_through_a_public_signed_reply(store: Store, network: Network) -> None:
    """A reaction to an older client's public reply to a scoped post goes with the reply and the post; once the
    reply is deleted, to no peer that never had it."""
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    reply = about(bob, "reply", scoped)
    reaction = about(ada, "reaction", reply)
    await store.ingest([reaction, reply, scoped])  # in any order
    assert {reply["id"], reaction["id"]} <= await sent_to(store, inside.public_key)
    assert not {reply["id"], reaction["id"]} & await sent_to(store, outside)
    await store.ingest([delete(bob, reply)])
    assert reaction["id"] not in await sent_to(store, inside.public_key)


async def test_what_signs_its_audience_goes_to_that_audience_whatever_is_deleted(
    store: Store, network: Network
) -> None:
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    signs = [about(bob, kind, scoped, "scope:inside") for kind in ("reply", "reaction", "boost")]
    await store.ingest([scoped, *signs, delete(ada, scoped)])
    ids = {m["id"] for m in signs}
    assert ids <= await sent_to(store, inside.public_key)
    assert not ids & await sent_to(store, outside)
    assert all([await held_back(store, check(m)) is None for m in signs])
    public = post(bob, "for everyone")
    await store.ingest([public, about(ada, "reaction", public)])
    assert await held_back(store, check(about(ada, "reaction", public))) is None


async def test_every_door_to_a_peer_holds_it_back_alike(store: Store, network: Network) -> None:
    """Push and pull (outbound), a fetch by id (visible_raws), repair (its index) and a delete's owed receipts."""
    _, inside, _ = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    await store.ingest([scoped, delete(ada, scoped)])
    reaction = about(bob, "reaction", scoped)
    await store.ingest([reaction])
    page = await outbound(store, after=0, limit=100, exclude_origin=None, to=inside.public_key)
    assert reaction["id"] not in {orjson.loads(raw)["id"] for _, raw in page.entries}
    assert await visible_raws(store, [bytes.fromhex(reaction["id"])], inside.public_key) == []
    peer = next(p for p in await list_peers(store) if p.key == inside.public_key)
    assert bytes.fromhex(reaction["id"]) not in {i for _, i in (await index_for(store, peer).current()).items}
    assert inside.public_key not in {key for key, _ in await receipts.owed(store, reaction["id"])}


def chain(
    author: Identity, root: dict[str, Any], length: int, top: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """``length`` replies signed public by a client that did not know, each to the one before (the first to
    ``top``, by default the root), all in ``root``'s thread (tags reply and root, as every client signs them)."""
    replies: list[dict[str, Any]] = []
    for n in range(length):
        parent = replies[-1] if replies else (top or root)
        draft = {"created_at": T0 + n, "body": {"text": f"reply {n}", "visibility": "public"}}
        tags = [["reply", parent["id"]], ["root", root["id"]]]
        replies.append(sign_draft(author, {**draft, "tags": tags}))
    return replies


def two_scopes(author: Identity) -> tuple[dict[str, Any], dict[str, Any]]:
    """A thread of two scopes: a post to ``inside``, and a reply to it signed ``team`` (so in both). What is below
    the reply names the post as its root, which narrows it to ``inside`` alone."""
    scoped = post(author, "inside only", "scope:inside")
    return scoped, post(author, "inside and team", "scope:team", parent=scoped)


async def test_a_narrowing_is_followed_down_a_whole_chain_of_public_signed_replies(
    store: Store, network: Network
) -> None:
    """Each reply leans on the one it answers, not only on the thread's root: the whole chain goes with the post,
    to its audience; a reply deleted anywhere up the chain, in a thread of two scopes, holds back what is below it
    (the root would narrow it to one scope), until the peer confirms that reply (signed)."""
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped, head = two_scopes(ada)
    replies = chain(bob, scoped, 6, top=head)
    await store.ingest([*reversed(replies), head, scoped])  # in any order
    ids = [r["id"] for r in replies]
    assert set(ids) <= await sent_to(store, inside.public_key)
    assert not set(ids) & await sent_to(store, outside)
    assert all([await held_back(store, check(r)) is None for r in replies])

    await store.ingest([delete(bob, replies[2])])
    to_inside = await sent_to(store, inside.public_key)
    assert set(ids[:2]) <= to_inside and not set(ids[3:]) & to_inside
    [code, reason] = await held_back(store, check(replies[-1])) or ("", "")
    assert code == HELD_BACK and "'inside'" in reason and "no longer holds" in reason
    await acknowledge(store, inside, ids[2], "stored")
    assert set(ids[3:]) <= await sent_to(store, inside.public_key)
    assert not set(ids) & await sent_to(store, outside)


@pytest.mark.parametrize("kind", ["reply", "reaction"])
async def test_what_names_the_root_beside_a_deleted_reply_goes_with_the_root(
    store: Store, network: Network, kind: str
) -> None:
    """A thread of one scope: what answers a deleted public-signed reply names the thread's root too, held here and
    signing that scope, so a peer holding the root narrows it alike: it goes to the scope's peers (and no
    further), the whole chain below, and its author is told nothing is held back. A reaction names its target
    alone: below a deleted reply it waits for the peer's confirmation."""
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    replies = chain(bob, scoped, 5)
    await store.ingest([scoped, *replies])
    await store.ingest([delete(bob, replies[1])])
    below = [about(ada, kind, replies[1])] if kind == "reaction" else replies[2:]
    await store.ingest(below)
    ids = {m["id"] for m in below}
    goes = kind == "reply"
    assert (ids <= await sent_to(store, inside.public_key)) is goes
    assert not ids & await sent_to(store, inside.public_key) or goes
    assert not ids & await sent_to(store, outside)
    assert (await held_back(store, check(below[-1])) is None) is goes


LONG = 250  # longer than any walk would follow: what the store keeps (murmur.store.audience.adrift) has no limit


async def ingest_in_batches(store: Store, messages: list[dict[str, Any]], size: int = 60) -> None:
    for start in range(0, len(messages), size):
        await store.ingest(messages[start : start + size])


async def test_a_long_chain_goes_whole_with_its_post_whatever_order_it_arrives_in(
    store: Store, network: Network
) -> None:
    """Replies arriving before the replies they answer, the post last of all: once the post is held, the whole
    chain goes to its audience, and nothing is held back."""
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    replies = chain(bob, scoped, LONG)
    await ingest_in_batches(store, list(reversed(replies)))
    ids = {r["id"] for r in replies}
    for key in (inside.public_key, outside):  # public-signed, naming a post not held yet: they wait for it
        assert not ids & await sent_to(store, key)
    await store.ingest([scoped])
    assert ids <= await sent_to(store, inside.public_key)
    assert not ids & await sent_to(store, outside)
    assert await held_back(store, check(replies[-1])) is None


async def test_a_deleted_parent_holds_back_the_rest_of_a_long_chain_until_the_peer_confirms_it(
    store: Store, network: Network
) -> None:
    """A reply deleted near the top of a long chain (the post held first, the chain after it in reverse order)
    holds back every reply below it, however far, and none above; a confirmation by the peer of the deleted reply
    lets them all go to that peer, and to no other; a confirmation of a reply below it lets go only what is below
    that one."""
    server, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped, head = two_scopes(ada)
    replies = chain(bob, scoped, LONG, top=head)
    await store.ingest([scoped, head])
    await ingest_in_batches(store, list(reversed(replies)))
    ids = [r["id"] for r in replies]
    await store.ingest([delete(bob, replies[3])])
    to_inside = await sent_to(store, inside.public_key)
    assert set(ids[:3]) <= to_inside and not set(ids[4:]) & to_inside
    [code, reason] = await held_back(store, check(replies[-1])) or ("", "")
    assert code == HELD_BACK and "no longer holds" in reason and "scope:inside" in reason
    assert await held_back(store, check(replies[2])) is None

    await acknowledge(store, inside, ids[100], "stored")  # what leans on it goes; it and what is above, not yet
    to_inside = await sent_to(store, inside.public_key)
    assert set(ids[101:]) <= to_inside and not set(ids[4:101]) & to_inside
    await acknowledge(store, inside, ids[3], "deleted", "deleted")
    assert set(ids) - {ids[3]} <= await sent_to(store, inside.public_key)
    other = Identity.generate()
    await add_peer(store, other.public_key, "http://other.test")
    await trust.set_labels(store, server, other.public_key, ["inside"])
    assert not set(ids[4:]) & await sent_to(store, other.public_key)
    assert not set(ids) & await sent_to(store, outside)


async def test_a_deleted_scoped_post_holds_back_every_reply_signed_wider(store: Store, network: Network) -> None:
    """Each reply names the post as its thread's root: once the post is deleted, no reply of the chain goes to a
    peer that did not confirm the post, not only the first."""
    _, inside, _ = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    replies = chain(bob, scoped, LONG)
    await ingest_in_batches(store, [scoped, *replies])
    await store.ingest([delete(ada, scoped)])
    assert not {r["id"] for r in replies} & await sent_to(store, inside.public_key)
    await acknowledge(store, inside, scoped["id"], "stored")
    assert {r["id"] for r in replies} <= await sent_to(store, inside.public_key)


async def test_a_reply_removed_before_the_post_arrived_narrows_nothing(store: Store, network: Network) -> None:
    """A reply deleted while its thread's post had not arrived was never known to be scoped; what answers it
    names the post too, which narrows it wherever it goes: once the post arrives, the chain goes (to its
    audience only), as it would in any order."""
    _, inside, outside = network
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    replies = chain(bob, scoped, 30)
    await store.ingest(list(reversed(replies)))
    await store.ingest([delete(bob, replies[5])])
    await store.ingest([scoped])
    ids = {r["id"] for r in replies} - {replies[5]["id"]}
    assert ids <= await sent_to(store, inside.public_key)
    assert not ids & await sent_to(store, outside)


async def test_what_the_store_keeps_of_a_chain_is_what_the_log_says_however_it_came(
    store: Store, network: Network
) -> None:
    """The adrift rows kept batch by batch, from both ends, are those the whole log gives when computed afresh
    (the migration's fill): parents late, deletes early and late, a delete arriving before its reply."""
    ada, bob = Identity.generate(), Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    replies = chain(bob, scoped, 80)
    early = delete(bob, replies[40])  # arrives before its reply, which is then never stored
    await store.ingest([early, *reversed(replies[30:])])
    await store.ingest([scoped, delete(bob, replies[10])])
    await ingest_in_batches(store, replies[:30], size=7)
    await store.ingest([delete(bob, replies[60])])
    kept = await adrift_rows(store)
    assert kept  # what lies below the deleted replies
    async with store.writer.transaction() as conn:
        await conn.execute("DELETE FROM adrift")
        await conn.execute(FILL_ADRIFT)
    assert await adrift_rows(store) == kept


async def adrift_rows(store: Store) -> set[tuple[bytes, bytes]]:
    async with store.conn.execute("SELECT id, narrower FROM adrift") as c:
        return {(bytes(r[0]), bytes(r[1])) for r in await c.fetchall()}


async def test_the_migration_finds_what_an_older_store_held_adrift(tmp_path: Path) -> None:
    """A store from before the table (schema 14) holding a chain below a deleted reply: the migration fills the
    table from the log, so what was below the deleted reply stays held back, and what was above still goes."""
    ada, bob, server, inside = Identity.generate(), Identity.generate(), Identity.generate(), Identity.generate()
    scoped, head = two_scopes(ada)
    replies = chain(bob, scoped, 12, top=head)
    async with await Store.open(tmp_path / "full.db") as full:
        await add_peer(full, inside.public_key, "http://inside.test")
        await trust.set_labels(full, server, inside.public_key, ["inside", "team"])
        await full.ingest([scoped, head, *replies])
        await full.ingest([delete(bob, replies[4])])
    tables = ("messages", "tombstones", "confined", "scoped", "peers", "peer_labels")
    database_at(MIGRATIONS.index(CREATE_ADRIFT), tmp_path / "full.db", tmp_path / "old.db", tables)
    async with await Store.open(tmp_path / "old.db") as store:
        to_inside = await sent_to(store, inside.public_key)
        ids = [r["id"] for r in replies]
        assert {scoped["id"], *ids[:4]} <= to_inside and not set(ids[5:]) & to_inside
