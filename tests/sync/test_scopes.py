"""Scoped audiences through the one rule: a post to ``inside`` reaches only peers labelled inside, from every door,
with what names it narrowed alike in either arrival order; a peer relaying one beyond it is refused and recorded;
the preview names exactly the peers that then receive it."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, trust
from murmur.store.audience import for_anyone, for_peers, refuse_local
from murmur.store.peers import add_peer, outbound
from murmur.sync.index import index_for, visible_raws
from murmur.sync.transfer import ExportFilter, export_bundle
from murmur.validate import check
from tests.federation.conftest import Network, Node

T0 = 1_700_000_000_000


def post(
    author: Identity, text: str, visibility: str = "public", parent: dict[str, Any] | None = None
) -> dict[str, Any]:
    tags = [] if parent is None else [["reply", parent["id"]], ["root", parent["id"]]]
    return sign_draft(author, {"created_at": T0, "body": {"text": text, "visibility": visibility}, "tags": tags})


def reaction(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    return sign_draft(
        author, {"kind": "reaction", "created_at": T0, "body": {"emoji": "+1"}, "tags": [["target", target["id"]]]}
    )


async def ids_of(store: Store) -> set[str]:
    async with store.conn.execute("SELECT id FROM messages") as cursor:
        return {bytes(row[0]).hex() for row in await cursor.fetchall()}


async def label(node: Node, other: Node, *labels: str) -> None:
    await trust.set_labels(node.state.store, node.state.identity, other.key, labels)


async def test_the_rule_follows_labels_and_narrows_what_names_a_scoped_post(store: Store) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    inside, outside, both = (Identity.generate().public_key for _ in range(3))
    server = Identity.generate()
    for key, labels in ((inside, ["inside"]), (outside, ["outside"]), (both, ["inside", "team"])):
        await add_peer(store, key, f"http://{key[:6]}.test")
        await trust.set_labels(store, server, key, labels)
    scoped = post(ada, "inside only", "scope:inside")
    team = post(ada, "team only", "scope:team")
    reply = post(bob, "a public-signed reply", parent=scoped)
    deeper = reaction(ada, reply)
    open_post = post(ada, "everyone")
    # the reply and its reaction arrive before the post they are about: they are narrowed when it comes
    await store.ingest([reply, deeper, open_post])
    await store.ingest([scoped, team])

    async def visible(peer: str | None) -> set[str]:
        sql = f"SELECT m.id FROM messages m WHERE {for_peers('m')}"
        async with store.conn.execute(sql, {"peer": bytes.fromhex(peer) if peer else None}) as cursor:
            return {bytes(r[0]).hex() for r in await cursor.fetchall()}

    everyone = {open_post["id"]}
    inside_ids = everyone | {scoped["id"], reply["id"], deeper["id"]}
    assert await visible(inside) == inside_ids
    assert await visible(both) == inside_ids | {team["id"]}
    assert await visible(outside) == everyone
    assert await visible(None) == everyone
    async with store.conn.execute(f"SELECT m.id FROM messages m WHERE {for_anyone('m')}") as cursor:
        assert {bytes(r[0]).hex() for r in await cursor.fetchall()} == everyone
    # the preview asks the same rule: a reply to the scoped post reaches what the post reaches
    assert {r.key for r in await trust.recipients(store, "public", [scoped["id"]])} == {inside, both}
    assert await trust.audience_of(store, "public", [scoped["id"]]) == "scope:inside"
    assert {r.key for r in await trust.recipients(store, "scope:team", [scoped["id"]])} == {both}
    assert await trust.audience_of(store, "scope:team", [scoped["id"]]) == "scope:inside+scope:team"
    assert await trust.recipients(store, "local", []) == []


async def _three(net: Network) -> tuple[Node, Node, Node]:
    """a labels b inside and c outside; b labels a inside and c outside; c labels both outside."""
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    for x, y in ((a, b), (a, c), (b, c)):
        await net.link(x, y)
    await label(a, b, "inside")
    await label(a, c, "outside")
    await label(b, a, "inside")
    await label(b, c, "outside")
    await label(c, a, "outside")
    await label(c, b, "outside")
    return a, b, c


async def test_a_post_to_inside_never_reaches_the_outside_server_by_any_door(net: Network) -> None:
    a, b, c = await _three(net)
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    preview = await ada_api.audience("inside", [])
    await ada_api.publish(scoped)
    reply = post(ada, "a reply signed public", parent=scoped)
    await ada_api.publish(reply)
    open_post = post(ada, "for everyone")
    await ada_api.publish(open_post)
    secret = {scoped["id"], reply["id"]}

    await a.push(b)
    await a.push(c)
    await c.pull(a)
    assert (await c.federator.repair(await c.peer(a))).error == ""
    # relay through the inside peer: b holds them now, and offers c what c may have
    assert secret <= await ids_of(b.state.store)
    await b.push(c)
    await c.pull(b)
    assert (await c.federator.repair(await c.peer(b))).error == ""
    assert (await b.federator.repair(await b.peer(c))).error == ""
    assert not secret & await ids_of(c.state.store)
    assert open_post["id"] in await ids_of(c.state.store)

    # what a would hand c by each door, asked directly
    peer_c = await a.peer(c)
    page = await outbound(a.state.store, after=0, limit=100, exclude_origin=None, to=peer_c.key)
    assert not secret & {json.loads(raw)["id"] for _, raw in page.entries}
    every = [bytes.fromhex(i) for i in await ids_of(a.state.store)]
    assert not secret & {json.loads(r)["id"] for r in await visible_raws(a.state.store, every, peer_c.key)}
    repair_set = {i.hex() for _, i in (await index_for(a.state.store, peer_c).current()).items}
    assert not secret & repair_set
    out = io.BytesIO()
    await export_bundle(a.state.store, out, ExportFilter())
    bundle = {json.loads(line)["id"] for line in gzip.decompress(out.getvalue()).splitlines()[1:]}
    assert not secret & bundle and open_post["id"] in bundle

    # the preview named exactly the servers that received the scoped post
    received = {n.key for n in (b, c) if scoped["id"] in await ids_of(n.state.store)}
    assert {s["key"] for s in preview["servers"]} == received == {b.key}
    assert preview["audience"] == "scope:inside"
    assert [s["outside"] for s in preview["servers"]] == [False]


async def test_a_peer_relaying_beyond_the_audience_is_refused_and_recorded(net: Network) -> None:
    a, b, c = await _three(net)
    await label(b, c, "inside")  # b is misconfigured (or rogue): it counts c inside; c does not count b so
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    await ada_api.publish(scoped)
    await a.push(b)
    reply = post(Identity.generate(), "a reply", parent=scoped)
    await b.state.store.ingest([reply])
    await b.push(c)
    held = await ids_of(c.state.store)
    assert scoped["id"] not in held
    refusals = await trust.refusals_by_peer(c.state.store)
    count, reason = refusals[b.key]
    assert count == 1 and "'inside'" in reason
    # the reply, signed public, is carried; but it names a post c refused, so it goes no further than that post
    assert reply["id"] in held
    assert not await visible_raws(c.state.store, [bytes.fromhex(reply["id"])], a.key)


@pytest.mark.parametrize("door", ["push", "pull"])
async def test_the_door_a_scoped_post_comes_in_by_decides_nothing_but_the_label(net: Network, door: str) -> None:
    a, _, c = await _three(net)
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    await ada_api.publish(scoped)
    await label(a, c, "inside", "outside")  # a misconfigured a sends it; c's own manifest still refuses it
    if door == "push":
        await a.push(c)
    else:
        await c.pull(a)
    assert scoped["id"] not in await ids_of(c.state.store)
    assert (await trust.refusals_by_peer(c.state.store))[a.key][0] == 1


@pytest.mark.parametrize(
    ("visibility", "valid"),
    [
        ("public", True),
        ("local", True),
        ("scope:inside", True),
        ("scope:a-b_1", True),
        ("scope:" + "x" * 32, True),
        ("scope:" + "x" * 33, False),
        ("scope:", False),
        ("scope:Inside", False),
        ("scope:public", False),
        ("scope:local", False),
        ("scope:1team", False),
        ("inside", False),
        ("Public", False),
    ],
)
def test_a_post_is_public_local_or_scoped(visibility: str, valid: bool) -> None:
    message = post(Identity.generate(), "hello", visibility)
    if valid:
        check(message)
        return
    with pytest.raises(Refused) as caught:
        check(message)
    assert caught.value.code in ("bad_value", "too_long")


async def test_a_bundle_may_not_bring_a_scoped_post_nor_widen_what_names_it(store: Store) -> None:
    ada = Identity.generate()
    scoped = post(ada, "inside only", "scope:inside")
    reply = post(Identity.generate(), "a reply", parent=scoped)
    results = await store.ingest([scoped, reply], origin="import", policy=refuse_local("bundle"))
    assert [r.code for r in results] == ["scoped_post", None]
    assert "inside" in str(results[0].reason)
    page = await outbound(store, after=0, limit=10, exclude_origin=None)
    assert page.entries == []
