"""A signed request is good at the server it was signed for, and nowhere else.

Peer P trusts and is trusted by servers A and B. A push P signed for A, replayed verbatim to B, must not be
stored by B; a member's request to one home server, replayed to another where the same key is a member, must
not be served. Both attacks worked before signatures named their recipient.
"""

from __future__ import annotations

import json

import httpx
import pytest

from murmur.client.api import MurmurClient, WrongServer
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store.members import add_member
from murmur.store.peers import add_peer
from tests.federation.conftest import Network, Node


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on to a server, keeping a copy of each as it went on the wire."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


async def replay(request: httpx.Request, to: Node) -> httpx.Response:
    """The captured request, byte for byte (method, target, headers, body), sent to another server."""
    copy = httpx.Request(request.method, request.url.copy_with(host=f"{to.name}.test"), headers=request.headers,
                         content=request.content)  # fmt: skip
    copy.headers["Host"] = request.headers["Host"]  # even the Host line is the original one
    async with httpx.AsyncClient(transport=to.transport) as http:
        return await http.send(copy)


async def test_a_push_signed_for_one_server_is_refused_by_another(net: Network) -> None:
    p, a, b = await net.node("p"), await net.node("a"), await net.node("b")
    await net.link(p, a)
    await net.link(p, b)
    author = Identity.generate()
    post = sign_draft(author, {"body": {"text": "meant for a"}})
    await p.state.store.ingest([post])
    recorder = Recorder(a.transport)
    p.federator.transport_for = lambda peer: recorder if peer.url == a.url else net.transport_for(peer)
    await p.push(a)
    [push] = [r for r in recorder.sent if r.url.path == "/fed/v1/messages"]
    assert await a.state.store.get_raw(post["id"]) is not None

    answer = await replay(push, b)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "wrong_server", answer.text
    assert await b.state.store.count() == 0
    # B still hears from P when P signs for B.
    await p.push(b)
    assert await b.state.store.get_raw(post["id"]) is not None


async def test_a_pull_signed_for_one_server_is_refused_by_another(net: Network) -> None:
    p, a, b = await net.node("p"), await net.node("a"), await net.node("b")
    await net.link(p, a)
    await net.link(p, b)
    recorder = Recorder(a.transport)
    p.federator.transport_for = lambda peer: recorder if peer.url == a.url else net.transport_for(peer)
    await p.pull(a)
    [pull] = [r for r in recorder.sent if r.url.path == "/fed/v1/log"]
    answer = await replay(pull, b)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "wrong_server"


async def test_a_member_request_replayed_to_another_home_server_is_refused(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    ada = Identity.generate()
    await add_member(a.state.store, ada.public_key)
    await add_member(b.state.store, ada.public_key)  # the same key is a member of both
    recorder = Recorder(a.transport)
    async with MurmurClient(a.url, ada, transport=recorder) as api:
        post = sign_draft(ada, {"body": {"text": "only on a"}})
        await api.publish(post)
    [publish] = [r for r in recorder.sent if r.url.path == "/api/v1/messages"]
    assert "recipient=" in publish.headers["Signature-Input"]
    answer = await replay(publish, b)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "wrong_server"
    assert await b.state.store.get_raw(post["id"]) is None


async def test_the_client_signs_for_the_key_it_pinned(net: Network) -> None:
    """A client that knows its server's key (say, from when it joined) never signs for another one: a different
    server now answering at that URL refuses, and says why."""
    a, b = await net.node("a"), await net.node("b")
    ada = Identity.generate()
    await add_member(b.state.store, ada.public_key)
    async with MurmurClient(b.url, ada, transport=b.transport, server_key=a.key) as api:
        with pytest.raises(WrongServer):  # b answers as itself, and refuses what was signed for a
            await api.request("GET", "/api/v1/members")
    async with MurmurClient(b.url, ada, transport=b.transport) as api:  # not pinned: learns b's key from its info
        assert (await api.request("GET", "/api/v1/members"))["members"]


async def test_a_peer_that_signs_for_itself_cannot_reach_anyone(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await add_peer(b.state.store, a.key, a.url, name="a")
    body = json.dumps(sign_draft(Identity.generate(), {"body": {"text": "x"}})).encode() + b"\n"
    headers = sign_request(a.state.identity, "POST", "/fed/v1/messages", "", body, recipient=a.key).as_dict()
    async with httpx.AsyncClient(transport=b.transport, base_url=b.url) as http:
        answer = await http.post("/fed/v1/messages", content=body, headers=headers)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "wrong_server"
    assert await b.state.store.count() == 0
