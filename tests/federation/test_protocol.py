"""The federation protocol between in-process servers: push, pull, relay, and every refusal."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.peer_client import PeerClient, PeerError
from murmur.server.hub import Hub
from murmur.server.routes.federation import MAX_WAIT_S
from murmur.store import timelines
from murmur.store.peers import Peer, add_peer, get_peer
from tests.federation.conftest import Network, Node
from tests.waiting import BOUND_S


async def has_count(node: Node, count: int) -> bool:
    return await node.state.store.count() == count


async def ids_on(node: Node) -> set[str]:
    page = await timelines.federated(node.state.store, limit=100)
    return {json.loads(item.raw)["id"] for item in page.items}


async def test_push_delivers_public_posts_and_keeps_local_ones_home(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, api = await a.member()
    public = sign_draft(ada, {"body": {"text": "for everyone"}})
    local = sign_draft(ada, {"body": {"text": "team only", "visibility": "local"}})
    await api.publish(public)
    await api.publish(local)
    await a.push(b)
    assert await b.state.store.get_raw(public["id"]) is not None
    assert await b.state.store.get_raw(local["id"]) is None
    peer = await a.peer(b)
    assert peer.push_cursor == 2 and peer.failures == 0
    stored = await b.state.store.get(public["id"])
    assert stored is not None
    async with b.state.store.conn.execute("SELECT origin FROM messages") as cur:
        assert [r[0] for r in await cur.fetchall()] == [f"peer:{a.key}"]


async def test_pull_catches_up_in_pages(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, _ = await a.member()
    batch = [sign_draft(ada, {"body": {"text": f"post {i}"}}) for i in range(1203)]
    await a.state.store.ingest(batch)
    await b.pull(a)
    assert await b.state.store.count() == 1203
    assert (await b.peer(a)).pull_cursor == 1203
    await b.pull(a)  # nothing new: nothing stored twice
    assert await b.state.store.count() == 1203


async def test_relay_along_a_chain_with_replies_and_deletes(net: Network) -> None:
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    await net.link(a, b)
    await net.link(b, c)
    ada, ada_api = await a.member()
    cy, cy_api = await c.member()
    post = sign_draft(ada, {"body": {"text": "from a"}})
    await ada_api.publish(post)
    await a.push(b)
    await b.push(c)
    assert post["id"] in await ids_on(c)

    reply = sign_draft(cy, {"body": {"text": "from c"}, "tags": [["reply", post["id"]], ["root", post["id"]]]})
    await cy_api.publish(reply)
    await c.push(b)
    await b.push(a)
    assert reply["id"] in await ids_on(a)
    thread = await timelines.thread(a.state.store, post["id"])
    assert thread is not None and [n.id for n in thread.root.children] == [reply["id"]]

    await ada_api.publish(sign_draft(ada, {"kind": "delete", "tags": [["target", post["id"]]]}))
    await a.push(b)
    await b.push(c)
    assert post["id"] not in await ids_on(c)
    assert await c.state.store.get_raw(post["id"]) is None

    # nothing is sent back where it came from: b never pushed a's messages to a
    async with a.state.store.conn.execute("SELECT count(*) FROM messages WHERE origin != 'local'") as cur:
        assert (await cur.fetchone())[0] == 1  # only c's reply came in from a peer


async def test_triangle_does_not_loop(net: Network) -> None:
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    await net.link(a, b)
    await net.link(b, c)
    await net.link(c, a)
    ada, api = await a.member()
    post = sign_draft(ada, {"body": {"text": "round and round"}})
    await api.publish(post)
    for _ in range(3):
        for x, y in ((a, b), (b, c), (c, a), (a, c), (c, b), (b, a)):
            await x.push(y)
    for node in (a, b, c):
        assert await node.state.store.count() == 1


async def _raw_push(node: Node, identity: Identity, body: bytes) -> httpx.Response:
    headers = sign_request(identity, "POST", "/fed/v1/messages", "", body, recipient=node.key).as_dict()
    async with httpx.AsyncClient(transport=node.transport, base_url=node.url) as http:
        return await http.post("/fed/v1/messages", content=body, headers=headers)


async def test_unknown_server_key_is_refused(net: Network) -> None:
    a = await net.node("a")
    stranger = Identity.generate()
    response = await _raw_push(a, stranger, b"")
    assert response.status_code == 403 and response.json()["error"]["code"] == "unknown_peer"
    headers = sign_request(stranger, "GET", "/fed/v1/log", "after=0", b"", recipient=a.key).as_dict()
    async with httpx.AsyncClient(transport=a.transport, base_url=a.url) as http:
        response = await http.get("/fed/v1/log", params={"after": 0}, headers=headers)
    assert response.status_code == 403
    # a member's key is not a peer key either
    ada, _ = await a.member()
    assert (await _raw_push(a, ada, b"")).status_code == 403


async def test_batch_with_bad_messages_stores_the_good_ones(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada = Identity.generate()
    good = sign_draft(ada, {"body": {"text": "good"}})
    forged = {**sign_draft(ada, {"body": {"text": "forged"}}), "sig": "11" * 64}
    local = sign_draft(ada, {"body": {"text": "local", "visibility": "local"}})
    other = sign_draft(Identity.generate(), {"body": {"text": "someone else's"}})
    await b.state.store.ingest([other])
    not_yours = sign_draft(ada, {"kind": "delete", "tags": [["target", other["id"]]]})
    lines = [json.dumps(m) for m in (good, forged, local, not_yours)] + ["{broken"]
    response = await _raw_push(b, a.state.identity, "\n".join(lines).encode())
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["stored", "refused", "refused", "refused", "refused"]
    assert [r.get("code") for r in results[1:]] == ["bad_signature", "local_from_peer", "not_author", "invalid_json"]
    assert await b.state.store.count() == 2  # the good one and the pre-existing one
    assert await b.state.store.get_raw(other["id"]) is not None


async def test_oversized_batches_are_refused(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada = Identity.generate()
    line = json.dumps(sign_draft(ada, {"body": {"text": "x"}})).encode()
    response = await _raw_push(b, a.state.identity, b"\n".join([line] * 1001))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert await b.state.store.count() == 0


async def test_replayed_peer_request_is_refused(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    body = json.dumps(sign_draft(Identity.generate(), {"body": {"text": "once"}})).encode()
    headers = sign_request(a.state.identity, "POST", "/fed/v1/messages", "", body, recipient=b.key).as_dict()
    async with httpx.AsyncClient(transport=b.transport, base_url=b.url) as http:
        assert (await http.post("/fed/v1/messages", content=body, headers=headers)).status_code == 200
        again = await http.post("/fed/v1/messages", content=body, headers=headers)
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed"


class Flaky(httpx.AsyncBaseTransport):
    """Answers with the given statuses first, then passes requests to the real app."""

    def __init__(self, inner: httpx.AsyncBaseTransport, statuses: list[int], retry_after: str = "") -> None:
        self.inner = inner
        self.statuses = statuses
        self.retry_after = retry_after
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.statuses:
            status = self.statuses.pop(0)
            if status == 0:
                raise httpx.ConnectError("connection refused", request=request)
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return httpx.Response(status, headers=headers, request=request)
        return await self.inner.handle_async_request(request)


async def test_failing_peer_is_retried_and_cursor_waits(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    flaky = Flaky(b.transport, [500, 0, 429], retry_after="7")
    ada, api = await a.member()
    await api.publish(sign_draft(ada, {"body": {"text": "eventually"}}))
    peer = await a.peer(b)
    client = PeerClient(a.state.identity, peer, transport=flaky)
    errors = []
    for _ in range(3):
        with pytest.raises(PeerError) as err:
            await a.federator.push_once(await a.peer(b), client)
        errors.append(err.value)
    assert [e.status for e in errors] == [500, None, 429]
    assert errors[2].retry_after == 7.0
    assert (await a.peer(b)).push_cursor == 0  # nothing acknowledged, nothing forgotten
    await a.federator.push_once(await a.peer(b), client)
    assert (await a.peer(b)).push_cursor == 1 and await b.state.store.count() == 1
    await client.aclose()


async def test_running_federator_delivers_and_backs_off(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    flaky = Flaky(b.transport, [500, 0, 503])  # b fails three times before it answers
    a.federator.transport_for = lambda peer: flaky if peer.url == b.url else net.transport_for(peer)
    ada, api = await a.member()
    a.federator.peers_poll = 0.05
    task = asyncio.create_task(a.federator.run())
    try:
        post = sign_draft(ada, {"body": {"text": "live"}})
        await api.publish(post)
        await b.until_stored(lambda: b.has(post["id"]))
        assert flaky.calls >= 4 and not flaky.statuses  # retried after each failure, with backoff between
        # a peer added to a running server takes effect without a restart
        c = await net.node("c")
        # c trusts a first: the other order lets a's push reach c before c knows a (unknown_peer, a failure).
        await add_peer(c.state.store, a.key, a.url, name="a")
        await add_peer(a.state.store, c.key, c.url, name="c")
        await c.until_stored(lambda: c.has(post["id"]))  # backfilled
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await a.peer(c)).failures == 0


async def test_serve_only_peer_is_never_dialed_but_can_pull_and_push(net: Network) -> None:
    inside, outside = await net.node("inside"), await net.node("outside")
    await net.link(inside, outside, a_mode="pull-only", b_mode="serve-only")
    await outside.federator.reconcile()
    assert outside.federator._running == {}
    ins, ins_api = await inside.member()
    out, out_api = await outside.member()
    a_post = sign_draft(ins, {"body": {"text": "from inside"}})
    b_post = sign_draft(out, {"body": {"text": "from outside"}})
    await ins_api.publish(a_post)
    await out_api.publish(b_post)
    await inside.push(outside)
    await inside.pull(outside)
    assert await outside.state.store.get_raw(a_post["id"]) is not None
    assert await inside.state.store.get_raw(b_post["id"]) is not None


class WatchedHub(Hub):
    """A hub that says when someone waits on it, and whose waits end only when something is stored: a long
    poll held on it can return with news only if a store wakes it, never because a timer ran out."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        self.waiting.set()
        await event.wait()


