"""The TUI marks what the server lacks of a person's public messages, on their profile and in a thread (and the
messages a thread names that the server does not hold), and its repair key asks the server's peers for them;
what comes back shows once the server stored it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static

from murmur.client.tui.app import MurmurApp
from murmur.client.tui.drafts import post_draft
from murmur.client.tui.screens.profile import ProfileScreen
from murmur.client.tui.screens.thread import ThreadScreen
from murmur.client.tui.widgets.entries import PostEntry
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.peers import add_peer
from tests.counted import stream
from tests.tui.conftest import ALICE, BOB, NOW, LiveServer, make_app, until

SIZE = (110, 40)


@pytest.fixture
async def peer(live: LiveServer, tmp_path: Path) -> AsyncIterator[Store]:
    """A peer of the live server, in-process, that holds everything; the live server dials it."""
    store = await Store.open(tmp_path / "peer.db")
    state = ServerState(config=ServerConfig(name="beta"), identity=Identity.generate(), store=store)
    transport = httpx.ASGITransport(app=create_app(state))
    await add_peer(live.store, state.identity.public_key, "http://beta.test", name="beta")
    await add_peer(store, live.state.identity.public_key, "", mode="serve-only")
    live.state.transport_for = lambda p: transport if p.url == "http://beta.test" else None
    try:
        yield store
    finally:
        await store.close()


def _note(screen: object, selector: str) -> str:
    """What the note says; "" while it is hidden or not composed yet."""
    found = screen.query(selector)  # type: ignore[attr-defined]
    widget = found.first(Static) if found else None
    return str(widget.render()) if widget is not None and widget.display else ""


async def _thread_note(pilot: Any, app: MurmurApp, msg_id: str) -> str:
    """Open the thread of ``msg_id`` and wait for its note of what is missing; what it says."""
    app.controller.open_thread(msg_id)
    await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and "not on this server" in _note(
        app.screen, "#thread-missing"))  # fmt: skip
    return _note(app.screen, "#thread-missing")


async def test_a_profile_marks_missing_messages_and_asks_for_them(
    live: LiveServer, peer: Store, tmp_path: Path
) -> None:
    posts = stream(ALICE, 4)
    name = sign_draft(ALICE, {"kind": "profile", "body": {"name": "Alice", "bio": ""}}, created_at=NOW - 90_000)
    await live.ingest(name, posts[0], posts[3])
    await peer.ingest(posts)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_profile(ALICE.public_key)
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and "not on this server" in _note(
            app.screen, "#profile-missing"))  # fmt: skip
        assert "2 public messages from Alice's device" in _note(app.screen, "#profile-missing")
        await pilot.press("A")
        await until(pilot, lambda: _note(app.screen, "#profile-missing") == "")
        assert all([await live.store.get_raw(p["id"]) is not None for p in posts])


async def test_a_thread_marks_missing_replies_and_asks_for_them(live: LiveServer, peer: Store, tmp_path: Path) -> None:
    root = await live.post(BOB, "what do you all think?")
    replies = stream(ALICE, 3, reply=root["id"])
    await live.ingest(replies[0], replies[2])
    await peer.ingest([root, *replies])
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert "1 public message from" in await _thread_note(pilot, app, root["id"])
        await pilot.press("A")
        await until(pilot, lambda: len(app.screen.query(PostEntry)) == 4 and _note(app.screen, "#thread-missing") == "")


async def test_a_thread_asks_for_the_posts_it_names_but_lacks_by_id(
    live: LiveServer, peer: Store, tmp_path: Path
) -> None:
    """The root this server never received is no counted message (no gap to show): the thread names it, the note
    says so, and the repair key asks the peers for it by id."""
    root = sign_draft(BOB, post_draft("what do you all think?"), created_at=NOW - 90_000)
    await peer.ingest([root])
    reply = await live.post(ALICE, "this", parent=root)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert "1 message this thread names is not on this server" in await _thread_note(pilot, app, reply["id"])
        await pilot.press("A")
        await until(pilot, lambda: _note(app.screen, "#thread-missing") == "")
        await until(pilot, lambda: len(app.screen.query(PostEntry)) == 2)
    assert await live.store.get_raw(root["id"]) is not None
