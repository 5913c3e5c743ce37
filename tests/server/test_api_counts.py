"""GET /api/v1/counts, and the origin of a timeline item: where the shown post came from, and where its boost did."""

from __future__ import annotations

import pytest

from murmur.client.api import ApiError
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.server.conftest import Harness


def post(who: Identity, text: str, **tags: str) -> dict:  # type: ignore[type-arg]
    return sign_draft(who, {"body": {"text": text}, "tags": [[k, v] for k, v in tags.items()]})


async def test_counts_follow_replies_reactions_boosts_and_their_deletes(server: Harness) -> None:
    me, alice = Identity.generate(), Identity.generate()
    api, _ = await server.member(me), await server.member(alice)
    mine = post(me, "mine")
    await api.publish(mine)
    reply = post(alice, "reply", reply=mine["id"], root=mine["id"])
    reaction = sign_draft(alice, {"kind": "reaction", "body": {"emoji": "👍"}, "tags": [["target", mine["id"]]]})
    boost = sign_draft(alice, {"kind": "boost", "body": {}, "tags": [["target", mine["id"]]]})
    await server.state.store.ingest([reply, reaction, boost])
    counted = {
        mine["id"]: {"replies": 1, "reactions": 1, "boosts": 1},
        reply["id"]: {"replies": 0, "reactions": 0, "boosts": 0},
    }
    # a reaction is not a post, and an unknown id is not held: both are left out
    assert await api.counts([mine["id"], reply["id"], reaction["id"], "ab" * 32]) == counted
    deletes = [
        sign_draft(alice, {"kind": "delete", "body": {}, "tags": [["target", m["id"]]]})
        for m in (reply, reaction, boost)
    ]
    await server.state.store.ingest(deletes)
    assert await api.counts([mine["id"], reply["id"]]) == {mine["id"]: {"replies": 0, "reactions": 0, "boosts": 0}}


@pytest.mark.parametrize(
    ("ids", "reason"),
    [
        ("", "Name the posts"),
        ("xyz", "64 lowercase hex"),
        ("AB" * 32, "64 lowercase hex"),
        ("ab" * 32 + ",", "64 lowercase hex"),
        (",".join(["ab" * 32] * 101), "at most 100"),
    ],
)
async def test_counts_refuses_what_is_not_a_list_of_ids(server: Harness, ids: str, reason: str) -> None:
    api = await server.member()
    with pytest.raises(ApiError) as err:
        await api.request("GET", "/api/v1/counts", params={"ids": ids})
    assert err.value.status == 400 and err.value.code == "bad_request" and reason in err.value.message


async def test_origin_is_the_shown_posts_and_boost_origin_the_boosts(server: Harness) -> None:
    me, far = Identity.generate(), Identity.generate()
    api = await server.member(me)
    mine = post(me, "my own words")
    await api.publish(mine)
    theirs = post(far, "from afar")
    await server.state.store.ingest([theirs], origin="peer:" + "cd" * 32)
    boosts = [sign_draft(far, {"kind": "boost", "body": {}, "tags": [["target", mine["id"]]]})]
    await server.state.store.ingest(boosts, origin="peer:" + "cd" * 32)
    await api.publish(sign_draft(me, {"kind": "boost", "body": {}, "tags": [["target", theirs["id"]]]}))
    items = [i for who in (me, far) for i in (await api.timeline(f"@{who.public_key}", limit=10))["items"]]
    seen = {(i["message"]["id"], i["boosted_by"]): (i["origin"], i["boost_origin"]) for i in items}
    peer = "peer:" + "cd" * 32
    assert seen[(mine["id"], None)] == ("local", None)
    assert seen[(theirs["id"], None)] == (peer, None)
    assert seen[(mine["id"], far.public_key)] == ("local", peer)  # my post, boosted from afar: still mine, here
    assert seen[(theirs["id"], me.public_key)] == (peer, "local")  # their post, boosted by me
