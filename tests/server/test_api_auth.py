"""Request authentication and membership: every refusal has a code, and changes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from murmur.client.api import ApiError
from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.members import create_invite, remove_member, set_role
from tests.server.conftest import Harness


async def test_info_and_health_need_no_signature(server: Harness) -> None:
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        info = (await raw.get("/api/v1/info")).json()
        assert info["server_key"] == server.state.identity.public_key
        assert info["protocol"] == 1 and info["members"] == 0
        assert (await raw.get("/health")).json() == {"status": "ok", "version": info["version"]}
        me = await server.member()
        await me.publish(sign_draft(me.identity, {"kind": "post", "body": {"text": "hi"}}))
        # The log's end is for members (tests/server/test_outsider_activity.py): an outsider's answer never moves.
        assert (await raw.get("/health")).json() == {"status": "ok", "version": info["version"]}


async def test_a_members_signed_health_answers_where_the_log_ends(server: Harness) -> None:
    me = await server.member()
    assert (await me.health())["seq"] == 0
    stored = await me.publish(sign_draft(me.identity, {"kind": "post", "body": {"text": "hi"}}))
    # The log's end: what a live client resumes its stream from after its first reads.
    assert (await me.health()) == {"status": "ok", "version": (await me.info())["version"], "seq": stored["seq"]}
    assert stored["seq"] > 0


async def test_a_signed_health_from_no_member_or_signed_wrong_is_refused_not_answered(server: Harness) -> None:
    """A request that means to be signed is judged as one: refused with its reason, never quietly answered as an
    outsider's (the client would take a missing ``seq`` for an older server)."""
    with pytest.raises(ApiError) as err:
        await server.client(Identity.generate()).health()
    assert (err.value.status, err.value.code) == (403, "not_member")
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        half = await raw.get("/health", headers={"Signature": "murmur=:AAAA:"})
    assert half.status_code == 401 and "seq" not in half.json()


async def test_unsigned_request_is_refused(server: Harness) -> None:
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        response = await raw.get("/api/v1/timelines/home")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"


async def test_non_member_is_refused(server: Harness) -> None:
    api = server.client(Identity.generate())
    with pytest.raises(ApiError) as err:
        await api.timeline("home")
    assert (err.value.status, err.value.code) == (403, "not_member")


async def test_join_with_invite_once(server: Harness) -> None:
    invite = await create_invite(server.state.store)
    first, second = server.client(Identity.generate()), server.client(Identity.generate())
    joined = await first.join(invite.code)
    assert joined["role"] == "member" and joined["already_member"] is False
    assert (await first.join(invite.code))["already_member"] is True
    with pytest.raises(ApiError) as err:
        await second.join(invite.code)
    assert err.value.code == "invite_used"
    with pytest.raises(ApiError) as err:
        await second.join("no-such-code")
    assert err.value.code == "invite_unknown"
    with pytest.raises(ApiError) as err:
        await second.join(None)
    assert err.value.code == "registration_closed"
    assert len((await first.members())["members"]) == 1


async def test_open_registration(server: Harness) -> None:
    import dataclasses

    server.state.config = dataclasses.replace(server.state.config, open_registration=True)
    api = server.client(Identity.generate())
    assert (await api.join(None))["role"] == "member"
    await api.timeline("home")


async def _signed_get(server: Harness, identity: Identity, path: str, *, created: int | None = None) -> httpx.Response:
    headers = sign_request(identity, "GET", path, "", b"", created=created, recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        return await raw.get(path, headers=headers)


async def test_expired_and_replayed_signatures(server: Harness) -> None:
    me = Identity.generate()
    await server.member(me)
    old = await _signed_get(server, me, "/api/v1/members", created=int(time.time()) - 3600)
    assert old.status_code == 401 and old.json()["error"]["code"] == "expired"
    future = await _signed_get(server, me, "/api/v1/members", created=int(time.time()) + 3600)
    assert future.status_code == 401

    headers = sign_request(me, "GET", "/api/v1/members", "", b"", recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        assert (await raw.get("/api/v1/members", headers=headers)).status_code == 200
        again = await raw.get("/api/v1/members", headers=headers)
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed"


async def test_signature_for_another_path_is_refused(server: Harness) -> None:
    me = Identity.generate()
    await server.member(me)
    headers = sign_request(me, "GET", "/api/v1/members", "", b"", recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        response = await raw.get("/api/v1/timelines/home", headers=headers)
    assert response.status_code == 401


async def test_body_that_does_not_match_digest_is_refused(server: Harness) -> None:
    me = Identity.generate()
    await server.member(me)
    message = sign_draft(me, {"body": {"text": "hi"}})
    import json

    body = json.dumps(message).encode()
    headers = sign_request(me, "POST", "/api/v1/messages", "", body, recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        response = await raw.post("/api/v1/messages", headers=headers, content=body.replace(b"hi", b"ho"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "digest_mismatch"
    assert await server.state.store.count() == 0


async def test_rate_limit_answers_429_with_retry_after(server: Harness) -> None:
    from murmur.server.ratelimit import RateLimiter

    server.state.limiter = RateLimiter(3)
    me = Identity.generate()
    await server.member(me)
    statuses = []
    for _ in range(5):
        response = await _signed_get(server, me, "/api/v1/members")
        statuses.append(response.status_code)
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    assert int(response.headers["Retry-After"]) >= 1
    other = Identity.generate()
    await server.member(other)
    assert (await _signed_get(server, other, "/api/v1/members")).status_code == 200


async def test_signed_fields_given_twice_are_refused_by_the_server(server: Harness) -> None:
    """Two lines of the same signed field reach the app as two entries; "last wins" would accept the valid one."""
    me = Identity.generate()
    await server.member(me)
    decoy = sign_request(me, "GET", "/api/v1/members", "", b"", recipient=server.key).as_dict()
    good = sign_request(me, "GET", "/api/v1/members", "", b"", recipient=server.key).as_dict()
    cases = {
        "Signature-Input": [
            ("Signature-Input", decoy["Signature-Input"]),
            ("Signature-Input", good["Signature-Input"]),
        ],
        "Signature": [("Signature", decoy["Signature"]), ("Signature", good["Signature"])],
        "Content-Digest": [("Content-Digest", good["Content-Digest"]), ("Content-Digest", good["Content-Digest"])],
    }
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        for field, lines in cases.items():
            headers = httpx.Headers([(name, value) for name, value in good.items() if name != field] + lines)
            response = await raw.get("/api/v1/members", headers=headers)
            assert response.status_code == 401, (field, response.text)
            assert response.json()["error"]["code"] == "duplicate_field", field
        assert (await raw.get("/api/v1/members", headers=good)).status_code == 200  # one line each: fine


async def test_a_removed_member_is_refused_at_once(server: Harness, tmp_path: Path, database: str | None) -> None:
    """Membership is read afresh for every request: a removal made through another connection to the same
    database (as ``murmur admin`` does from its own process) holds from the next request on."""
    me = Identity.generate()
    api = await server.member(me)
    await api.publish(sign_draft(me, {"body": {"text": "still a member"}}))
    async with await Store.open(tmp_path / "server.db", database=database) as admin:
        assert await set_role(admin, me.public_key, "admin")
        assert (await api.join(None))["role"] == "admin"  # the role the request was judged with
        assert await remove_member(admin, me.public_key)
    with pytest.raises(ApiError) as err:
        await api.publish(sign_draft(me, {"body": {"text": "no longer"}}))
    assert (err.value.status, err.value.code) == (403, "not_member")
    assert await server.state.store.count() == 1
