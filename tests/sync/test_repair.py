"""Repair between in-process servers: what was lost converges, local posts stay unseen, faults do no harm."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest

from murmur.errors import ConfigError
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.config import ServerConfig
from murmur.server.federation.peer_client import PeerError
from murmur.server.federation.repair import MAX_ROUNDS
from murmur.store import Store
from murmur.store.ingest import remove_messages
from murmur.store.peers import outbound, record_failure, record_success
from murmur.sync.index import index_for
from murmur.sync.reconcile import Session
from tests.federation.conftest import Network, Node


async def ids_of(store: Store) -> set[str]:
    async with store.conn.execute("SELECT id FROM messages") as cursor:
        return {bytes(row[0]).hex() for row in await cursor.fetchall()}


async def has_all(node: Node, count: int) -> bool:
    return len(await ids_of(node.state.store)) == count


async def drop_rows(store: Store, ids: list[str]) -> None:
    """Lose messages the way a damaged database or a careless admin would: gone, with no delete to show."""
    async with store.writer.transaction() as conn:
        await remove_messages(conn, [bytes.fromhex(i) for i in ids])


def posts(author: Identity, count: int, start_ms: int = 1_700_000_000_000, **body: Any) -> list[dict[str, Any]]:
    return [
        sign_draft(author, {"created_at": start_ms + i * 1000, "body": {"text": f"post {i}", **body}})
        for i in range(count)
    ]


async def test_rows_lost_on_one_side_come_back_both_ways(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada = Identity.generate()
    batch = posts(ada, 300)
    await a.state.store.ingest(batch)
    await b.state.store.ingest(batch)
    lost_on_b = [m["id"] for m in batch[10:15]] + [batch[299]["id"]]
    lost_on_a = [m["id"] for m in batch[100:103]] + [batch[0]["id"]]
    await drop_rows(b.state.store, lost_on_b)
    await drop_rows(a.state.store, lost_on_a)

    report = await a.federator.repair(await a.peer(b))
    assert report.error == ""
    assert (report.need, report.have) == (len(lost_on_a), len(lost_on_b))
    assert (report.fetched, report.stored, report.sent) == (len(lost_on_a), len(lost_on_a), len(lost_on_b))
    assert report.reconcile_round_trips <= 3
    everything = {m["id"] for m in batch}
    assert await ids_of(a.state.store) == everything == await ids_of(b.state.store)

    again = await a.federator.repair(await a.peer(b))
    assert (again.need, again.have, again.stored, again.sent, again.reconcile_round_trips) == (0, 0, 0, 0, 1)


async def test_a_thread_whose_replies_never_arrived_is_filled_in(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, bob = Identity.generate(), Identity.generate()
    root = sign_draft(ada, {"body": {"text": "question"}})
    replies = [
        sign_draft(bob, {"body": {"text": f"answer {i}"}, "tags": [["reply", root["id"]], ["root", root["id"]]]})
        for i in range(3)
    ]
    await a.state.store.ingest([root, *replies])
    await b.state.store.ingest([root])  # the replies' pushes were lost
    report = await b.federator.repair(await b.peer(a))
    assert report.stored == 3
    from murmur.store import timelines

    thread = await timelines.thread(b.state.store, root["id"])
    assert thread is not None
    assert {child.id for child in thread.root.children} == {r["id"] for r in replies}


async def test_repair_never_reveals_local_posts_or_what_is_about_them(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, bob = Identity.generate(), Identity.generate()
    public = sign_draft(ada, {"body": {"text": "for all"}})
    local = sign_draft(ada, {"body": {"text": "team only", "visibility": "local"}})
    reaction = sign_draft(bob, {"kind": "reaction", "body": {"emoji": "+1"}, "tags": [["target", local["id"]]]})
    delete = sign_draft(ada, {"kind": "delete", "tags": [["target", public["id"]]]})
    await a.state.store.ingest([public, local, reaction])

    # b asks a with every id it might guess: reconciliation and fetch only ever name a's public message
    report = await b.federator.repair(await b.peer(a))
    assert report.stored == 1
    assert await ids_of(b.state.store) == {public["id"]}
    client = b.federator.client(await b.peer(a))
    try:
        lines, _ = await client.fetch([local["id"], reaction["id"], public["id"]])
    finally:
        await client.aclose()
    assert [json.loads(line)["id"] for line in lines] == [public["id"]]

    # and a, reconciling towards b, never pushes them either
    await a.state.store.ingest([delete])
    report = await a.federator.repair(await a.peer(b))
    assert report.sent == 1
    assert await ids_of(b.state.store) == {delete["id"]}  # the delete came, and removed the public post

    # the repair set is exactly what outbound would send a peer
    page = await outbound(a.state.store, after=0, limit=100, exclude_origin=None)
    outbound_ids = {json.loads(raw)["id"] for _, raw in page.entries}
    items = await index_for(a.state.store).current()
    assert {item_id.hex() for _, item_id in items.items} == outbound_ids


class FailingOn(httpx.AsyncBaseTransport):
    """A transport that drops the k-th request (counting from 1) and passes every other one through."""

    def __init__(self, inner: httpx.AsyncBaseTransport, k: int) -> None:
        self.inner, self.k, self.seen = inner, k, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen == self.k:
            raise httpx.ConnectError("connection reset")
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("k", [1, 2, 3, 4])  # reconcile, reconcile, fetch, push
async def test_a_repair_cut_off_midway_then_rerun_stores_nothing_twice(net: Network, k: int) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada = Identity.generate()
    batch = posts(ada, 2000)
    await a.state.store.ingest(batch)
    await b.state.store.ingest(batch)
    await drop_rows(a.state.store, [m["id"] for m in batch[::150]])  # 14 lost here
    await drop_rows(b.state.store, [m["id"] for m in batch[7::300]])  # 7 lost there
    failing = FailingOn(b.transport, k)
    a.federator.transport_for = lambda peer: failing
    first = await a.federator.repair(await a.peer(b))
    assert first.error  # the k-th request of the repair (a reconcile, fetch or push round) was lost
    a.federator.transport_for = net.transport_for
    second = await a.federator.repair(await a.peer(b))
    assert second.error == ""
    assert first.stored + second.stored == 14 and second.duplicate == 0
    assert first.sent + second.sent == 7
    everything = {m["id"] for m in batch}
    assert await ids_of(a.state.store) == everything == await ids_of(b.state.store)
    for node in (a, b):
        async with node.state.store.conn.execute("SELECT count(*), count(DISTINCT id) FROM messages") as cursor:
            assert tuple(await cursor.fetchone()) == (2000, 2000)


async def test_a_malformed_or_endless_answer_stops_the_repair(net: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    await a.state.store.ingest(posts(Identity.generate(), 50))
    client = a.federator.client(await a.peer(b))

    async def garbage(message: bytes) -> bytes:
        return b"\x01\x05"

    monkeypatch.setattr(client, "reconcile", garbage)
    report = await a.federator.repair(await a.peer(b), client)
    assert "answered reconciliation wrongly" in report.error

    monkeypatch.undo()
    # a session that always has more to ask (a peer whose answers never settle anything) is cut off
    monkeypatch.setattr(Session, "receive", lambda self, answer: b"\x01")
    report = await a.federator.repair(await a.peer(b), client)
    assert f"{MAX_ROUNDS} round trips" in report.error
    await client.aclose()


async def _signed_post(node: Node, identity: Identity, path: str, body: bytes) -> httpx.Response:
    headers = sign_request(identity, "POST", path, "", body, recipient=node.key).as_dict()
    async with httpx.AsyncClient(transport=node.transport, base_url=node.url) as http:
        return await http.post(path, content=body, headers=headers)


async def test_reconcile_and_fetch_refuse_strangers_and_bad_bodies(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    stranger = Identity.generate()
    for path in ("/fed/v1/reconcile", "/fed/v1/fetch"):
        response = await _signed_post(a, stranger, path, b"\x01")
        assert response.status_code == 403 and response.json()["error"]["code"] == "unknown_peer"
    peer_key = b.state.identity
    bad = await _signed_post(a, peer_key, "/fed/v1/reconcile", b"\x07")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unsupported_version"
    bad = await _signed_post(a, peer_key, "/fed/v1/reconcile", b"\x01\x05\x00\x01")
    assert bad.json()["error"]["code"] == "bad_reconcile"
    bad = await _signed_post(a, peer_key, "/fed/v1/fetch", b'{"ids": ["zz"]}')
    assert bad.status_code == 400
    many = json.dumps({"ids": ["00" * 32] * 1001}).encode()
    assert (await _signed_post(a, peer_key, "/fed/v1/fetch", many)).status_code == 413
    with pytest.raises(PeerError):
        client = b.federator.client(await b.peer(a))
        try:
            await client.fetch(["zz"])
        finally:
            await client.aclose()


async def _converges(net: Network, *, failing: bool, interval: float) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    batch = posts(Identity.generate(), 300)
    for node in (a, b):
        await node.state.store.ingest(batch)
    await drop_rows(b.state.store, [m["id"] for m in batch[::60]])
    # a's push queue says b has everything: only a repair can find what b lost
    await record_success(a.state.store, b.key, push_cursor=300)
    if failing:
        await record_failure(a.state.store, b.key, "was down")
    a.federator.repair_interval, a.federator.repair_delay = interval, 0.05
    running = asyncio.create_task(a.federator.run())
    try:
        await b.until_stored(lambda: has_all(b, 300))
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert await ids_of(b.state.store) == {m["id"] for m in batch}


async def test_a_peer_coming_back_from_failures_is_repaired_at_once(net: Network) -> None:
    await _converges(net, failing=True, interval=3600)


async def test_repair_runs_on_its_schedule(net: Network) -> None:
    await _converges(net, failing=False, interval=0.1)


def test_the_repair_interval_is_a_documented_setting(tmp_path: Any) -> None:
    rendered = ServerConfig().render()
    assert "repair_interval_seconds = 3600" in rendered
    assert ServerConfig.from_toml(rendered, tmp_path).repair_interval_seconds == 3600
    with pytest.raises(ConfigError, match="repair_interval_seconds"):
        ServerConfig.from_toml("repair_interval_seconds = -1", tmp_path)
