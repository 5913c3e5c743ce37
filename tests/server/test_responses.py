"""Reacting and boosting once, and taking it back (``murmur.client.responses``, the CLI's and the TUI's rule)."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.client.responses import NothingToUndo, own, respond, undo
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store.notifications import derived
from tests.server.conftest import Harness


async def counts(api: MurmurClient, post: dict[str, Any]) -> dict[str, int]:
    [item] = [i for i in (await api.timeline("local"))["items"] if i["message"]["id"] == post["id"]]
    return dict(item["counts"])


async def test_asking_twice_publishes_once_and_undo_takes_back(server: Harness) -> None:
    ann, ben = Identity.generate(), Identity.generate()
    api_ann, api_ben = await server.member(ann), await server.member(ben)
    post = sign_draft(ann, {"body": {"text": "mine"}})
    await api_ann.publish(post)
    first = await respond(api_ben, post, "boost")
    assert first["status"] == "stored"
    assert await respond(api_ben, post, "boost") == {"status": "already", "id": first["id"]}
    await respond(api_ben, post, "reaction", "👍")
    assert (await respond(api_ben, post, "reaction", "👍"))["status"] == "already"
    assert (await respond(api_ben, post, "reaction", "🎉"))["status"] == "stored"
    assert await counts(api_ann, post) == {"replies": 0, "reactions": 2, "boosts": 1}
    assert [n["kind"] for n in (await api_ann.notifications())["items"]] == ["reaction", "reaction", "boost"]

    await undo(api_ben, post["id"], "reaction", "👍")
    assert await counts(api_ann, post) == {"replies": 0, "reactions": 1, "boosts": 1}
    await undo(api_ben, post["id"], "boost")
    assert await counts(api_ann, post) == {"replies": 0, "reactions": 1, "boosts": 0}
    with pytest.raises(NothingToUndo, match="not boosted"):
        await undo(api_ben, post["id"], "boost")
    with pytest.raises(NothingToUndo, match="not reacted"):
        await undo(api_ann, post["id"], "reaction", "🎉")  # ann never reacted; ben's 🎉 is not hers


async def test_undo_deletes_every_twin_from_every_device(server: Harness) -> None:
    ann, ben = Identity.generate(), Identity.generate()
    api_ann, api_ben = await server.member(ann), await server.member(ben)
    post = sign_draft(ann, {"body": {"text": "mine"}})
    await api_ann.publish(post)
    tags = [["target", post["id"]]]
    for at in (1, 2):  # two devices, the same key: two distinct boost messages
        await api_ben.publish(
            sign_draft(ben, {"kind": "boost", "body": {}, "tags": tags}, created_at=post["created_at"] + at)
        )
    assert (await counts(api_ann, post))["boosts"] == 1
    assert len(await own(api_ben, post["id"][:10], "boost")) == 2
    assert len(await undo(api_ben, post["id"], "boost")) == 2
    assert (await counts(api_ann, post))["boosts"] == 0


async def test_a_server_cannot_make_undo_delete_something_else(
    server: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = Identity.generate()
    api = await server.member(ann)
    post = sign_draft(ann, {"body": {"text": "keep me"}})
    await api.publish(post)

    async def lying(msg_id: str) -> dict[str, Any]:
        return {"target": post["id"], "messages": [post]}  # "your boosts": in fact the post itself

    monkeypatch.setattr(api, "own_responses", lying)
    with pytest.raises(NothingToUndo):
        await undo(api, post["id"], "boost")
    assert (await api.message(post["id"]))["id"] == post["id"]


async def test_mine_lists_only_the_callers_own(server: Harness) -> None:
    ann, ben = Identity.generate(), Identity.generate()
    api_ann, api_ben = await server.member(ann), await server.member(ben)
    post = sign_draft(ann, {"body": {"text": "mine"}})
    await api_ann.publish(post)
    await respond(api_ann, post, "reaction", "👍")
    await respond(api_ben, post, "reaction", "👍")
    answer = await api_ben.own_responses(post["id"][:8])
    assert answer["target"] == post["id"]
    assert [m["author"] for m in answer["messages"]] == [ben.public_key]


async def test_the_live_stream_tells_a_twin_once(server: Harness) -> None:
    ann, ben = Identity.generate(), Identity.generate()
    api_ann, api_ben = await server.member(ann), await server.member(ben)
    post = sign_draft(ann, {"body": {"text": "mine"}})
    await api_ann.publish(post)
    tags = [["target", post["id"]]]
    told = []
    for at in (1, 2):
        boost = sign_draft(ben, {"kind": "boost", "body": {}, "tags": tags}, created_at=post["created_at"] + at)
        seq = (await api_ben.publish(boost))["seq"]
        # What the stream tells at this message: the notices derived when it was stored.
        told.append([n.kind for _, n in await derived(server.state.store, ann.public_key, after=seq - 1, upto=seq)])
    assert told == [["boost"], []]
