"""The one audience rule, tried from every door: what is about a local post stays on its server.

Replies, reactions, boosts and deletes of a local post, and what is about those in turn, from members and from
peers, in both arrival orders (the local parent first, or last), must never reach a peer by push, pull, repair
or export once the parent is known here.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store, audience
from murmur.store.audience import adrift, narrowing, waiting
from murmur.store.peers import outbound, queued
from murmur.store.schema import MIGRATIONS
from murmur.sync.index import index_for, visible_raws
from murmur.sync.transfer import ExportFilter, export_bundle
from tests.federation.conftest import Network, Node
from tests.schema_at import database_at

T0 = 1_700_000_000_000


def post(author: Identity, text: str, *, parent: dict[str, Any] | None = None, root: str | None = None,
         local: bool = False) -> dict[str, Any]:  # fmt: skip
    tags = [] if parent is None else [["reply", parent["id"]], ["root", root or parent["id"]]]
    body = {"text": text, "visibility": "local" if local else "public"}
    return sign_draft(author, {"created_at": T0, "body": body, "tags": tags})


def about(author: Identity, kind: str, target: dict[str, Any]) -> dict[str, Any]:
    body = {"emoji": "+1"} if kind == "reaction" else {}
    return sign_draft(author, {"kind": kind, "created_at": T0, "body": body, "tags": [["target", target["id"]]]})


def ids(messages: list[dict[str, Any]]) -> set[str]:
    return {m["id"] for m in messages}


async def ids_of(store: Store) -> set[str]:
    async with store.conn.execute("SELECT id FROM messages") as cursor:
        return {bytes(row[0]).hex() for row in await cursor.fetchall()}


@dataclass
class Scene:
    """Server a with members ada and carol, peer b with bob; ``team`` is ada's local post on a."""

    a: Node
    b: Node
    ada_api: MurmurClient
    carol_api: MurmurClient
    team: dict[str, Any]
    members_about: list[dict[str, Any]]  # carol's, published on a
    peers_about: list[dict[str, Any]]  # bob's, published on b (which never sees the local post) and pushed to a
    public: list[dict[str, Any]]  # what is not about the local post, which must still travel
    ada: Identity
    bob: Identity


async def scene(net: Network) -> Scene:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, ada_api = await a.member()
    carol, carol_api = await a.member()
    bob = Identity.generate()
    team = post(ada, "team only", local=True)
    open_post = post(ada, "for everyone")
    member_reply = post(carol, "a reply to the team", parent=team)
    peer_reply = post(bob, "a peer's reply to the team", parent=team)
    members_about = [
        member_reply,
        post(carol, "a reply to the reply", parent=member_reply, root=team["id"]),
        post(carol, "a reply naming the reply as its root", parent=member_reply, root=member_reply["id"]),
        about(carol, "reaction", team),
        about(carol, "boost", team),
        about(carol, "reaction", member_reply),
    ]
    reaction = about(bob, "reaction", team)
    peers_about = [
        peer_reply,
        reaction,
        about(bob, "boost", team),
        about(bob, "reaction", peer_reply),
        about(bob, "delete", reaction),  # a delete of something about the local post names it too
    ]
    public = [open_post, post(carol, "a reply in the open", parent=open_post), post(bob, "bob in the open")]
    return Scene(a, b, ada_api, carol_api, team, members_about, peers_about, public, ada, bob)


async def arrive(s: Scene, messages: list[dict[str, Any]]) -> None:
    """Members' messages through the client API of a, peers' through b's push (b never knows the local post)."""
    apis = {s.team["author"]: s.ada_api, s.members_about[0]["author"]: s.carol_api}
    for message in messages:
        if message["author"] in apis:
            await apis[message["author"]].publish(message)
        else:  # one at a time, so that a holds bob's reaction before bob's delete of it comes
            await s.b.state.store.ingest([message])
            await s.b.push(s.a)


