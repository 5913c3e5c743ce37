"""Every answer a peer gives is checked for shape and size at the client, and a bad one is a PeerError.

A peer's answers are input like any other: a push answered with a JSON array, a pull holding more than was
asked, an answer that never ends, a compressed answer that would expand past any cap. Each must become one
PeerError with a sentence for ``murmur peer list``, be counted against the peer, and store nothing.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from murmur.errors import MurmurError, PeerError
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.peer_client import LINE_BYTES, PeerClient
from murmur.store.peers import Peer, add_peer, get_peer
from tests.federation.conftest import Network, Node

FAKE_URL = "http://fake.test"
Handler = Callable[[httpx.Request], httpx.Response]


def raw_post(text: str) -> bytes:
    return json.dumps(sign_draft(Identity.generate(), {"body": {"text": text}})).encode()


async def fake_peer(node: Node) -> Peer:
    peer = await add_peer(node.state.store, Identity.generate().public_key, FAKE_URL, name="fake")
    return peer


def client_for(node: Node, peer: Peer, handler: Handler) -> PeerClient:
    return PeerClient(node.state.identity, peer, transport=httpx.MockTransport(handler))


def answer(body: bytes | str, status: int = 200, **headers: str) -> Handler:
    content = body.encode() if isinstance(body, str) else body
    as_sent = {name: value.encode() for name, value in headers.items()}  # bytes: non-ASCII values too
    return lambda request: httpx.Response(status, content=content, headers=as_sent)


def pull_answer(body: bytes, cursor: str = "5", more: str = "0", **headers: str) -> Handler:
    return answer(body, **{"Murmur-Cursor": cursor, "Murmur-More": more, **headers})


def test_peer_error_is_a_murmur_error() -> None:
    assert issubclass(PeerError, MurmurError)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[]", "with an array, not an object"),
        ('[{"status": "stored"}]', "with an array, not an object"),
        ('"ok"', "with a string"),
        ("42", "with a number"),
        ("null", "with null"),
        ("not json", "other than JSON"),
        ("{}", "with null as its results"),
        ('{"results": {}}', "with an object as its results"),
        ('{"results": []}', "with 0 results"),
        ('{"results": [{"status": "stored"}, {"status": "stored"}]}', "with 2 results"),
        ('{"results": [1]}', "no known status"),
        ('{"results": [{"status": "fine"}]}', "no known status"),
        ('{"results": [{}]}', "no known status"),
    ],
)
async def test_push_answers_of_the_wrong_shape_are_peer_errors(net: Network, body: str, says: str) -> None:
    a = await net.node("a")
    client = client_for(a, await fake_peer(a), answer(body))
    with pytest.raises(PeerError) as err:
        await client.push([raw_post("one")])
    assert says in err.value.message and FAKE_URL in err.value.message
    await client.aclose()


@pytest.mark.parametrize(
    ("handler", "says"),
    [
        (pull_answer(b"", cursor=""), "valid cursor"),
        (pull_answer(b"", cursor="9" * 5000), "valid cursor"),
        (pull_answer(b"", cursor="\u0663"), "valid cursor"),
        (pull_answer(b"", cursor="-1"), "valid cursor"),
        (pull_answer(b"", more="yes"), "Murmur-More"),
        (answer(b"", **{"Murmur-Cursor": "1"}), "Murmur-More"),
        (pull_answer(b"\n".join(raw_post(str(i)) for i in range(3))), "3 messages; 2 were asked for"),
        (pull_answer(b"x" * (2 * LINE_BYTES + 1)), "more than"),
        (pull_answer(b"", **{"Content-Length": str(10**12)}), "more than"),
        (pull_answer(gzip.compress(b"{}\n"), **{"Content-Encoding": "gzip"}), "Content-Encoding"),
    ],
)
async def test_pull_answers_of_the_wrong_shape_or_size_are_peer_errors(
    net: Network, handler: Handler, says: str
) -> None:
    a = await net.node("a")
    client = client_for(a, await fake_peer(a), handler)
    with pytest.raises(PeerError) as err:
        await client.pull(0, limit=2)
    assert says in err.value.message, err.value.message
    await client.aclose()


async def test_an_endless_answer_is_read_only_up_to_its_cap(net: Network) -> None:
    a = await net.node("a")
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 1
            yield b"y" * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless(), headers={"Murmur-Cursor": "1", "Murmur-More": "0"})

    client = client_for(a, await fake_peer(a), handler)
    with pytest.raises(PeerError):
        await client.pull(0, limit=10)  # cap: 10 lines of at most LINE_BYTES
    assert produced <= 10 * LINE_BYTES // 65536 + 2  # never read whole, never past the cap
    await client.aclose()


async def test_a_fetch_answered_with_more_than_asked_is_a_peer_error(net: Network) -> None:
    a = await net.node("a")
    client = client_for(a, await fake_peer(a), answer(b"\n".join(raw_post(str(i)) for i in range(2))))
    with pytest.raises(PeerError) as err:
        await client.fetch(["ab" * 32])
    assert "fetch asking for 1 with 2 messages" in err.value.message
    await client.aclose()


async def test_a_reconcile_answer_past_its_cap_is_a_peer_error(net: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    from murmur.server.federation import peer_client

    monkeypatch.setattr(peer_client, "MAX_RECONCILE_ANSWER_BYTES", 1000)
    a = await net.node("a")
    client = client_for(a, await fake_peer(a), answer(b"\x01" * 1001))
    with pytest.raises(PeerError):
        await client.reconcile(b"\x01")
    await client.aclose()


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("junk"),
     httpx.DecodingError("bad"), httpx.TooManyRedirects("loop"), httpx.InvalidURL("no"),
     ConnectionResetError("reset"), AttributeError("'NoneType' object has no attribute 'getpeername'")],
)  # fmt: skip
async def test_every_httpx_error_becomes_a_peer_error(net: Network, error: Exception) -> None:
    a = await net.node("a")

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = client_for(a, await fake_peer(a), handler)
    with pytest.raises(PeerError) as err:
        await client.push([raw_post("x")])
    assert err.value.__cause__ is error and FAKE_URL in err.value.message
    await client.aclose()


async def test_an_oversized_pull_is_counted_against_the_peer_and_stores_nothing(net: Network) -> None:
    a = await net.node("a")
    peer = await fake_peer(a)
    lines = b"\n".join(raw_post(str(i)) for i in range(3)) + b"\n"
    a.federator.transport_for = lambda p: httpx.MockTransport(pull_answer(lines, cursor="3"))
    from murmur.server.federation import pull

    original = pull.PULL_PAGE
    pull.PULL_PAGE = 2
    try:
        report = await a.federator.sync(peer, push=False)
    finally:
        pull.PULL_PAGE = original
    assert "3 messages; 2 were asked for" in report.error
    after = await get_peer(a.state.store, peer.key)
    assert after is not None and after.failures == 1 and "2 were asked for" in after.last_error
    assert after.pull_cursor == 0 and await a.state.store.count() == 0
