"""Ids before bodies (server/federation/offers.py): a mesh sends each body to each server once, an id is asked
of one peer at a time, an older peer still gets every body, a pull of ids fetches only what is lacking, and no
id is offered beyond its audience."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.offers import ID_BYTES, Wanted, unpacked
from murmur.server.federation.push_offers import receipt_owed
from murmur.store import trust
from murmur.store.peers import outbound
from tests.federation.conftest import Network, Node


@dataclass
class Recording(httpx.AsyncBaseTransport):
    """A node's transport that keeps every federation request it is sent: its path and body."""

    inner: httpx.AsyncBaseTransport
    seen: list[tuple[str, bytes]] = field(default_factory=list)
    refuse_offers: bool = False  # answer offers as an older murmur does: 404

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.seen.append((request.url.path, body))
        if self.refuse_offers and request.url.path == "/fed/v1/offers":
            return httpx.Response(404, json={"error": {"code": "not_found", "reason": "Not Found"}})
        return await self.inner.handle_async_request(request)

    def bodies(self) -> list[str]:
        """The id of every message body pushed or fetched-for to this node (pushes only: fetches are answers)."""
        pushed = [line for path, body in self.seen if path == "/fed/v1/messages" for line in body.splitlines()]
        return [str(json.loads(line)["id"]) for line in pushed if line.strip()]

    def offered(self) -> list[bytes]:
        return [i for path, body in self.seen if path == "/fed/v1/offers" for i in unpacked(body, "offer")]


def record(node: Node, **options: Any) -> Recording:
    recording = Recording(node.transport, **options)
    node.transport = recording  # type: ignore[assignment]  # the network dials a node through this attribute
    return recording


async def test_a_full_mesh_sends_each_server_each_body_once(net: Network) -> None:
    nodes = [await net.node(name) for name in "abcd"]
    for i, here in enumerate(nodes):
        for there in nodes[i + 1 :]:
            await net.link(here, there)
    seen = {node.name: record(node) for node in nodes}
    ada, api = await nodes[0].member()
    posts = [sign_draft(ada, {"body": {"text": f"post {n}"}}) for n in range(5)]
    for p in posts:
        await api.publish(p)
    for here in nodes:  # every server pushes to every other: what it holds is offered, and sent if lacking
        for there in nodes:
            if here is not there:
                await here.push(there)
    for node in nodes:
        assert all([await node.has(p["id"]) for p in posts])
    for node in nodes[1:]:
        assert Counter(seen[node.name].bodies()) == Counter(p["id"] for p in posts)  # each once, no more
        offered = Counter(seen[node.name].offered())
        assert set(offered) == {bytes.fromhex(p["id"]) for p in posts} and max(offered.values()) <= 3  # once a peer


async def test_an_id_is_asked_of_one_peer_at_a_time() -> None:
    now = [0.0]
    wanted = Wanted(promise_s=30.0, clock=lambda: now[0])
    one, two = b"\x01" * 32, b"\x02" * 32
    assert wanted.claim("b", [one, two]) == [one, two]
    assert wanted.claim("c", [one, two]) == []  # b was asked for them
    assert wanted.claim("b", [one]) == [one]  # b offering again (its push failed, it retries) is asked again
    wanted.settle([one])
    assert wanted.claim("c", [one]) == [one]  # came (or was refused): the next offer is answered afresh
    now[0] = 31.0
    assert wanted.claim("c", [two]) == [two]  # b never sent it: the promise lapsed


async def test_a_peer_that_fails_after_its_offer_is_asked_again_on_its_retry(net: Network) -> None:
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    await net.link(a, c)
    await net.link(b, c)
    ada, api = await a.member()
    post = sign_draft(ada, {"body": {"text": "one copy"}})
    await api.publish(post)
    await b.state.store.ingest([post])
    ids = [bytes.fromhex(post["id"])]
    client = a.federator.client(await a.peer(c))
    try:
        assert await client.offer(ids) == ids  # a is asked; its push is lost on the way
    finally:
        await client.aclose()
    await b.push(c)  # b's offer of the same id is declined: a was asked for it
    assert not await c.has(post["id"])
    await a.push(c)  # a's retry is answered again, and the body comes
    assert await c.has(post["id"])
    assert len(c.state.wanted) == 0


