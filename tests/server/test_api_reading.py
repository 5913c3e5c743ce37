"""Reading endpoints in-process: timelines, threads, notifications, search, profiles, and their refusals."""

from __future__ import annotations

import httpx
import pytest

from murmur.client.api import ApiError
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.routes.render import MAX_THREAD_DEPTH
from tests.server.conftest import Harness


def reply_to(identity: Identity, parent: dict, root: dict, text: str) -> dict:  # type: ignore[type-arg]
    return sign_draft(identity, {"body": {"text": text}, "tags": [["reply", parent["id"]], ["root", root["id"]]]})


async def test_timeline_parameters_are_checked(server: Harness) -> None:
    me = Identity.generate()
    await server.member(me)
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        for query, code in (
            ("limit=0", "bad_limit"),
            ("limit=101", "bad_limit"),
            ("limit=abc", "bad_limit"),
            ("before=-1", "bad_cursor"),
            ("before=x", "bad_cursor"),
            ("before=99999999999999999999", "bad_cursor"),
        ):
            headers = sign_request(me, "GET", "/api/v1/timelines/home", query, b"", recipient=server.key).as_dict()
            response = await raw.get(f"/api/v1/timelines/home?{query}", headers=headers)
            assert response.status_code == 400, query
            assert response.json()["error"]["code"] == code
    api = server.client(me)
    with pytest.raises(ApiError) as err:
        await api.timeline("nonsense")
    assert err.value.code == "not_found"


async def test_timeline_cursors_are_the_ones_handed_out(server: Harness) -> None:
    """Every timeline takes back only a cursor it made (a bare log position is not one); notifications keep seqs."""
    me = Identity.generate()
    await server.member(me)
    names = ["home", "local", "federated", "mentions", "tag/t", f"author/{me.public_key}"]
    paths = [f"/api/v1/timelines/{name}" for name in names]
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        for path in paths:
            for before, status in (("5", 400), ("1.2.3", 400), ("٣.1", 400), ("9" * 5000 + ".1", 400), ("1.1", 200)):
                query = f"before={before}"
                headers = sign_request(me, "GET", path, query, b"", recipient=server.key).as_dict()
                response = await raw.get(f"{path}?{query}", headers=headers)
                assert response.status_code == status, (path, before)
                if status == 400:
                    assert response.json()["error"]["code"] == "bad_cursor"
        headers = sign_request(me, "GET", "/api/v1/notifications", "before=5", b"", recipient=server.key).as_dict()
        assert (await raw.get("/api/v1/notifications?before=5", headers=headers)).status_code == 200


