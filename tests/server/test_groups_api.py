"""The group routes in-process: directory and search, one group, its people, its timeline with hidden posts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.kinds.meetup import meetup_body, meetup_draft
from murmur.kinds.poll import poll_draft
from murmur.message import now_ms, sign_draft
from tests.server.conftest import Harness


async def publish(api: MurmurClient, draft: dict[str, Any]) -> dict[str, Any]:
    message = sign_draft(api.identity, draft)
    result = await api.publish(message)
    assert result["status"] == "stored", result
    return message


def in_group(group: str, text: str) -> dict[str, Any]:
    return {"kind": "post", "body": {"text": text}, "tags": [["group", group]]}


async def test_a_group_from_creation_to_moderation(server: Harness) -> None:
    owner, ann, ben = await server.member(), await server.member(), await server.member()
    g = (await publish(owner, create_draft("Fix CI", description="Builds take an hour", rules="Be kind.")))["id"]
    await publish(ann, membership_draft("group_join", g))
    await publish(owner, about_person_draft("group_mod", g, ann.identity.public_key))
    post = await publish(ben, in_group(g, "not a member yet"))  # stored, but not the group's
    await publish(ben, membership_draft("group_join", g))
    kept = await publish(ben, in_group(g, "hello group"))
    hidden = await publish(ben, in_group(g, "buy my stuff"))
    await publish(ann, about_post_draft("group_hide", g, hidden["id"], reason="spam"))
    await publish(ann, about_post_draft("group_pin", g, kept["id"]))
    await publish(ben, about_person_draft("group_remove", g, ann.identity.public_key))  # no authority: no effect

    info = await ben.group(g[:12])
    assert (info["id"], info["name"], info["rules"], info["join"], info["members"]) == (
        g,
        "Fix CI",
        "Be kind.",
        "open",
        3,
    )
    assert info["moderators"] == [ann.identity.public_key]
    assert info["you"] == {"status": "member", "role": "member"}
    assert [i["message"]["id"] for i in info["pinned"]] == [kept["id"]]

    page = await ben.timeline(f"group:{g}")
    assert [i["message"]["id"] for i in page["items"]] == [hidden["id"], kept["id"]]
    assert post["id"] not in [i["message"]["id"] for i in page["items"]]
    marked = page["items"][0]
    assert (marked["hidden"], marked["hidden_by"], marked["reason"]) == (True, ann.identity.public_key, "spam")
    assert (page["items"][1]["hidden"], page["items"][1]["hidden_by"], page["items"][1]["reason"]) == (
        False,
        None,
        None,
    )

    people = await owner.group_members(g)
    roles = {p["key"]: p["role"] for p in people["members"]}
    assert roles == {
        owner.identity.public_key: "owner",
        ann.identity.public_key: "moderator",
        ben.identity.public_key: "member",
    }
    assert (people["pending"], people["removed"]) == ([], [])
    assert people["members"][0]["key"] == owner.identity.public_key


async def test_a_groups_polls_and_meetups_are_in_its_timeline(server: Harness) -> None:
    """Addressed to the group by a member, they are its entries as its posts are; a stranger's are not."""
    owner, ann, cat = await server.member(), await server.member(), await server.member()
    g = (await publish(owner, create_draft("Hikers")))["id"]
    await publish(ann, membership_draft("group_join", g))
    closes = now_ms() + 3_600_000
    poll = await publish(ann, poll_draft("Where?", ["ridge", "lake"], closes_at=closes, multiple=False, group=g))
    walk = meetup_body("Ridge walk", start=closes, end=closes + 3_600_000, tz="UTC")
    meetup = await publish(owner, meetup_draft(walk, group=g))
    await publish(cat, poll_draft("Spam?", ["yes", "no"], closes_at=closes, multiple=False, group=g))
    await publish(owner, about_post_draft("group_pin", g, poll["id"]))
    page = await ann.timeline(f"group:{g}")
    assert [(i["message"]["kind"], i["message"]["id"]) for i in page["items"]] == [
        ("meetup", meetup["id"]), ("poll", poll["id"]),
    ]  # fmt: skip
    assert [i["message"]["id"] for i in (await ann.group(g))["pinned"]] == [poll["id"]]


async def test_the_directory_and_my_groups(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    build = (await publish(ann, create_draft("Faster builds", description="Cut CI time", approval=True)))["id"]
    await publish(ann, create_draft("Lunch", description="Fridays"))
    await publish(ben, membership_draft("group_join", build))
    assert [g["name"] for g in (await ben.groups())["groups"]] == ["Lunch", "Faster builds"]
    assert [g["name"] for g in (await ben.groups(query="cut ci"))["groups"]] == ["Faster builds"]
    assert (await ben.groups(query="nothing like it"))["groups"] == []
    mine = (await ben.groups(mine=True))["groups"]
    assert [(g["name"], g["you"]) for g in mine] == [("Faster builds", {"status": "pending", "role": ""})]
    assert (await ben.groups(mine=True, query="lunch"))["groups"] == []


async def test_refusals_are_precise(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    with pytest.raises(ApiError) as err:
        await api.group("ab" * 32)
    assert (err.value.status, err.value.code) == (404, "not_found")
    with pytest.raises(ApiError) as err:
        await api.timeline("group:" + "cd" * 32)
    assert err.value.code == "not_found"
    with pytest.raises(ApiError) as err:
        await api.group("xyz")
    assert err.value.status == 400
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        for query in ("mine=2", "q=" + "a" * 201, "limit=0", "q=a&q=b"):
            headers = sign_request(me, "GET", "/api/v1/groups", query, b"", recipient=server.key).as_dict()
            response = await raw.get(f"/api/v1/groups?{query}", headers=headers)
            assert response.status_code == 400, query
            assert "error" in response.json()
    # A post in a group is public; a local one is refused with the reason, not stored.
    g = (await publish(api, create_draft("G")))["id"]
    local = sign_draft(me, {"kind": "post", "body": {"text": "x", "visibility": "local"}, "tags": [["group", g]]})
    with pytest.raises(ApiError) as err:
        await api.publish(local)
    assert err.value.code == "bad_value"
