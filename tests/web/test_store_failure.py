"""A database that fails a read answers the web view's readers as it answers members: 503, Retry-After, one
sentence, as an HTML page; never a 500, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from murmur.keys import Identity
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store
from tests.web.site import group_of, open_letter, people


async def test_a_failed_read_is_503_with_retry_after_on_every_web_path(tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    ann = people(1)[0]
    post, group, letter = ann.post("hello #t"), group_of(ann, "G"), open_letter(ann, "L", "them", "text")
    store = await Store.open(db)
    try:
        assert all(r.status == "stored" for r in await store.ingest([ann.profile("Ann"), post, group, letter]))
        with sqlite3.connect(db) as other:  # another connection drops the table under the running server
            other.execute("DROP TABLE messages")
        state = ServerState(config=ServerConfig(name="t", rate_per_minute=0), identity=Identity.generate(), store=store)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state)), base_url="http://t") as c:
            paths = [f"/@{ann.key}", f"/@{ann.key}/feed.atom", f"/@{ann.key}/twtxt.txt", "/tags/t", "/tags/t/feed.atom"]
            paths += [f"/m/{post['id']}", f"/m/{post['id']}/signed.json", f"/g/{group['id']}"]
            paths += [f"/g/{group['id']}/feed.atom", f"/letters/{letter['id']}", f"/letters/{letter['id']}/signed.json"]
            for path in paths:
                response = await c.get(path)
                assert (response.status_code, response.headers.get("retry-after")) == (503, "5"), path
                assert response.headers["content-type"] == "text/html; charset=utf-8"
                assert "default-src 'none'" in response.headers["content-security-policy"]
                assert "could not be read" in response.text and "Traceback" not in response.text
    finally:
        await store.close()
