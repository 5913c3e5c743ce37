"""A reader's server tells what it lacks of an author's public stream and asks its peers for it, in-process:
gaps on profiles and threads, repair by counters through the one validation path, bad input refused."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from murmur.client.api import ApiError
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.federation.refill import wanted
from murmur.store.gaps import Gap
from murmur.store.peers import add_peer
from tests.counted import T0, stream
from tests.federation.conftest import Network, Node
from tests.trickling import trickling_server


async def _home_and_reader(net: Network) -> tuple[Node, Node, Identity, list[dict[str, Any]]]:
    home, reader = await net.node("home"), await net.node("reader")
    await net.link(home, reader)
    ada, _ = await home.member()
    posts = stream(ada, 5)
    await home.state.store.ingest(posts)
    return home, reader, ada, posts


async def test_a_reader_is_told_what_its_server_lacks_and_gets_it_from_a_peer(net: Network) -> None:
    home, reader, ada, posts = await _home_and_reader(net)
    await reader.state.store.ingest([posts[0], posts[2], posts[4]], origin=f"peer:{home.key}")  # 2 and 4 dropped
    _, bob = await reader.member()
    profile = await bob.profile(ada.public_key)
    assert profile["missing"] == [{"device": ada.public_key, "device_name": "", "count": 2, "ranges": [[2, 2], [4, 4]]}]

    answer = await bob.repair(ada.public_key[:12])
    assert answer["key"] == ada.public_key
    assert [(p["key"], p["fetched"], p["stored"], p["error"]) for p in answer["peers"]] == [(home.key, 2, 2, "")]
    assert answer["missing"] == []
    assert (await bob.profile(ada.public_key))["missing"] == []
    assert all([await reader.has(p["id"]) for p in posts])


async def test_a_thread_says_whose_public_messages_are_missing(net: Network) -> None:
    home, reader = await net.node("home"), await net.node("reader")
    await net.link(home, reader)
    ada, _ = await home.member()
    bob, bob_api = await reader.member()
    root = sign_draft(bob, {"kind": "post", "body": {"text": "what do you think?"}}, created_at=T0)
    replies = stream(ada, 3, reply=root["id"])
    await reader.state.store.ingest([root, replies[0], replies[2]])
    await home.state.store.ingest([root, *replies])
    thread = await bob_api.thread(root["id"])
    assert thread["missing"] == [{"device": ada.public_key, "device_name": "", "count": 1, "ranges": [[2, 2]]}]
    await bob_api.repair(ada.public_key)
    assert (await bob_api.thread(root["id"]))["missing"] == []


async def test_a_thread_asks_peers_for_the_messages_it_names_by_id(net: Network) -> None:
    """A thread names a parent (and root) this server never received, public or not, numbered or not: the reader
    asks for them by id; each peer answers through the audience rule, and what it may not send stays absent."""
    home, reader = await net.node("home"), await net.node("reader")
    await net.link(home, reader)
    ada, _ = await home.member()
    bob, bob_api = await reader.member()
    root = sign_draft(ada, {"kind": "post", "body": {"text": "what do you think?"}}, created_at=T0)
    kept = sign_draft(ada, {"kind": "post", "body": {"text": "home only", "visibility": "local"}}, created_at=T0)
    answers = [
        sign_draft(bob, {"kind": "post", "body": {"text": "this"}, "tags": [["reply", p["id"]], ["root", p["id"]]]},
                   created_at=T0 + 1)
        for p in (root, kept)
    ]  # fmt: skip
    await home.state.store.ingest([root, kept])
    await reader.state.store.ingest(answers)
    thread = await bob_api.thread(answers[0]["id"])
    assert thread["root"]["id"] == root["id"] and thread["root"]["item"] is None and thread["missing"] == []

    answer = await bob_api.repair(ids=[root["id"], kept["id"], answers[0]["id"]])
    assert [(p["key"], p["fetched"], p["stored"], p["error"]) for p in answer["peers"]] == [(home.key, 1, 1, "")]
    assert answer["absent"] == [kept["id"]]  # a local post never leaves its server
    assert (await bob_api.thread(answers[0]["id"]))["root"]["item"]["message"]["id"] == root["id"]
    again = await bob_api.repair(ids=[root["id"]])  # nothing left to ask for: no peer is asked
    assert again["peers"] == [] and again["absent"] == []


async def test_what_a_peer_sends_back_goes_through_the_one_validation_path(net: Network) -> None:
    """A peer answering with a forged message (its text changed after signing) stores nothing; an unreachable
    peer is reported, and the others are still asked."""
    _home, reader, ada, posts = await _home_and_reader(net)
    await reader.state.store.ingest([posts[0], posts[4]])
    forged = {**posts[1], "body": {"text": "words ada never wrote"}}

    def liar(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=orjson.dumps(forged) + b"\n")

    liar_key = Identity.generate().public_key
    await add_peer(reader.state.store, liar_key, "http://liar.test", name="liar")
    await add_peer(reader.state.store, Identity.generate().public_key, "http://127.0.0.1:9", name="gone")
    network = reader.state.transport_for
    reader.state.transport_for = lambda peer: httpx.MockTransport(liar) if peer.name == "liar" else network(peer)
    _, bob = await reader.member()
    answer = await bob.repair(ada.public_key)
    by_name = {p["name"]: p for p in answer["peers"]}
    assert (by_name["liar"]["fetched"], by_name["liar"]["stored"], by_name["liar"]["refused"]) == (1, 0, 1)
    assert by_name["gone"]["error"] and by_name["gone"]["stored"] == 0
    assert by_name["home"]["stored"] == 3
    raw = await reader.state.store.get_raw(posts[1]["id"])
    assert raw is not None and orjson.loads(raw)["body"] == posts[1]["body"]


@pytest.mark.parametrize(
    "body",
    [
        b"", b"[]", b'{"key": 7}', b'{"key": ""}', b'{"key": "zz"}', b'{"nobody": "x"}', b'{"ids": []}',
        b'{"ids": "ab"}', b'{"ids": ["AB"]}', b'{"ids": [7]}', orjson.dumps({"ids": ["ab" * 32] * 101}),
    ],
)
async def test_a_repair_request_of_the_wrong_shape_is_refused_with_a_reason(net: Network, body: bytes) -> None:
    reader = await net.node("reader")
    _, bob = await reader.member()
    payload = orjson.loads(body) if body else None
    with pytest.raises(ApiError) as refused:
        await bob.request("POST", "/api/v1/repairs", body=payload)
    assert refused.value.status == 400 and refused.value.message


async def _signed_fetch(node: Node, peer: Identity, body: bytes) -> httpx.Response:
    headers = sign_request(peer, "POST", "/fed/v1/fetch", "", body, recipient=node.key).as_dict()
    async with httpx.AsyncClient(transport=node.transport, base_url=node.url) as http:
        return await http.post("/fed/v1/fetch", content=body, headers=headers)


@pytest.mark.parametrize(
    ("counted", "status"),
    [
        ([{"device": "ab" * 32, "from": 3, "to": 2}], 400),
        ([{"device": "AB" * 32, "from": 1, "to": 2}], 400),
        ([{"device": "ab" * 32, "from": 0, "to": 2}], 400),
        ([{"device": "ab" * 32, "from": 1, "to": True}], 400),
        ([{"device": "ab" * 32, "from": 1, "to": 2**53}], 400),
        ([{"device": "ab" * 32, "from": 1}], 400),
        ({"device": "ab" * 32}, 400),
        ([{"device": "ab" * 32, "from": 1, "to": 1001}], 413),
        ([{"device": "ab" * 32, "from": 1, "to": 600}, {"device": "cd" * 32, "from": 1, "to": 600}], 413),
    ],
)
async def test_a_fetch_by_counters_of_the_wrong_shape_is_refused(net: Network, counted: Any, status: int) -> None:
    home = await net.node("home")
    peer = Identity.generate()
    await add_peer(home.state.store, peer.public_key, "", mode="serve-only")
    answer = await _signed_fetch(home, peer, orjson.dumps({"counted": counted}))
    assert answer.status_code == status and answer.json()["error"]["reason"]


async def test_a_fetch_by_counters_answers_only_what_the_peer_may_see(net: Network) -> None:
    home, _reader, ada, posts = await _home_and_reader(net)
    peer = Identity.generate()
    await add_peer(home.state.store, peer.public_key, "", mode="serve-only")
    asked = {"counted": [{"device": ada.public_key, "from": 2, "to": 3}, {"device": "cd" * 32, "from": 1, "to": 9}]}
    answer = await _signed_fetch(home, peer, orjson.dumps(asked))
    assert [orjson.loads(line)["id"] for line in answer.content.splitlines()] == [posts[1]["id"], posts[2]["id"]]


def test_one_request_asks_for_at_most_a_batch_lowest_first() -> None:
    found = [Gap("ab" * 32, 10**9, ((1, 10**9 - 1),)), Gap("cd" * 32, 1, ((1, 1),))]
    assert wanted(found, limit=500) == [{"device": "ab" * 32, "from": 1, "to": 500}]
    assert wanted([Gap("ab" * 32, 3, ((2, 3), (5, 5)))], limit=2) == [{"device": "ab" * 32, "from": 2, "to": 3}]


async def test_a_repair_gives_up_a_peer_still_answering_when_its_time_is_up(
    net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer whose answer keeps coming (each read in time, its own deadline far off) is given up on for this
    repair when REPAIR_S is up, and said to be, so that the member waiting is answered."""
    monkeypatch.setattr("murmur.server.federation.refill.REPAIR_S", 0.5)
    reader = await net.node("reader")
    _, bob = await reader.member()
    with trickling_server(0.05) as url:
        slow = Identity.generate().public_key
        await add_peer(reader.state.store, slow, url, name="slow")
        answer = await asyncio.wait_for(bob.repair(ids=["ab" * 32]), 20)
    [(key, error)] = [(p["key"], p["error"]) for p in answer["peers"]]
    assert key == slow and "still answering after 0.5 s" in error and "ask again later" in error
    assert answer["absent"] == ["ab" * 32]