async def test_timelines_order_by_author_time(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    await api.publish(sign_draft(me, {"body": {"text": "today"}}))
    await api.publish(sign_draft(me, {"body": {"text": "written in 2001"}}, created_at=1_000_000_000_000))
    await api.publish(sign_draft(me, {"body": {"text": "today, later"}}))
    page = await api.timeline("local", limit=2)
    assert [i["message"]["body"]["text"] for i in page["items"]] == ["today, later", "today"]
    older = await api.timeline("local", limit=2, before=page["next_cursor"])
    assert [i["message"]["body"]["text"] for i in older["items"]] == ["written in 2001"]
    assert older["next_cursor"] is None


async def test_pagination_is_stable_while_posts_arrive(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    posts = [sign_draft(me, {"body": {"text": f"p{i}"}}) for i in range(25)]
    for p in posts:
        await api.publish(p)
    first = await api.timeline("local", limit=10)
    await api.publish(sign_draft(me, {"body": {"text": "newer"}}))
    second = await api.timeline("local", limit=10, before=first["next_cursor"])
    third = await api.timeline("local", limit=10, before=second["next_cursor"])
    seen = [i["message"]["id"] for page in (first, second, third) for i in page["items"]]
    assert seen == [p["id"] for p in reversed(posts)]
    assert third["next_cursor"] is None
    assert all(i["verified"] for page in (first, second, third) for i in page["items"])


async def test_deep_reply_chain_renders(server: Harness) -> None:
    a, b = Identity.generate(), Identity.generate()
    api_a, api_b = await server.member(a), await server.member(b)
    root = sign_draft(a, {"body": {"text": "root"}})
    await api_a.publish(root)
    parent, chain = root, []
    for i in range(MAX_THREAD_DEPTH + 30):
        who = b if i % 2 == 0 else a
        reply = reply_to(who, parent, root, f"r{i}")
        chain.append(reply)
        parent = reply
    await server.state.store.ingest(chain)
    thread = await api_b.thread(chain[-1]["id"])
    node, depth, ids = thread["root"], 0, []
    while node["children"]:
        node = node["children"][0]
        ids.append(node["id"])
        depth += 1
    assert depth == MAX_THREAD_DEPTH
    flat = [c["id"] for c in node.get("children", [])]

    # every reply appears exactly once, deeper ones flattened at the last level with their parent named
    def walk(n: dict) -> list[str]:  # type: ignore[type-arg]
        return [n["id"], *[x for c in n["children"] for x in walk(c)]]

    assert sorted(walk(thread["root"])) == sorted([root["id"], *[c["id"] for c in chain]])
    assert flat == []


async def test_profile_search_and_members(server: Harness) -> None:
    a, b = Identity.generate(), Identity.generate()
    api_a, api_b = await server.member(a), await server.member(b)
    await api_a.publish(sign_draft(a, {"kind": "profile", "body": {"name": "Grace [bold]H[/]", "bio": "compilers"}}))
    await api_b.publish(sign_draft(b, {"kind": "follow", "tags": [["subject", a.public_key]]}))
    profile = await api_b.profile(a.public_key)
    assert profile["name"] == "Grace [bold]H[/]" and profile["followers"] == 1 and profile["following"] is True
    people = (await api_b.search("compilers", kind="people"))["people"]
    assert [p["key"] for p in people] == [a.public_key]
    with pytest.raises(ApiError) as err:
        await api_b.search("")
    assert err.value.code == "bad_request"
    members = (await api_a.members())["members"]
    assert {m["key"] for m in members} == {a.public_key, b.public_key}


async def test_notifications_and_read_marker(server: Harness) -> None:
    a, b = Identity.generate(), Identity.generate()
    api_a, api_b = await server.member(a), await server.member(b)
    post = sign_draft(a, {"body": {"text": "hello"}})
    await api_a.publish(post)
    await api_b.publish(reply_to(b, post, post, "hi back"))
    await api_b.publish(sign_draft(b, {"kind": "reaction", "body": {"emoji": "🎉"}, "tags": [["target", post["id"]]]}))
    page = await api_a.notifications()
    assert [n["kind"] for n in page["items"]] == ["reaction", "reply"]
    assert page["unread"] == 2
    assert (await api_a.mark_read(max(n["seq"] for n in page["items"])))["unread"] == 0
    assert (await api_b.notifications())["items"] == []  # own actions never notify


async def test_huge_cursors_are_refused_not_500(server: Harness) -> None:
    me = Identity.generate()
    await server.member(me)
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        for seq in (9999999999999999999, 2**53):
            body = f'{{"seq": {seq}}}'.encode()
            headers = sign_request(me, "POST", "/api/v1/notifications/read", "", body, recipient=server.key).as_dict()
            response = await raw.post("/api/v1/notifications/read", content=body, headers=headers)
            assert response.status_code == 400, response.text
        headers = sign_request(
            me, "GET", "/api/v1/stream", "cursor=99999999999999999999", b"", recipient=server.key
        ).as_dict()
        response = await raw.get("/api/v1/stream?cursor=99999999999999999999", headers=headers)
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_cursor"


async def test_read_marker_never_passes_the_end_of_the_log(server: Harness) -> None:
    a, b = Identity.generate(), Identity.generate()
    api_a, api_b = await server.member(a), await server.member(b)
    post = sign_draft(a, {"body": {"text": "hi"}})
    await api_a.publish(post)
    await api_a.mark_read(2**53 - 1)
    await api_b.publish(reply_to(b, post, post, "a reply after the marker"))
    assert (await api_a.notifications())["unread"] == 1


async def test_listings_carry_display_names(server: Harness) -> None:
    a = Identity.generate()
    api = await server.member(a)
    await api.publish(sign_draft(a, {"kind": "profile", "body": {"name": "Ada"}}))
    post = sign_draft(a, {"body": {"text": "named"}})
    await api.publish(post)
    assert (await api.timeline("local"))["names"] == {a.public_key: "Ada"}
    assert (await api.thread(post["id"]))["names"] == {a.public_key: "Ada"}


async def test_a_name_another_key_uses_is_flagged_in_every_answer(server: Harness) -> None:
    ada, twin, other = Identity.generate(), Identity.generate(), Identity.generate()
    apis = [await server.member(who) for who in (ada, twin, other)]
    # The same name as the store compares names: case, full-width forms, invisible characters aside.
    for api, who, name in zip(apis, (ada, twin, other), ("Ada", "ＡＤ\u200bＡ ", "Grace"), strict=True):
        await api.publish(sign_draft(who, {"kind": "profile", "body": {"name": name}}))
        await api.publish(sign_draft(who, {"body": {"text": f"hello from {name}"}}))
    reader = apis[2]
    timeline = await reader.timeline("local")
    assert set(timeline["names"]) == {ada.public_key, twin.public_key, other.public_key}
    assert timeline["shared_names"] == sorted([ada.public_key, twin.public_key])
    assert (await reader.search("hello", kind="all"))["shared_names"] == sorted([ada.public_key, twin.public_key])
    assert (await reader.profile(ada.public_key))["name_shared"] is True
    assert (await reader.profile(other.public_key))["name_shared"] is False
    flagged = {m["key"]: m["name_shared"] for m in (await reader.members())["members"]}
    assert flagged == {ada.public_key: True, twin.public_key: True, other.public_key: False}
    # A new name is no longer shared, for either of them.
    await apis[1].publish(sign_draft(twin, {"kind": "profile", "body": {"name": "Ada Two"}}))
    assert (await reader.timeline("local"))["shared_names"] == []
    assert (await reader.profile(ada.public_key))["name_shared"] is False
