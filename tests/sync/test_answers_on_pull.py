"""A peer that pulls (never pushed to) still confirms deletes and says what it withheld: its signed answers go
back on its next request (``POST /fed/v1/answers``), and only those about messages it may have had are kept."""

from __future__ import annotations

import httpx
import orjson
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.receipts import signed
from murmur.store import receipts, trust
from tests.federation.conftest import Network, Node
from tests.sync.test_receipts import delete, post


async def _pulling(net: Network) -> tuple[Node, Node]:
    """a never dials b (b is serve-only to a); b pulls a's log."""
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b, a_mode="serve-only", b_mode="pull-only")
    return a, b


async def test_a_pulling_peer_confirms_a_delete(net: Network) -> None:
    a, b = await _pulling(net)
    ada, ada_api = await a.member()
    first = post(ada, "regret")
    await ada_api.publish(first)
    await b.pull(a)
    await ada_api.publish(delete(ada, first))
    assert [p["status"] for p in (await ada_api.delete_status(first["id"]))["peers"]] == ["waiting"]
    await b.pull(a)
    [peer] = (await ada_api.delete_status(first["id"]))["peers"]
    assert (peer["key"], peer["status"], peer["answer"]) == (b.key, "confirmed", "stored")


async def test_a_pulling_peer_says_what_it_withheld(net: Network) -> None:
    a, b = await _pulling(net)
    await trust.set_labels(a.state.store, a.state.identity, b.key, ["inside"])  # a counts b inside; b does not
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    await ada_api.publish(scoped)
    await b.pull(a)
    [notice] = (await ada_api.withheld(scoped["id"]))["withheld"]
    assert notice["key"] == b.key and notice["code"] == "out_of_audience"


async def _answers(node: Node, peer: Identity, body: bytes) -> httpx.Response:
    headers = sign_request(peer, "POST", "/fed/v1/answers", "", body, recipient=node.key).as_dict()
    async with httpx.AsyncClient(transport=node.transport, base_url=node.url) as http:
        return await http.post("/fed/v1/answers", content=body, headers=headers)


async def test_answers_about_what_the_peer_may_not_have_are_not_kept(net: Network) -> None:
    a, b = await _pulling(net)
    ada, ada_api = await a.member()
    public, local = post(ada, "for everyone"), post(ada, "here only", "local")
    await ada_api.publish(public)
    await ada_api.publish(local)
    about = [
        signed(b.state.identity, {"id": m["id"], "status": "refused", "code": "policy", "reason": "no"})
        for m in (public, local)
    ]
    about.append(signed(b.state.identity, {"id": "ab" * 32, "status": "refused", "code": "policy", "reason": "no"}))
    answer = await _answers(a, b.state.identity, orjson.dumps({"answers": about}))
    assert answer.status_code == 200 and answer.json() == {"kept": 1}
    assert [r.peer for r in await receipts.withheld(a.state.store, public["id"])] == [b.key]
    assert await receipts.withheld(a.state.store, local["id"]) == []


@pytest.mark.parametrize("body", [b"", b"[]", b'{"answers": 3}', b'{"answers": [1]}', b"{"])
async def test_answers_of_the_wrong_shape_are_refused_with_a_reason(net: Network, body: bytes) -> None:
    a, b = await _pulling(net)
    answer = await _answers(a, b.state.identity, body)
    assert answer.status_code == 400 and answer.json()["error"]["reason"]


async def test_a_stranger_cannot_send_answers(net: Network) -> None:
    a, _ = await _pulling(net)
    answer = await _answers(a, Identity.generate(), b'{"answers": []}')
    assert answer.status_code == 403


async def test_a_pulling_peer_confirms_what_it_narrowed(net: Network) -> None:
    """A reply an older client signed public in a scoped thread is scoped on the puller too (it holds the post):
    it answers it, signed, so a chain of such replies stops there (``for_peers``), as a push's answer would."""
    from murmur.message import sign_draft
    from tests.sync.test_receipts import T0

    a, b = await _pulling(net)
    await trust.set_labels(a.state.store, a.state.identity, b.key, ["inside"])
    await trust.set_labels(b.state.store, b.state.identity, a.key, ["inside"])
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    tags = [["reply", scoped["id"]], ["root", scoped["id"]]]
    body = {"text": "older client", "visibility": "public"}
    reply = sign_draft(ada, {"created_at": T0 + 1, "body": body, "tags": tags})
    plain = post(ada, "for everyone")
    for message in (scoped, reply, plain):
        await ada_api.publish(message)
    await b.pull(a)
    assert await b.has(reply["id"])
    rows = await a.state.store.conn.execute_fetchall(
        "SELECT message, status FROM receipts WHERE peer = ?", (bytes.fromhex(b.key),)
    )
    answered = {bytes(m).hex(): s for m, s in rows}
    assert answered.get(reply["id"]) == "stored" and answered.get(scoped["id"]) == "stored"
    assert plain["id"] not in answered  # a public message narrowed by nothing needs no receipt