async def test_an_older_peer_that_knows_no_offers_gets_every_body(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    seen = record(b, refuse_offers=True)
    ada, api = await a.member()
    posts = [sign_draft(ada, {"body": {"text": f"post {n}"}}) for n in range(3)]
    for p in posts:
        await api.publish(p)
    await a.push(b)
    assert all([await b.has(p["id"]) for p in posts])
    assert sorted(seen.bodies()) == sorted(p["id"] for p in posts)
    assert (await a.peer(b)).failures == 0
    await api.publish(later := sign_draft(ada, {"body": {"text": "later"}}))
    await a.federator.push_once(await a.peer(b), a.federator.client(await a.peer(b)))
    assert [path for path, _ in seen.seen].count("/fed/v1/offers") == 1  # not offered again at once
    assert await b.has(later["id"])


async def test_a_pull_of_ids_fetches_only_what_is_lacking(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    seen = record(a)
    ada, api = await a.member()
    posts = [sign_draft(ada, {"body": {"text": f"post {n}"}}) for n in range(4)]
    for p in posts:
        await api.publish(p)
    await b.state.store.ingest(posts[:3])  # b has three already (by another path)
    await b.pull(a)
    assert await b.has(posts[3]["id"])
    fetches = [body for path, body in seen.seen if path == "/fed/v1/fetch"]
    assert [json.loads(f)["ids"] for f in fetches] == [[posts[3]["id"]]]
    assert (await b.peer(a)).pull_cursor == 4


async def test_no_id_is_offered_or_listed_beyond_its_audience(net: Network) -> None:
    a, inside, outside = await net.node("a"), await net.node("inside"), await net.node("outside")
    await net.link(a, inside)
    await net.link(a, outside)
    await trust.set_labels(a.state.store, a.state.identity, inside.key, ["inside"])
    await trust.set_labels(inside.state.store, inside.state.identity, a.key, ["inside"])
    to_inside, to_outside = record(inside), record(outside)
    ada, api = await a.member()
    scoped = sign_draft(ada, {"body": {"text": "inside only", "visibility": "scope:inside"}})
    local = sign_draft(ada, {"body": {"text": "here only", "visibility": "local"}})
    public = sign_draft(ada, {"body": {"text": "everyone"}})
    for p in (scoped, local, public):
        await api.publish(p)
    await a.push(inside)
    await a.push(outside)
    assert await inside.has(scoped["id"]) and not await outside.has(scoped["id"])
    assert bytes.fromhex(scoped["id"]) in to_inside.offered()
    assert to_outside.offered() == [bytes.fromhex(public["id"])]
    # a pull of ids lists what the puller may see, and nothing else
    client = outside.federator.client(await outside.peer(a))
    try:
        page = await client.pull(0, ids=True)
    finally:
        await client.aclose()
    assert page.ids == [bytes.fromhex(public["id"])]


async def _raw_offer(node: Node, identity: Identity, body: bytes) -> httpx.Response:
    headers = sign_request(identity, "POST", "/fed/v1/offers", "", body, recipient=node.key).as_dict()
    async with httpx.AsyncClient(transport=node.transport, base_url=node.url) as http:
        return await http.post("/fed/v1/offers", content=body, headers=headers)


async def test_an_offer_that_is_not_a_run_of_ids_is_refused_with_a_reason(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    for body, status, code in (
        (b"\x00" * (ID_BYTES + 1), 400, "bad_request"),
        (b"\x00" * ID_BYTES * 1001, 413, "too_large"),
    ):
        answer = await _raw_offer(b, a.state.identity, body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    stranger = await _raw_offer(b, Identity.generate(), b"\x00" * ID_BYTES)
    assert stranger.status_code == 403
    held = await _raw_offer(b, a.state.identity, b"")
    assert (held.status_code, held.content) == (200, b"")


async def test_an_id_the_peer_offered_us_is_never_offered_back(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada = Identity.generate()
    post = sign_draft(ada, {"body": {"text": "both have it"}})
    for node in (a, b):
        await node.state.store.ingest([post], origin="import")
    to_a, to_b = record(a), record(b)
    await b.push(a)  # b offers it; a holds it and declines
    assert to_a.offered() == [bytes.fromhex(post["id"])] and to_a.bodies() == []
    await a.push(b)  # b told a it holds it: nothing to offer, no request at all
    assert to_b.seen == []
    assert (await a.peer(b)).push_cursor == 1


async def test_relayed_messages_wait_for_a_peer_that_declined_but_our_own_posts_do_not(net: Network) -> None:
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    await net.link(a, b)
    await net.link(a, c)
    ada, api = await a.member()
    bea = Identity.generate()
    first, second = (sign_draft(bea, {"body": {"text": f"from b, {n}"}}) for n in range(2))
    await a.state.store.ingest([first], origin=f"peer:{b.key}")
    await c.state.store.ingest([first], origin="import")  # c heard it from elsewhere
    to_c = record(c)
    peer = await a.peer(c)
    client = a.federator.client(peer)
    try:
        assert not await a.federator.push_once(peer, client)  # offered, declined
        await a.state.store.ingest([second], origin=f"peer:{b.key}")
        await a.federator.push_once(await a.peer(c), client)  # relayed only, to a peer that declined: it waits
        assert not await c.has(second["id"])
        assert len(to_c.seen) == 1
        await api.publish(own := sign_draft(ada, {"body": {"text": "a member's post never waits"}}))
        await a.federator.push_once(await a.peer(c), client)
        assert await c.has(own["id"]) and await c.has(second["id"])  # and what waited goes with it
    finally:
        await client.aclose()


async def test_what_a_peer_was_asked_to_push_is_not_fetched_by_a_pull_of_it_as_well(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    seen = record(a)
    ada, api = await a.member()
    await api.publish(post := sign_draft(ada, {"body": {"text": "by one door"}}))
    client = a.federator.client(await a.peer(b))
    try:
        assert await client.offer([bytes.fromhex(post["id"])]) == [bytes.fromhex(post["id"])]
    finally:
        await client.aclose()
    await b.pull(a)  # b's pull lists it, but a's push was asked for it: no fetch
    assert [path for path, _ in seen.seen if path == "/fed/v1/fetch"] == []
    await a.push(b)
    assert await b.has(post["id"])


async def test_an_id_a_pull_is_writing_is_not_asked_of_another_peer(
    net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    await net.link(a, b)
    await net.link(c, b)
    ada, api = await a.member()
    await api.publish(post := sign_draft(ada, {"body": {"text": "one body, two doors"}}))
    await c.state.store.ingest([post], origin="import")  # c heard it elsewhere and will offer it to b
    to_b = record(b)
    write = b.state.store.ingest_stream
    offered_meanwhile: list[bool] = []

    async def c_pushes_first(batches: AsyncIterable[Sequence[Any]], **options: Any) -> AsyncIterator[list[Any]]:
        """b's pull fetched the body and hands it to be written: that is when c offers the same id to b."""

        async def then_written() -> AsyncIterator[Sequence[Any]]:
            async for lines in batches:
                if lines:
                    await c.push(b)
                    offered_meanwhile.append(True)
                yield lines

        async for results in write(then_written(), **options):
            yield results

    monkeypatch.setattr(b.state.store, "ingest_stream", c_pushes_first)
    await b.pull(a)
    assert offered_meanwhile and to_b.offered() == [bytes.fromhex(post["id"])]
    assert to_b.bodies() == []  # declined: the body was already on its way to b's log, by the pull
    assert await b.has(post["id"])
    assert len(b.state.wanted) == 0  # the pull's promise was kept once its page was written


async def test_a_sender_offering_again_while_its_push_is_written_is_not_asked_for_the_body_again(
    net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    ada, api = await a.member()
    await api.publish(post := sign_draft(ada, {"body": {"text": "pushed once, offered twice"}}))
    ids = [bytes.fromhex(post["id"])]
    raw = await a.state.store.get_raw(post["id"])
    assert raw is not None
    to_b = record(b)
    writing, written = asyncio.Event(), asyncio.Event()

    write = b.state.store.ingest_grouped

    async def held_write(*args: Any, **options: Any) -> Any:
        writing.set()
        await written.wait()
        return await write(*args, **options)

    monkeypatch.setattr(b.state.store, "ingest_grouped", held_write)
    retry_waits = asyncio.Event()
    landed = b.state.wanted.landed

    async def noted(peer: str) -> None:
        retry_waits.set()
        await landed(peer)

    monkeypatch.setattr(b.state.wanted, "landed", noted)
    client = a.federator.client(await a.peer(b))
    try:
        assert await client.offer(ids) == ids
        push = asyncio.create_task(client.push([raw]))
        await writing.wait()  # the push is on its way to b's log; a gave up on it (a timeout) and offers again
        retry = asyncio.create_task(client.offer(ids))
        waits = asyncio.create_task(retry_waits.wait())
        await asyncio.wait([retry, waits], return_when=asyncio.FIRST_COMPLETED)  # answered, or waiting for the push
        waits.cancel()
        written.set()
        assert [r["status"] for r in await push] == ["stored"]
        assert await retry == []  # answered by what the push stored, once it was written
    finally:
        await client.aclose()
    assert to_b.bodies() == [post["id"]]


async def test_our_own_delete_goes_whole_to_a_peer_that_holds_it_so_its_receipt_comes_back(net: Network) -> None:
    """c holds ada's delete already (b relayed it there first): an offer would be declined, and a declined offer
    is signed by no one, so ada would never see c confirm. Our own members' deletes go whole; c's answer is its
    signed receipt."""
    a, c = await net.node("a"), await net.node("c")
    await net.link(a, c)
    ada, api = await a.member()
    await api.publish(post := sign_draft(ada, {"body": {"text": "soon regretted"}}))
    await a.push(c)
    gone = sign_draft(ada, {"kind": "delete", "tags": [["target", post["id"]]]})
    await api.publish(gone)
    await c.state.store.ingest([gone], origin="import")  # relayed there by another peer, before our push
    to_c = record(c)
    await a.push(c)
    assert to_c.bodies() == [gone["id"]]  # pushed whole, though c holds it
    [answer] = (await api.delete_status(gone["id"]))["peers"]
    assert (answer["key"], answer["status"]) == (c.key, "confirmed")


async def test_the_push_page_carries_each_kind_so_no_body_is_parsed_to_find_the_deletes_owed(net: Network) -> None:
    """Which deletes go whole (``receipt_owed``) is read from each entry's ``messages`` row: the bodies are handed
    on as they are, never parsed on the push path."""
    a, c = await net.node("a"), await net.node("c")
    await net.link(a, c)
    ada, api = await a.member()
    await api.publish(said := sign_draft(ada, {"body": {"text": 'says "kind":"delete" in its words'}}))
    await api.publish(post := sign_draft(ada, {"body": {"text": "soon regretted"}}))
    await api.publish(gone := sign_draft(ada, {"kind": "delete", "tags": [["target", post["id"]]]}))
    stranger = Identity.generate()
    theirs = sign_draft(stranger, {"body": {"text": "also regretted"}})
    relayed = sign_draft(stranger, {"kind": "delete", "tags": [["target", theirs["id"]]]})
    await a.state.store.ingest([theirs, relayed], origin=f"peer:{c.key}")  # not ours: no receipt is owed to us
    page = await outbound(a.state.store, after=0, limit=100, exclude_origin=None, to=c.key)
    kinds = dict(zip((item.hex() for item in page.ids), page.kinds, strict=True))
    assert [kinds[m["id"]] for m in (said, gone, relayed)] == ["post", "delete", "delete"]
    assert receipt_owed(page) == {bytes.fromhex(gone["id"])}
    opaque = replace(page, entries=[(seq, b"not json") for seq, _ in page.entries])
    assert receipt_owed(opaque) == {bytes.fromhex(gone["id"])}  # the kind comes from the row alone