def expected(s: Scene) -> dict[str, set[str]]:
    """What every door may give: the public messages; a member's own export, only carol's of those."""
    carols = ids([m for m in s.public if m["author"] == s.members_about[0]["author"]])
    doors = ("push", "pull", "repair", "fetch", "repair set", "bundle")
    return {**{door: ids(s.public) for door in doors}, "own export": carols}


async def what_each_door_gives(net: Network, s: Scene, name: str) -> dict[str, set[str]]:
    """What a peer that never saw any of this gets from a by each door, and what a's exports hold."""
    doors: dict[str, set[str]] = {}
    via_push, via_pull, via_repair = [await net.node(f"{name}-{door}") for door in ("push", "pull", "repair")]
    for node in (via_push, via_pull, via_repair):
        await net.link(s.a, node)
    waiting = await queued(s.a.state.store, await s.a.peer(via_push))
    await s.a.push(via_push)
    doors["push"] = await ids_of(via_push.state.store)
    assert waiting == len(doors["push"])  # the count a peer list shows agrees with what is sent
    await via_pull.pull(s.a)
    doors["pull"] = await ids_of(via_pull.state.store)
    report = await via_repair.federator.repair(await via_repair.peer(s.a))
    assert report.error == ""
    doors["repair"] = await ids_of(via_repair.state.store)
    every_id = [bytes.fromhex(i) for i in await ids_of(s.a.state.store)]
    doors["fetch"] = {json.loads(raw)["id"] for raw in await visible_raws(s.a.state.store, every_id)}
    doors["repair set"] = {i.hex() for _, i in (await index_for(s.a.state.store).current()).items}
    out = io.BytesIO()
    await export_bundle(s.a.state.store, out, ExportFilter())
    doors["bundle"] = {json.loads(line)["id"] for line in gzip.decompress(out.getvalue()).splitlines()[1:]}
    lines, _, _ = await s.carol_api.own_messages(0)  # GET /api/v1/export without local=1
    doors["own export"] = {json.loads(line)["id"] for line in lines}
    return doors


async def test_what_is_about_a_local_post_never_leaves_when_the_post_came_first(net: Network) -> None:
    s = await scene(net)
    await s.ada_api.publish(s.team)
    await arrive(s, s.members_about + s.peers_about + s.public)
    # b never held the local post: what bob wrote about it (and about that) waits there for a post that never
    # comes (murmur.store.audience.waiting), so none of it reaches a; but a delete never waits (it carries no
    # words, and its target may never come): bob's delete of his reaction goes
    assert await ids_of(s.a.state.store) == ids([s.team, *s.members_about, *s.public, s.peers_about[-1]])
    # ada deletes her local post (a member's delete names it), then a peer's reply to it still comes
    await arrive(s, [about(s.ada, "delete", s.team), post(s.bob, "a reply to what was deleted", parent=s.team)])
    assert await s.a.state.store.get_raw(s.team["id"]) is None

    # bob's delete of his reaction came without what ties it to the local post (the reaction was gone first)
    doors = await what_each_door_gives(net, s, "late")
    assert {door: got - {s.peers_about[-1]["id"]} for door, got in doors.items()} == expected(s)


async def test_what_arrived_before_its_local_parent_is_held_back_once_the_parent_comes(net: Network) -> None:
    s = await scene(net)
    early = await net.node("early")
    await net.link(s.a, early)
    await arrive(s, s.members_about + s.peers_about + s.public)
    # Before the parent, neither a nor b knew anything of what these name: they wait for it, transitively
    # (murmur.store.audience.waiting), and only the public messages go
    await s.a.push(early)
    assert await ids_of(early.state.store) == ids([*s.public, s.peers_about[-1]])  # but a delete: it never waits
    await index_for(s.a.state.store).current()  # the repair set was built while they were still public

    await s.ada_api.publish(s.team)
    # The one exception: bob's delete removed his reaction before the local post came, so nothing here ties
    # the delete to the local post any more (it names an id whose message, and what it named, are gone).
    delete = s.peers_about[-1]["id"]
    doors = await what_each_door_gives(net, s, "after")
    assert {door: got - {delete} for door, got in doors.items()} == expected(s)
    # and the peer that got them early gets nothing more about the local post
    before = await ids_of(early.state.store)
    await s.a.push(early)
    assert await ids_of(early.state.store) == before


