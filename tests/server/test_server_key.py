"""A client refuses every answer from a server other than the one it joined, and says so in one line."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from murmur.client.api import ApiError, MurmurClient, WrongServer
from murmur.keys import Identity, fingerprint
from murmur.message import sign_draft
from tests.server.conftest import Harness


async def test_every_answer_names_its_server(server: Harness) -> None:
    key = server.state.identity.public_key
    async with httpx.AsyncClient(transport=server.transport, base_url="http://t") as raw:
        for path in ("/health", "/api/v1/info", "/api/v1/timelines/home", "/api/v1/nowhere", "/fed/v1/log"):
            response = await raw.get(path)
            assert response.headers["murmur-server-key"] == key, path


async def test_a_client_that_joined_another_server_is_told_on_every_request(server: Harness) -> None:
    me = Identity.generate()
    await server.member(me)
    other = Identity.generate().public_key
    api = MurmurClient("http://murmur.test", me, server_key=other, transport=server.transport)
    server.clients.append(api)
    calls = (
        api.info(),
        api.timeline("home"),
        api.publish(sign_draft(me, {"body": {"text": "hi"}})),
        api.search("hi"),
        api.own_messages(),
    )
    for call in calls:
        with pytest.raises(WrongServer) as err:
            await call
        stated = fingerprint(server.state.identity.public_key)
        assert fingerprint(other) in err.value.message and stated in err.value.message
        assert "\n" not in err.value.message and "murmur join" in err.value.message
    # The same client, told the right key, works.
    key = server.state.identity.public_key
    right = MurmurClient("http://murmur.test", me, server_key=key, transport=server.transport)
    server.clients.append(right)
    assert (await right.timeline("local"))["items"] is not None


async def test_a_server_that_states_no_key_is_not_taken_for_the_one_joined() -> None:
    def plain(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"name": "something else"})

    api = MurmurClient("http://x", Identity.generate(), server_key="ab" * 32, transport=httpx.MockTransport(plain))
    async with api:
        with pytest.raises(WrongServer, match="does not answer as a murmur server"):
            await api.info()


async def test_the_stream_checks_the_server_before_reading_events() -> None:
    def other(request: httpx.Request) -> httpx.Response:
        event = b'data: {"message": {}}\n\n'
        return httpx.Response(200, headers={"murmur-server-key": "cd" * 32}, content=event)

    api = MurmurClient("http://x", Identity.generate(), server_key="ab" * 32, transport=httpx.MockTransport(other))
    async with api:
        with pytest.raises(WrongServer, match="different server"):
            async for _ in api.stream():
                pass


async def test_an_error_without_a_server_key_keeps_its_own_reason() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="bad gateway")

    api = MurmurClient("http://x", Identity.generate(), server_key="ab" * 32, transport=httpx.MockTransport(gateway))
    async with api:
        with pytest.raises(ApiError) as err:
            await api.info()
    assert err.value.status == 502


class _Counting(httpx.AsyncBaseTransport):
    """The server's transport, noting the path of every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)


async def test_requests_sent_at_once_learn_the_server_key_once(server: Harness) -> None:
    """A client that has not recorded its server's key (joining) reads it from /api/v1/info before signing: the
    requests a screen sends together share that one look-up instead of each making its own."""
    me = Identity.generate()
    await server.member(me)
    counting = _Counting(server.transport)
    api = MurmurClient("http://murmur.test", me, transport=counting)
    server.clients.append(api)
    pages = await asyncio.gather(*(api.timeline(name) for name in ("home", "local", "federated", "home")))
    assert all("items" in page for page in pages)
    assert counting.paths.count("/api/v1/info") == 1
    await api.timeline("home")
    assert counting.paths.count("/api/v1/info") == 1
