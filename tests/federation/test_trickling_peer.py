"""A peer that answers a byte at a time, each before the read timeout: its answer as a whole must still end.

httpx's ``timeout`` bounds each read, connect and write, not the answer: a peer sending one byte of a chunked
body every fraction of the timeout is never timed out, and the caller (a member's repair, which waits for every
peer; ``murmur sync``; a moderator's removal told to every peer) waits for as long as the peer likes, up to the
answer's byte cap at one byte a read."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from murmur.keys import Identity
from murmur.server.federation.peer_client import PeerClient, PeerError
from murmur.store.peers import Peer

TIMEOUT_S = 1.0
BOUND_S = 6.0  # six times the timeout: past any deadline a fix would give the whole answer


@pytest.fixture
def trickling() -> Iterator[str]:
    """A server on 127.0.0.1 that answers 200 with a chunked body of one byte every fifth of the timeout."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n")
                conn.sendall(b"transfer-encoding: chunked\r\n\r\n")
                while not stop.wait(TIMEOUT_S / 5):
                    conn.sendall(b"1\r\n\n\r\n")
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.xfail(strict=True, reason="review6: a peer trickling its answer is never timed out")
async def test_a_peer_trickling_its_answer_is_given_up_on(trickling: str) -> None:
    peer = Peer(
        key=Identity.generate().public_key, name="slow", url=trickling, mode="push-pull", proxy="", added_at=0,
        push_cursor=0, pull_cursor=0, last_contact=None, last_error="", failures=0, failing_since=None,
    )  # fmt: skip
    client = PeerClient(Identity.generate(), peer, timeout=TIMEOUT_S)
    try:
        with pytest.raises(PeerError):
            await asyncio.wait_for(client.fetch(["ab" * 32]), BOUND_S)
    finally:
        await client.aclose()
