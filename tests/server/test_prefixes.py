"""Every endpoint that takes a message id or a key takes a unique prefix of 8 hex digits or more."""

from __future__ import annotations

import pytest

from murmur.client.api import ApiError
from murmur.keys import Identity
from murmur.message import sign_draft
from tests.server.conftest import Harness


async def test_ids_and_keys_resolve_from_prefixes(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    post = sign_draft(me, {"body": {"text": "hello"}})
    await api.publish(post)
    short = post["id"][:12]
    assert (await api.message(short))["id"] == post["id"]
    assert (await api.thread(short))["root"]["id"] == post["id"]
    assert (await api.profile(me.public_key[:8]))["key"] == me.public_key
    page = await api.timeline(f"@{me.public_key[:10]}")
    assert [i["message"]["id"] for i in page["items"]] == [post["id"]]


@pytest.mark.parametrize(("text", "status", "code"), [("abcd", 400, "id_too_short"), ("zzzzzzzz", 400, "bad_request")])
async def test_bad_prefixes_are_refused_at_every_door(server: Harness, text: str, status: int, code: str) -> None:
    api = await server.member()
    for call in (api.message(text), api.thread(text), api.profile(text), api.timeline(f"@{text}")):
        with pytest.raises(ApiError) as err:
            await call
        assert (err.value.status, err.value.code) == (status, code)


async def test_an_ambiguous_prefix_is_refused_with_candidates(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    post = sign_draft(me, {"body": {"text": "hello"}})
    await api.publish(post)
    twin = post["id"][:9] + ("0" if post["id"][9] != "0" else "1") + post["id"][10:]
    async with server.state.store.writer.transaction() as conn:
        await conn.execute(
            "INSERT INTO messages (id, author, kind, created_at, visibility, origin, received_at, raw)"
            " SELECT ?, author, kind, created_at, visibility, origin, received_at, raw FROM messages WHERE id = ?",
            (bytes.fromhex(twin), bytes.fromhex(post["id"])),
        )
    with pytest.raises(ApiError) as err:
        await api.message(post["id"][:9])
    assert (err.value.status, err.value.code) == (409, "ambiguous_id")
    assert post["id"][:16] in str(err.value) and twin[:16] in str(err.value)
