"""Edits through the client API: published like any message, shown as the newest version everywhere a post is
read, listed by the history endpoint, and checked by the client."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient, mark_verified
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.server.conftest import Harness

T = 1_700_000_000_000


def post_draft(text: str, **tags: Any) -> dict[str, Any]:
    return {"kind": "post", "body": {"text": text}, "tags": tags.get("tags", [])}


def edit_draft(post: dict[str, Any], text: str, cw: str = "") -> dict[str, Any]:
    body = {"text": text, "cw": cw} if cw else {"text": text}
    return {"kind": "edit", "body": body, "tags": [["target", post["id"]]]}


async def setup(server: Harness) -> tuple[Identity, MurmurClient, dict[str, Any], list[dict[str, Any]]]:
    me = Identity.generate()
    api = await server.member(me)
    post = sign_draft(me, post_draft("first draft of the plan"), created_at=T)
    edits = [
        sign_draft(me, edit_draft(post, "second draft of the plan"), created_at=T + 2000),
        sign_draft(me, edit_draft(post, "final plan", cw="long"), created_at=T + 1000),
    ]
    for message in (post, *edits):
        assert (await api.publish(message))["status"] == "stored"
    return me, api, post, edits


async def test_items_carry_the_newest_edit_and_when(server: Harness) -> None:
    me, api, post, edits = await setup(server)
    newest = edits[0]  # the latest by created_at, though published first
    [item] = (await api.timeline("home"))["items"]
    assert item["message"] == post and item["edit"] == newest and item["edited_at"] == newest["created_at"]
    assert item["verified"] is True
    plain = sign_draft(me, post_draft("never edited"), created_at=T + 5000)
    await api.publish(plain)
    fresh = (await api.timeline("home"))["items"][0]
    assert fresh["message"]["id"] == plain["id"] and "edit" not in fresh and "edited_at" not in fresh
    # Threads and search show it the same way; search finds the newest text only.
    thread = await api.thread(post["id"])
    assert thread["root"]["item"]["edit"] == newest
    hits = (await api.search("second", kind="posts"))["posts"]
    assert [h["message"]["id"] for h in hits] == [post["id"]] and hits[0]["edit"] == newest
    assert (await api.search("first", kind="posts"))["posts"] == []
    assert (await api.search("final", kind="posts"))["posts"] == []


async def test_the_single_message_carries_its_newest_edit(server: Harness) -> None:
    _, api, post, edits = await setup(server)
    answer = await api.request("GET", f"/api/v1/messages/{post['id']}")
    assert answer["edit"] == edits[0] and answer["edited_at"] == edits[0]["created_at"]
    assert {k: v for k, v in answer.items() if k not in ("edit", "edited_at")} == post
    assert await api.message(post["id"]) == post  # the signed post alone, as every caller checks it
    assert await api.shown(post["id"][:10]) == (post, edits[0])


async def test_history_lists_every_version_oldest_first(server: Harness) -> None:
    _, api, post, edits = await setup(server)
    answer = await api.history(post["id"][:12])
    assert [(v["id"], v["text"], v.get("cw"), v["created_at"]) for v in answer["versions"]] == [
        (post["id"], "first draft of the plan", None, T),
        (edits[1]["id"], "final plan", "long", T + 1000),
        (edits[0]["id"], "second draft of the plan", None, T + 2000),
    ]
    assert [v["message"] for v in answer["versions"]] == [post, edits[1], edits[0]]


@pytest.mark.parametrize("what", ["unknown", "an edit", "a reaction", "deleted"])
async def test_history_of_what_is_not_a_post_held_here_is_not_found(server: Harness, what: str) -> None:
    me, api, post, edits = await setup(server)
    reaction = sign_draft(me, {"kind": "reaction", "body": {"emoji": "+"}, "tags": [["target", post["id"]]]})
    await api.publish(reaction)
    if what == "deleted":
        await api.publish(sign_draft(me, {"kind": "delete", "tags": [["target", post["id"]]]}))
    target = {"unknown": "ab" * 32, "an edit": edits[0]["id"], "a reaction": reaction["id"], "deleted": post["id"]}
    with pytest.raises(ApiError) as err:
        await api.history(target[what])
    assert (err.value.status, err.value.code) == (404, "not_found")


async def test_someone_elses_post_or_a_non_post_cannot_be_edited(server: Harness) -> None:
    me, api, post, edits = await setup(server)
    other = Identity.generate()
    theirs = await server.member(other)
    with pytest.raises(ApiError) as err:
        await theirs.publish(sign_draft(other, edit_draft(post, "my words now")))
    assert (err.value.status, err.value.code) == (422, "not_author")
    with pytest.raises(ApiError) as err:
        await api.publish(sign_draft(me, edit_draft(edits[0], "an edit of an edit")))
    assert (err.value.status, err.value.code) == (422, "bad_target")
    assert "edit" in err.value.message
    assert [v["text"] for v in (await api.history(post["id"]))["versions"]][-1] == "second draft of the plan"


async def test_repliers_reactors_and_boosters_are_told(server: Harness) -> None:
    me, other = Identity.generate(), Identity.generate()
    mine, theirs = await server.member(me), await server.member(other)
    post = sign_draft(me, post_draft("what do you think?"))
    await mine.publish(post)
    reply = sign_draft(other, post_draft("sounds fine", tags=[["reply", post["id"]], ["root", post["id"]]]))
    await theirs.publish(reply)
    change = sign_draft(me, edit_draft(post, "what do you all think?"))
    await mine.publish(change)
    told = (await theirs.notifications())["items"]
    assert [(n["kind"], n["target_id"], n["message"]) for n in told] == [("edit", post["id"], change)]
    assert told[0]["verified"] is True
    # And the reply the author was told of shows as its author last wrote it.
    fixed = sign_draft(other, edit_draft(reply, "sounds fine to me"))
    await theirs.publish(fixed)
    [note] = (await mine.notifications())["items"]
    assert note["kind"] == "reply" and note["message"] == reply and note["edit"] == fixed


def test_the_client_refuses_an_edit_that_is_not_of_the_post() -> None:
    me, other = Identity.generate(), Identity.generate()
    post = sign_draft(me, post_draft("the post"))
    another = sign_draft(me, post_draft("another post"))
    good = {"message": post, "edit": sign_draft(me, edit_draft(post, "the post, edited"))}
    assert mark_verified(copy.deepcopy(good))["verified"] is True
    bad = {
        "of another post": sign_draft(me, edit_draft(another, "swapped in")),
        "by someone else": sign_draft(other, edit_draft(post, "forged")),
        "not an edit": another,
        "tampered": {**good["edit"], "body": {"text": "changed in transit"}},
    }
    for why, edit in bad.items():
        assert mark_verified({"message": post, "edit": edit})["verified"] is False, why


async def test_a_member_cannot_publish_an_edit_of_a_post_this_server_does_not_hold(server: Harness) -> None:
    """From peers an edit waits for its post; from a member it would leave at once with its new text, and the post
    it edits may be a local one held on another server."""
    me = Identity.generate()
    api = await server.member(me)
    elsewhere = sign_draft(me, {"kind": "post", "body": {"text": "kept on my other server", "visibility": "local"}})
    with pytest.raises(ApiError) as refused:
        await api.publish(sign_draft(me, edit_draft(elsewhere, "the new text that must not travel")))
    assert refused.value.code == "unknown_target"
    assert (await api.publish(elsewhere))["status"] == "stored"  # once held, the same edit goes through
    assert (await api.publish(sign_draft(me, edit_draft(elsewhere, "now it may"))))["status"] == "stored"
