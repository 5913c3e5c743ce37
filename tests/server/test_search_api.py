"""Search answers name the authors (as timelines do) and list posts newest first, a page at a time."""

from __future__ import annotations

from murmur.keys import Identity
from murmur.message import sign_draft
from tests.server.conftest import Harness


async def test_search_posts_newest_first_with_names_and_a_cursor(server: Harness) -> None:
    ada, bob = Identity.generate(), Identity.generate()
    api_ada, api_bob = await server.member(ada), await server.member(bob)
    await api_ada.publish(sign_draft(ada, {"kind": "profile", "body": {"name": "Ada", "bio": ""}}))
    posts = []
    for i, (api, who) in enumerate([(api_ada, ada), (api_bob, bob), (api_ada, ada)]):
        post = sign_draft(who, {"body": {"text": f"release notes {'release ' * (3 - i)}"}})
        await api.publish(post)
        posts.append(post)
    first = await api_bob.search("release", kind="posts", limit=2)
    assert [p["message"]["id"] for p in first["posts"]] == [posts[2]["id"], posts[1]["id"]]
    assert first["names"] == {ada.public_key: "Ada"}  # bob set no name
    rest = await api_bob.search("release", kind="posts", limit=2, before=first["next_cursor"])
    assert [p["message"]["id"] for p in rest["posts"]] == [posts[0]["id"]] and rest["next_cursor"] is None
    assert "people" not in first and all(p["verified"] for p in first["posts"])
