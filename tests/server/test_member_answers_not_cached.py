"""What the member API answers is one member's: their notifications, their home timeline (local posts among it),
their own messages. A member's request is signed with RFC 9421 ``Signature`` headers, not ``Authorization``, so
a shared cache (the proxy cache docs/web.md invites in front of the same server, a CDN) has no rule keeping such an
answer from the next person asking for the same URL: it must say so itself (``Cache-Control: no-store``), as every
answer under ``/api/`` and ``/fed/`` does, whatever its route, errors and streams included
(``murmur.server.caching``). The web view's pages of public content keep their own rule."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from murmur.store.peers import add_peer
from tests.server.conftest import Harness
from tests.waiting import BOUND_S

PATHS = ["/api/v1/notifications", "/api/v1/timelines/home", "/api/v1/timelines/local", "/api/v1/export"]


def no_store(headers: list[tuple[bytes, bytes]] | httpx.Headers) -> bool:
    if isinstance(headers, httpx.Headers):
        pairs = headers.multi_items()
    else:
        pairs = [(k.decode(), v.decode()) for k, v in headers]
    return [v.lower() for k, v in pairs if k.lower() == "cache-control"] == ["no-store"]


@pytest.mark.parametrize("path", PATHS)
async def test_a_members_answer_is_never_kept_by_a_shared_cache(server: Harness, path: str) -> None:
    me = Identity.generate()
    api = await server.member(me)
    assert (await api.publish(sign_draft(me, {"body": {"text": "for us here", "visibility": "local"}})))["status"] == (
        "stored"
    )
    headers = sign_request(me, "GET", path, "", b"", recipient=server.key).as_dict()
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        answer = await raw.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    assert no_store(answer.headers), answer.headers


async def _start_of(app: Any, signer: Identity | None, server_key: str, method: str, path: str) -> dict[str, Any]:
    """The ``http.response.start`` of one request driven as raw ASGI; the client hangs up once it has it, so a
    stream that would stay open ends there too (httpx's ASGI transport waits for a whole answer)."""
    body = b"{}" if method == "POST" else b""
    headers = [(b"host", b"murmur.test"), (b"content-type", b"application/json")]
    if signer is not None:
        signed = sign_request(signer, method, path, "", body, recipient=server_key).as_dict()
        headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("murmur.test", 80),
    }  # fmt: skip
    started: dict[str, Any] = {}
    seen = asyncio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": body, "more_body": False}
        await seen.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
            seen.set()

    await asyncio.wait_for(app(scope, receive, send), BOUND_S)
    return started


def _concrete(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "ab" * 32), path)


async def test_every_api_and_federation_route_answers_no_store(server: Harness) -> None:
    """Walks the app's routes: each under /api/ or /fed/, with each of its methods, asked by a member (the member
    API) or a peer (federation), signed and unsigned, answers ``no-store``, whether its answer is a 200, a refusal,
    an export or a live stream."""
    me, peer = Identity.generate(), Identity.generate()
    api = await server.member(me)
    post = sign_draft(me, {"body": {"text": "walked #walk"}})
    assert (await api.publish(post))["status"] == "stored"
    await add_peer(server.state.store, peer.public_key, "http://peer.test", name="peer")
    app = create_app(server.state)
    values = {"id": post["id"], "key": me.public_key, "name": "home", "tag": "walk"}
    walked: list[tuple[str, str, int]] = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.path.startswith(("/api/", "/fed/")):
            continue
        path = _concrete(route.path, values)
        signer = peer if path.startswith("/fed/") else me
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            for who in (signer, None):
                start = await _start_of(app, who, server.key, method, path)
                walked.append((method, path, start["status"]))
                assert no_store(start["headers"]), (method, path, start["status"], start["headers"])
    statuses = {status for _, _, status in walked}
    assert {200, 401} <= statuses, walked  # answers that served and answers that refused were both walked
    assert ("GET", "/api/v1/stream", 200) in walked and ("GET", "/api/v1/export", 200) in walked


async def test_an_unexpected_error_is_not_kept_either(server: Harness) -> None:
    """A 500 is answered by Starlette's outermost error middleware, past every middleware given to Starlette."""

    async def broken(request: object) -> None:
        raise RuntimeError("a bug")

    app = create_app(server.state)
    app.router.routes.append(Route("/api/v1/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as raw:
        answer = await raw.get("/api/v1/broken")
    assert answer.status_code == 500 and no_store(answer.headers), answer.headers


async def test_public_pages_keep_their_own_rule_and_what_states_none_is_not_kept(server: Harness) -> None:
    me = Identity.generate()
    api = await server.member(me)
    post = sign_draft(me, {"body": {"text": "for everyone"}})
    assert (await api.publish(post))["status"] == "stored"
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        page = await raw.get(f"/m/{post['id']}")
        nowhere = await raw.get("/nowhere")
        health = await raw.get("/health")
    assert page.status_code == 200 and page.headers["cache-control"] == "public, max-age=60"
    assert nowhere.status_code == 404 and no_store(nowhere.headers)
    assert health.status_code == 200 and no_store(health.headers)
