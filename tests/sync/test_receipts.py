"""Signed answers to pushes: a delete's receipts per peer (`murmur delete ID --status`), and a peer's signed
notice that it withheld a message, shown to readers as "withheld by X: reason"."""

from __future__ import annotations

from typing import Any

import orjson

from murmur.client.api import MurmurClient
from murmur.client.render import Context, render_thread
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.receipts import MAX_NOTICE_CODE, MAX_NOTICE_REASON, notice_verifies, signed, verifies
from murmur.store import receipts, removals, trust
from tests.federation.conftest import Network
from tests.store_helpers import sign_now

T0 = 1_700_000_000_000


def post(author: Identity, text: str, visibility: str = "public") -> dict[str, Any]:
    return sign_draft(author, {"created_at": T0, "body": {"text": text, "visibility": visibility}, "tags": []})


def delete(author: Identity, target: dict[str, Any]) -> dict[str, Any]:
    return sign_draft(author, {"kind": "delete", "created_at": T0 + 1, "body": {}, "tags": [["target", target["id"]]]})


async def test_a_delete_shows_which_peers_confirmed_it(net: Network) -> None:
    a, b, c = await net.node("a"), await net.node("b"), await net.node("c")
    await net.link(a, b)
    await net.link(a, c)
    await sign_now(a.state.store, a.state.identity)  # Ada's client names a peer only if a's manifest lists it
    ada, ada_api = await a.member()
    first = post(ada, "regret")
    await ada_api.publish(first)
    await ada_api.publish(delete(ada, first))
    await a.push(b)  # c never hears of it (it is down, say)
    status = await ada_api.delete_status(first["id"][:10])
    by_name = {p["name"]: p for p in status["peers"]}
    assert by_name["b"]["status"] == "confirmed" and by_name["c"]["status"] == "waiting"
    # the receipt is b's signature, checkable by anyone holding b's key
    receipt = {"id": status["delete"], "status": by_name["b"]["answer"], "sig": by_name["b"]["sig"]}
    assert verifies(b.key, receipt) and not verifies(c.key, receipt)
    await a.push(c)
    assert {p["status"] for p in (await ada_api.delete_status(first["id"]))["peers"]} == {"confirmed"}


async def withheld_by_b(net: Network, *others: str) -> tuple[str, MurmurClient, dict[str, Any], list[dict[str, Any]]]:
    """Ada on a posts to ``inside``, which a counts b in and b does not, and publicly ``others``; a pushes to b,
    which refuses the scoped post, signed. b's key, Ada's client, the scoped post and the others."""
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    await trust.set_labels(a.state.store, a.state.identity, b.key, ["inside"])
    ada, ada_api = await a.member()
    scoped = post(ada, "inside only", "scope:inside")
    published = [scoped, *(post(ada, text) for text in others)]
    for message in published:
        await ada_api.publish(message)
    await a.push(b)
    return b.key, ada_api, scoped, published[1:]


async def test_a_peer_that_withholds_a_message_says_so_and_readers_see_it(net: Network) -> None:
    b_key, ada_api, scoped, _ = await withheld_by_b(net)
    [notice] = (await ada_api.withheld(scoped["id"]))["withheld"]
    assert notice["key"] == b_key and notice["code"] == "out_of_audience" and "'inside'" in notice["reason"]
    answer = await ada_api.thread(scoped["id"])
    lines = render_thread(answer["root"], Context.of(answer))
    assert any(line.strip().startswith("withheld by b (") and "'inside'" in line for line in lines)


async def test_an_answer_that_does_not_verify_is_not_kept(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    msg_id = "ab" * 32
    forged = signed(Identity.generate(), {"id": msg_id, "status": "refused", "code": "x", "reason": "lies"})
    unsigned = {"id": msg_id, "status": "refused", "code": "x", "reason": "older peer"}
    honest = signed(b.state.identity, {"id": msg_id, "status": "refused", "code": "x", "reason": "policy"})
    tampered = {**honest, "reason": "another reason"}
    assert await receipts.note(a.state.store, b.key, {msg_id}, [forged, unsigned, tampered, {"id": "zz"}]) == 0
    assert await receipts.note(a.state.store, b.key, {msg_id}, [honest]) == 1
    [kept] = await receipts.withheld(a.state.store, msg_id)
    assert kept.reason == "policy"


async def test_a_peer_cannot_pin_an_answer_to_a_message_it_was_not_sent(net: Network) -> None:
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    sent, other = "ab" * 32, "cd" * 32
    about_other = signed(b.state.identity, {"id": other, "status": "refused", "code": "spam", "reason": "scammer"})
    odd_status = signed(b.state.identity, {"id": sent, "status": "anything-goes"})
    assert await receipts.note(a.state.store, b.key, {sent}, [about_other, odd_status]) == 0
    assert await receipts.receipts_for(a.state.store, other) == []
    assert await receipts.receipts_for(a.state.store, sent) == []
    honest = signed(b.state.identity, {"id": sent, "status": "refused", "code": "policy", "reason": "no lunch"})
    assert await receipts.note(a.state.store, b.key, {sent}, [honest, about_other]) == 1
    assert [r.reason for r in await receipts.withheld(a.state.store, sent)] == ["no lunch"]
    assert await receipts.withheld(a.state.store, other) == []


def test_the_ids_a_push_sent_are_read_from_its_lines() -> None:
    ada = Identity.generate()
    one, two = post(ada, "one"), post(ada, "two")
    raws = [orjson.dumps(one), orjson.dumps(two)]
    assert receipts.sent_ids(raws) == {one["id"], two["id"]}


async def test_a_long_reason_is_kept_whole_so_readers_can_verify_it_or_not_at_all(net: Network) -> None:
    """A moderator's reason (up to 500 characters) with the words around it passes 500: a notice cut short would
    no longer verify for any reader, so it is kept whole up to ``MAX_NOTICE_REASON`` and not kept past it."""
    a, b = await net.node("a"), await net.node("b")
    await net.link(a, b)
    sent = "ab" * 32
    removed = removals.refusal("x" * removals.MAX_REASON)
    for reason in (removed, "y" * MAX_NOTICE_REASON):
        line = signed(b.state.identity, {"id": sent, "status": "refused", "code": removals.CODE, "reason": reason})
        assert await receipts.note(a.state.store, b.key, {sent}, [line]) == 1
        [kept] = await receipts.withheld(a.state.store, sent)
        assert kept.reason == reason and notice_verifies(sent, kept.as_dict())
    for code, reason in (("x", "z" * (MAX_NOTICE_REASON + 1)), ("c" * (MAX_NOTICE_CODE + 1), "no")):
        too_long = signed(b.state.identity, {"id": sent, "status": "refused", "code": code, "reason": reason})
        assert await receipts.note(a.state.store, b.key, {sent}, [too_long]) == 0
        assert not notice_verifies(sent, {**too_long, "key": b.key})  # nor would any reader take it
