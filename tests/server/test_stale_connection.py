"""A kept-alive connection the server closes just as the client reuses it: reads are sent again, writes are not.

A server closes an idle kept-alive connection after a few seconds (uvicorn: 5 s). A request sent in the same
instant is never read, and the client sees the connection close without an answer. The TUI met this as a tab
that stayed empty: its one fetch failed and nothing asked again. Here a real socket server closes the second
request on each connection unanswered, as a server whose idle timer fires as that request arrives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from murmur.client.api import MurmurClient, ServerUnreachable
from murmur.keys import Identity
from murmur.message import sign_draft

SERVER_KEY = "ab" * 32


@dataclass
class ClosingServer:
    """Answers the first request on each connection and keeps it open; reads the second and hangs up."""

    port: int = 0
    seen: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    """(connection number, request line, headers) of every request read, answered or not."""
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            for served in range(2):
                head = await reader.readuntil(b"\r\n\r\n")
                line, *rest = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in rest if h)}
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.seen.append((number, line, headers))
                if served == 1:
                    return  # the idle timer fired: closed without an answer
                body = json.dumps({"items": [], "server_key": SERVER_KEY, "status": "stored", "id": "x", "unread": 0})
                body = body.encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"murmur-server-key: {SERVER_KEY}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture
async def closing() -> AsyncIterator[ClosingServer]:
    state = ClosingServer()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def client(server: ClosingServer) -> MurmurClient:
    return MurmurClient(f"http://127.0.0.1:{server.port}", Identity.generate(), server_key=SERVER_KEY)


async def test_a_read_on_a_connection_closed_under_it_is_sent_again(closing: ClosingServer) -> None:
    async with client(closing) as api:
        for _ in range(3):
            assert (await api.timeline("home"))["items"] == []
        assert (await api.info())["server_key"] == SERVER_KEY
    answered = [n for n, _, _ in closing.seen]
    assert answered == [1, 1, 2, 2, 3, 3, 4]  # each second request closed unanswered, then sent on a new one
    # Sent again, signed again: a signature's nonce is good once, and the server may have read the first.
    signatures = [headers.get("signature") for _, line, headers in closing.seen if "/timelines/" in line]
    assert all(signatures) and len(set(signatures)) == len(signatures)


async def test_marking_read_is_sent_again_as_a_read_is(closing: ClosingServer) -> None:
    """The TUI marks notifications read as their tab opens: a stale connection once left the tab counting."""
    async with client(closing) as api:
        await api.timeline("notifications")
        assert (await api.mark_read(7))["unread"] == 0
    assert [(n, line.split()[0]) for n, line, _ in closing.seen] == [(1, "GET"), (1, "POST"), (2, "POST")]


async def test_any_other_write_is_not_sent_twice(closing: ClosingServer) -> None:
    me = Identity.generate()
    async with client(closing) as api:
        await api.timeline("home")
        with pytest.raises(ServerUnreachable):
            await api.publish(sign_draft(me, {"kind": "post", "body": {"text": "once"}}))
    assert [line.split()[0] for _, line, _ in closing.seen] == ["GET", "POST"]
