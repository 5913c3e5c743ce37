"""A read the database fails is answered like a write it fails: 503 ``storage_unavailable`` with Retry-After and
one sentence, never a 500, from every door that reads (timelines, threads, search, look-ups, export, and the
repair set and fetch of /fed/v1); a write gets the same answer.

The database is really broken, three ways: a table dropped by another connection under the running server, a
file whose pages were overwritten with noise (as a failing disk does) before the server opened it, and a file
cut to half its size under the running server.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from murmur.httpsig import sign_request
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.routes.stream import STORE_FAILED
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.members import add_member
from murmur.store.peers import add_peer
from tests.damage import damage_pages
from tests.waiting import BOUND_S

MEMBER = Identity.from_seed(bytes(range(7, 39)))
PEER = Identity.from_seed(bytes(range(9, 41)))
POST = sign_draft(MEMBER, {"body": {"text": "hello #topic"}}, created_at=1_700_000_000_000)
ID = POST["id"]
MENTION = sign_draft(PEER, {"body": {"text": f"hi @{MEMBER.public_key}"}}, created_at=1_700_000_001_000)

# (method, path, query, signer, body): every door that reads the messages table.
READS = [
    ("GET", "/api/v1/timelines/home", "", MEMBER, b""),
    ("GET", "/api/v1/timelines/local", "", MEMBER, b""),
    ("GET", "/api/v1/timelines/federated", "", MEMBER, b""),
    ("GET", "/api/v1/timelines/mentions", "", MEMBER, b""),
    ("GET", "/api/v1/timelines/tag/topic", "", MEMBER, b""),
    ("GET", f"/api/v1/timelines/author/{MEMBER.public_key}", "", MEMBER, b""),
    ("GET", f"/api/v1/threads/{ID}", "", MEMBER, b""),
    ("GET", f"/api/v1/messages/{ID}", "", MEMBER, b""),
    ("GET", f"/api/v1/messages/{ID[:12]}", "", MEMBER, b""),
    ("GET", "/api/v1/search", "q=hello", MEMBER, b""),
    ("GET", "/api/v1/counts", f"ids={ID}", MEMBER, b""),
    ("GET", "/api/v1/export", "local=1", MEMBER, b""),
    ("GET", "/fed/v1/log", "after=0", PEER, b""),
    ("POST", "/fed/v1/reconcile", "", PEER, b"\x00"),
    ("POST", "/fed/v1/fetch", "", PEER, b'{"ids": ["' + ID.encode() + b'"]}'),
]


async def _fill(path: Path) -> None:
    async with await Store.open(path) as store:
        await add_member(store, MEMBER.public_key)
        await add_peer(store, PEER.public_key, "http://peer.test", mode="push-pull")
        results = await store.ingest([POST, MENTION])
        assert [r.status for r in results] == ["stored", "stored"]


def _drop(db: Path, name: str) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(f"DROP TABLE {name}")  # a constant here
        conn.commit()
    finally:
        conn.close()


@dataclass
class Broken:
    http: httpx.AsyncClient
    server_key: str
    app: Starlette
    how: str


@pytest.fixture(params=["dropped under the running server", "damaged pages", "truncated under the running server"])
async def broken(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Broken]:
    db = tmp_path / "server.db"
    await _fill(db)
    if request.param == "damaged pages":
        damage_pages(db, "messages")
    store = await Store.open(db)
    state = ServerState(
        config=ServerConfig(name="test", max_body_bytes=64 * 1024, rate_per_minute=0),
        identity=Identity.generate(),
        store=store,
    )
    try:
        if request.param == "dropped under the running server":
            _drop(db, "messages")
        elif request.param == "truncated under the running server":
            os.truncate(db, db.stat().st_size // 2)
        app = create_app(state)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield Broken(c, state.identity.public_key, app, request.param)
    finally:
        await store.close()


async def test_every_read_that_fails_is_503_with_retry_after(broken: Broken) -> None:
    answers = {}
    for method, path, query, signer, body in READS:
        headers = sign_request(signer, method, path, query, body, recipient=broken.server_key).as_dict()
        url = f"{path}?{query}" if query else path
        response = await broken.http.request(method, url, headers=headers, content=body)
        answers[path] = (response.status_code, response.headers.get("retry-after"), response.json()["error"]["code"])
        reason = response.json()["error"]["reason"]
        assert reason.startswith("The database could not be read:") and reason.endswith("Try again later."), reason
        assert "Traceback" not in reason and "\n" not in reason
    assert answers == {path: (503, "5", "storage_unavailable") for _, path, *_ in READS}


async def test_a_write_that_fails_is_answered_the_same_way(broken: Broken) -> None:
    body = orjson.dumps(sign_draft(MEMBER, {"body": {"text": "into a broken store"}}))
    headers = sign_request(MEMBER, "POST", "/api/v1/messages", "", body, recipient=broken.server_key).as_dict()
    response = await broken.http.post("/api/v1/messages", headers=headers, content=body)
    assert (response.status_code, response.headers.get("retry-after")) == (503, "5")
    assert response.json()["error"]["code"] == "storage_unavailable"


async def test_the_live_stream_ends_with_a_word_when_a_read_fails(broken: Broken) -> None:
    """Too late for a 503 once the stream has begun: it ends, saying why, and the client reconnects later."""
    headers = sign_request(MEMBER, "GET", "/api/v1/stream", "cursor=0", b"", recipient=broken.server_key).as_dict()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/stream",
        "query_string": b"cursor=0",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    body = bytearray()
    status: list[int] = []
    asked, never = False, asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays: only the server's failure may end this stream
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        body.extend(message.get("body", b""))

    await asyncio.wait_for(broken.app(scope, receive, send), BOUND_S)  # it ends, and does not raise
    if broken.how == "truncated under the running server":  # a read fails before the stream begins
        assert status == [503] and b'"storage_unavailable"' in body
    else:
        assert status == [200] and bytes(body).startswith(b": murmur stream") and bytes(body).endswith(STORE_FAILED)
