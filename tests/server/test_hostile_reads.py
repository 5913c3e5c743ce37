"""Reads that hostile input reaches: search syntax in the group directory, a kind this version does not know
at every read route, and ids that are not groups at the group routes. Each answers, and none with a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.kinds.group_drafts import create_draft
from murmur.message import sign_draft
from murmur.store.audience import refuse_local
from tests.server.conftest import Harness

PEER = "peer:" + "ab" * 32


async def get(server: Harness, me: Identity, path: str, query: str = "") -> httpx.Response:
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        headers = sign_request(me, "GET", path, query, b"", recipient=server.key).as_dict()
        return await raw.get(f"{path}?{query}" if query else path, headers=headers)


# FTS5 syntax, unbalanced or not: each is words to look for, never a query language.
SYNTAX = ['"', "*", "NEAR", "a NEAR b", "NEAR(a b)", "-", "-x", "a OR", "AND", "NOT", "(", ")", "name:x", "^x",
          'x"y', "'", ":", "{a}", "a AND NOT b", "\u202e", "\x00", "ca*", "+", "a:b:c"]  # fmt: skip


@pytest.mark.parametrize("query", SYNTAX)
async def test_directory_search_takes_any_text(server: Harness, query: str) -> None:
    me = Identity.generate()
    api = await server.member(me)
    await api.publish(sign_draft(me, create_draft("Near the river", description="a - b * c")))
    response = await get(server, me, "/api/v1/groups", urlencode({"q": query}))
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["groups"], list)


async def test_a_kind_this_version_does_not_know_at_every_read(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    g = sign_draft(me, create_draft("G"))
    post = sign_draft(me, {"kind": "post", "body": {"text": "hi"}, "tags": [["group", g["id"]]]})
    for message in (g, post):
        assert (await api.publish(message))["status"] == "stored"
    about = [["reply", post["id"]], ["root", post["id"]], ["target", post["id"]], ["group", g["id"]], ["x", "y"]]
    survey = sign_draft(Identity.generate(), {"kind": "survey", "body": {"q": "?"}, "tags": about})
    [result] = await server.state.store.ingest([survey], origin=PEER, policy=refuse_local("peer"))
    assert result.status == "stored"
    expected = {
        f"/api/v1/messages/{survey['id']}": 200,  # the message as signed: clients show it as a kind they do not know
        f"/api/v1/messages/{survey['id']}/mine": 200,
        f"/api/v1/messages/{survey['id']}/history": 404,
        f"/api/v1/threads/{survey['id']}": 404,  # never a thread entry
        f"/api/v1/threads/{post['id']}": 200,
        f"/api/v1/groups/{survey['id']}": 404,  # an id that is not a group's
        f"/api/v1/groups/{post['id']}/members": 404,
        f"/api/v1/groups/{g['id']}/timeline": 200,
        f"/api/v1/polls/{survey['id']}": 404,  # an id that is not a poll's
        f"/api/v1/polls/{survey['id']}/signed": 404,
        "/api/v1/notifications": 200,
        "/api/v1/timelines/federated": 200,
    }
    for path, status in expected.items():
        response = await get(server, me, path)
        assert response.status_code == status, (path, response.text)
    timeline = (await get(server, me, f"/api/v1/groups/{g['id']}/timeline")).json()
    assert [i["message"]["id"] for i in timeline["items"]] == [post["id"]]
