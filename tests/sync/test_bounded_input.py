"""Input from elsewhere is read within bounds: lines are capped, and compressed HTTP answers are never inflated."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from murmur.client.api import MAX_STREAM_LINE, ApiError, MurmurClient
from murmur.keys import Identity
from murmur.lines import Lines
from murmur.message import sign_draft
from murmur.server.federation.peer_client import PeerClient, PeerError
from murmur.store.peers import Peer
from tests.federation.conftest import Network


def test_lines_hold_at_most_the_cap_and_count_what_is_not_lines() -> None:
    lines = Lines(8)
    chunks = [b"short\nlo", b"nger than eight", b" bytes\n\n  \nend"]
    got = [line for chunk in chunks for line in lines.feed(chunk)] + list(lines.end())
    assert got == [b"short", None, b"", b"  ", b"end"]
    assert lines.number == 5 and lines.overlong == 1
    assert lines.filler == len(b"longer than eight bytes\n") + 1 + 3
    endless = Lines(8)
    assert list(endless.feed(b"x" * 1000)) == [] and endless.filler == 1000 and len(endless._line) == 0


class Bomb(httpx.AsyncByteStream):
    """A gzip body of 64 MiB of zeros, produced a piece at a time; ``sent`` counts the bytes handed out."""

    def __init__(self) -> None:
        deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.pieces = [deflate.compress(bytes(1 << 20)) for _ in range(64)] + [deflate.flush()]
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.sent += len(piece)
            yield piece


def bomb_transport(bomb: Bomb) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "identity"  # asked for plain answers
        headers = {"content-encoding": "gzip", "murmur-cursor": "1", "content-type": "application/x-ndjson"}
        return httpx.Response(200, headers=headers, stream=bomb)

    return httpx.MockTransport(answer)


async def test_a_peer_answering_with_a_compressed_body_is_refused_before_it_is_read() -> None:
    bomb = Bomb()
    peer = Peer(Identity.generate().public_key, "p", "http://p.test", "push-pull", "", 0, 0, 0, None, "", 0, None)
    client = PeerClient(Identity.generate(), peer, transport=bomb_transport(bomb))
    try:
        with pytest.raises(PeerError, match="is compressed"):
            await client.pull(0)
        with pytest.raises(PeerError, match="is compressed"):
            await client.fetch(["00" * 32])
    finally:
        await client.aclose()
    assert bomb.sent == 0


async def test_a_home_server_answering_with_a_compressed_body_is_refused_before_it_is_read() -> None:
    bomb = Bomb()
    async with MurmurClient("http://home.test", Identity.generate(), transport=bomb_transport(bomb)) as api:
        with pytest.raises(ApiError, match="is compressed") as refused:
            await api.timeline("home")
        assert refused.value.code == "bad_answer"
        with pytest.raises(ApiError, match="is compressed"):
            await api.own_messages(0)
    assert bomb.sent == 0


def home(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    """A fake home server: its info gives the key requests are signed for; ``answer`` gives everything else."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/info":
            return httpx.Response(200, json={"server_key": "ab" * 32})
        return answer(request)

    return httpx.MockTransport(handle)


async def test_a_stream_line_that_never_ends_is_refused_at_the_cap() -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"event: message\nid: 1\n"
        while sent < 100 * MAX_STREAM_LINE:
            sent += 1 << 16
            yield b"data: " + b"x" * (1 << 16)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=endless())

    async with MurmurClient("http://home.test", Identity.generate(), transport=home(answer)) as api:
        with pytest.raises(ApiError, match="stream line over"):
            async for _ in api.stream():
                pass
    assert sent <= MAX_STREAM_LINE + (1 << 16)


@pytest.mark.parametrize("path", ["/fed/v1/messages", "/api/v1/messages", "/api/v1/import"])
async def test_a_compressed_request_body_is_refused_unread(net: Network, path: str) -> None:
    node = await net.node("a")
    body = gzip.compress(bytes(8 << 20))  # 8 MiB of zeros in 8 KiB
    async with httpx.AsyncClient(transport=node.transport, base_url=node.url) as http:
        answer = await http.post(path, content=body, headers={"content-encoding": "gzip"})
    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "unsupported_encoding"
    assert "compressed" in answer.json()["error"]["reason"]


async def test_stream_events_split_anywhere_across_chunks_still_arrive_whole() -> None:
    author = Identity.generate()
    message = sign_draft(author, {"body": {"text": "hello, stream"}})
    data = json.dumps({"seq": 7, "message": message}).encode()
    wire = b": murmur stream\nretry: 2000\n\nid: 7\r\nevent: message\ndata: " + data + b"\n\n: keepalive\n\n"

    def answer(request: httpx.Request) -> httpx.Response:
        chunks = [wire[at : at + 5] for at in range(0, len(wire), 5)]  # newlines fall inside and between chunks
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Chunks(chunks))

    async with MurmurClient("http://home.test", author, transport=home(answer)) as api:
        events = [event async for event in api.stream()]
    assert [(e.event, e.id, e.data["seq"], e.data["verified"]) for e in events] == [("message", "7", 7, True)]


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