@pytest.mark.parametrize("order", ["parent first", "parent last"])
async def test_one_batch_in_either_order_confines_the_whole_chain(store: Store, order: str) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    team = post(ada, "team", local=True)
    reply = post(bob, "reply", parent=team)
    chain = [reply, about(ada, "reaction", reply), post(bob, "deeper", parent=reply, root=reply["id"])]
    chain.append(about(ada, "boost", chain[-1]))
    batch = [team, *chain] if order == "parent first" else [*reversed(chain), team]
    results = await store.ingest(batch)
    assert {r.status for r in results} == {"stored"}
    page = await outbound(store, after=0, limit=100, exclude_origin=None)
    assert page.entries == [] and page.next_cursor == len(batch)


async def test_a_reply_to_a_deleted_local_post_still_stays(store: Store) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    team = post(ada, "team", local=True)
    await store.ingest([team])
    await store.ingest([about(ada, "delete", team)])
    assert await store.get_raw(team["id"]) is None  # gone; what is known of it is that it stayed here
    late = post(bob, "a reply to what was deleted", parent=team)
    await store.ingest([late])
    page = await outbound(store, after=0, limit=100, exclude_origin=None)
    assert page.entries == []


async def test_the_migration_confines_what_an_older_store_already_held(tmp_path: Path) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    team = post(ada, "team", local=True)
    reply = post(bob, "reply", parent=team)
    open_post = post(bob, "open")
    async with await Store.open(tmp_path / "full.db") as store:
        await store.ingest([reply, about(ada, "reaction", reply), team, open_post])
    before = MIGRATIONS.index(audience.CREATE_CONFINED)
    database_at(before, tmp_path / "full.db", tmp_path / "old.db")  # as a store before the rule left it
    async with await Store.open(tmp_path / "old.db") as store:
        page = await outbound(store, after=0, limit=100, exclude_origin=None)
        assert [json.loads(raw)["id"] for _, raw in page.entries] == [open_post["id"]]


async def test_the_rule_reads_by_index_whatever_the_size_of_the_log(store: Store) -> None:
    """The rule runs on every ingest batch and every page a peer reads: no plan may scan the log or the set."""
    full_scan = re.compile(r"^SCAN (messages|confined|scoped|peer_labels|m|n|p|c|x|l)\b")
    statements = [
        (narrowing.CONFINE_NEW, {"lo": 1, "hi": 500}),
        (narrowing.SCOPE_NEW, {"lo": 1, "hi": 500}),
        (narrowing.CONFINE_SINCE, {"mark": 0}),
        *((statement, {"lo": 1, "hi": 500}) for statement in adrift.DRIFT_NEW),
        *((statement, {"lo": 1, "hi": 500}) for statement in waiting.WAIT_NEW),
        (
            f"SELECT m.seq FROM messages m WHERE m.seq > 0 AND {audience.for_peers('m')} ORDER BY m.seq LIMIT 500",
            {"peer": b"\x01" * 32},
        ),
        (f"SELECT m.seq FROM messages m WHERE m.seq > 0 AND {audience.for_anyone('m')} ORDER BY m.seq LIMIT 500", {}),
        (f"SELECT m.seq FROM messages m WHERE m.author = x'00' AND {audience.moves_with_author('m')}", {}),
    ]
    for sql, params in statements:
        async with store.conn.execute("EXPLAIN QUERY PLAN " + sql, params) as cursor:
            plan = [str(row[3]) for row in await cursor.fetchall()]
        assert not [step for step in plan if full_scan.match(step)], (sql, plan)
