"""Publishing through the client API: the one validation path, precise refusals, nothing stored on refusal."""

from __future__ import annotations

import json

import httpx
import pytest

from murmur import validate
from murmur.client.api import ApiError
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import Message, sign_draft
from tests.server.conftest import Harness


async def _post_raw(server: Harness, identity: Identity, body: bytes) -> httpx.Response:
    headers = sign_request(identity, "POST", "/api/v1/messages", "", body, recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        return await raw.post("/api/v1/messages", headers=headers, content=body)


async def test_publish_then_duplicate(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    message = sign_draft(me, {"body": {"text": "hello"}})
    first = await api.publish(message)
    assert first["status"] == "stored" and first["id"] == message["id"] and first["seq"] == 1
    second = await api.publish(message)
    assert second == {"status": "duplicate", "id": message["id"], "seq": 1}
    assert await server.state.store.count() == 1


async def test_message_signed_by_someone_else_is_refused(server: Harness) -> None:
    me, other = Identity.generate(), Identity.generate()
    api = await server.member(me)
    with pytest.raises(ApiError) as err:
        await api.publish(sign_draft(other, {"body": {"text": "not mine"}}))
    assert (err.value.status, err.value.code) == (403, "wrong_author")
    assert await server.state.store.count() == 0


async def test_a_kind_this_server_does_not_know_is_refused_from_a_member(server: Harness) -> None:
    """Peers may bring a kind it does not know, which it carries (docs/protocol.md §7.3); a member may not."""
    me = Identity.generate()
    api = await server.member(me)
    with pytest.raises(ApiError) as err:
        await api.publish(sign_draft(me, {"kind": "survey", "body": {"question": "lunch?"}}))
    assert (err.value.status, err.value.code) == (422, "unknown_kind")
    assert await server.state.store.count() == 0


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda m: {**m, "kind": "Poll"}, 422, "unknown_kind"),  # no kind name (a known-shaped one is carried)
        (lambda m: {**m, "body": {**m["body"], "text": "changed"}}, 422, "id_mismatch"),
        (lambda m: {**m, "sig": "00" * 64}, 422, "bad_signature"),
        (lambda m: {k: v for k, v in m.items() if k != "sig"}, 422, "missing_field"),
        (lambda m: {**m, "extra": 1}, 422, "extra_field"),
        (lambda m: {**m, "created_at": 2**53 - 1}, 422, "from_future"),
        (lambda m: {**m, "v": 2}, 422, "unknown_version"),
    ],
)
async def test_invalid_messages_are_refused_with_their_code(server: Harness, mutate, status, code) -> None:  # type: ignore[no-untyped-def]
    me = Identity.generate()
    await server.member(me)
    body = json.dumps(mutate(sign_draft(me, {"body": {"text": "hello"}}))).encode()
    response = await _post_raw(server, me, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["reason"]
    assert await server.state.store.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b"\xff\xfe", "invalid_utf8"),
        (b"[1, 2]", "not_object"),
        (b"[" * 5000 + b"]" * 5000, "too_deep"),
    ],
)
async def test_malformed_bodies_are_400(server: Harness, body: bytes, code: str) -> None:
    me = Identity.generate()
    await server.member(me)
    response = await _post_raw(server, me, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


async def test_oversized_body_is_413_and_server_still_answers(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    response = await _post_raw(server, me, b"x" * (server.state.config.max_body_bytes + 1))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    big_text = sign_draft(me, {"body": {"text": "y" * 5001}})
    response = await _post_raw(server, me, json.dumps(big_text).encode())
    assert response.status_code == 422 and response.json()["error"]["code"] == "too_long"
    assert (await api.publish(sign_draft(me, {"body": {"text": "still fine"}})))["status"] == "stored"


async def test_delete_of_someone_elses_message_is_refused(server: Harness) -> None:
    me, other = Identity.generate(), Identity.generate()
    mine, theirs = await server.member(me), await server.member(other)
    post = sign_draft(other, {"body": {"text": "theirs"}})
    await theirs.publish(post)
    with pytest.raises(ApiError) as err:
        await mine.publish(sign_draft(me, {"kind": "delete", "tags": [["target", post["id"]]]}))
    assert err.value.code == "not_author"
    assert (await mine.message(post["id"]))["id"] == post["id"]


async def test_get_message_and_not_found(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    message = sign_draft(me, {"body": {"text": "find me"}})
    await api.publish(message)
    assert await api.message(message["id"]) == message
    with pytest.raises(ApiError) as err:
        await api.message("ab" * 32)
    assert (err.value.status, err.value.code) == (404, "not_found")
    with pytest.raises(ApiError) as err:
        await api.message("nothex")
    assert err.value.status == 400


async def test_a_post_is_parsed_once(server: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The publish route checks the message once, signature included, and ingest takes it as checked: the edit
    rule no longer parses every post a second time before validation."""
    me = Identity.generate()
    api = await server.member(me)
    parses: list[bytes] = []
    fast_path = validate._canonical_fast_path

    def counted(data: bytes, now: int | None, rules: bool = True) -> Message | None:
        parses.append(data)
        return fast_path(data, now, rules)

    monkeypatch.setattr(validate, "_canonical_fast_path", counted)
    assert (await api.publish(sign_draft(me, {"body": {"text": "once"}})))["status"] == "stored"
    assert len(parses) == 1