async def test_long_poll_returns_as_soon_as_something_arrives(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b, b_mode="pull-only")
    a.state.hub = hub = WatchedHub()
    peer: Peer = await get_peer(b.state.store, a.key)  # type: ignore[assignment]
    client = b.federator.client(peer)
    ada, api = await a.member()
    pulling = asyncio.create_task(client.pull(0, wait=MAX_WAIT_S))
    await asyncio.wait_for(hub.waiting.wait(), BOUND_S)  # the request is held: a's log was empty
    await api.publish(sign_draft(ada, {"body": {"text": "wake up"}}))
    page = await asyncio.wait_for(pulling, BOUND_S)
    assert len(page.lines) == 1
    await client.aclose()


class Stalling(httpx.AsyncBaseTransport):
    """A peer that answers nothing: every request hangs until the test ends."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.reached.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_slow_peer_does_not_hold_up_the_others(net: Network) -> None:
    a, slow, fast = await net.node("a"), await net.node("slow"), await net.node("fast")
    await net.link(a, slow)
    await net.link(a, fast)
    stalling = Stalling()
    net.transport_for = lambda peer: stalling if peer.url == slow.url else fast.transport  # type: ignore[method-assign]
    a.federator.transport_for = net.transport_for
    ada, api = await a.member()
    task = asyncio.create_task(a.federator.run())
    try:
        await asyncio.wait_for(stalling.reached.wait(), BOUND_S)  # a request to the slow peer now hangs
        post = sign_draft(ada, {"body": {"text": "not held up"}})
        await api.publish(post)
        await fast.until_stored(lambda: fast.has(post["id"]))
        assert not await slow.has(post["id"])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_local_storage_failure_does_not_stop_federation(net: Network) -> None:
    from murmur.errors import StoreError

    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, api = await a.member()
    real_stream = b.state.store.ingest_stream
    calls = {"n": 0}

    async def failing_stream(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] <= 2:
            raise StoreError("The database refused a write: database or disk is full.")
        async for results in real_stream(*args, **kwargs):
            yield results

    b.state.store.ingest_stream = failing_stream  # type: ignore[method-assign]
    await api.publish(sign_draft(ada, {"body": {"text": "arrives once the disk has room"}}))
    task = asyncio.create_task(b.federator.run())  # b pulls from a
    try:
        await b.until_stored(lambda: has_count(b, 1))
        assert calls["n"] >= 3 and not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
