"""Snapshots of the main screens, drawn from a real server with fixed keys, fixed times and a fixed clock.

``snap_compare`` runs the app in its own event loop, so the server runs in a thread with its own loop.
Update after an intended change with ``pytest tests/tui --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from textual.pilot import Pilot

from murmur.client.api import MurmurClient
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.drafts import follow_draft, post_draft, reaction_draft
from murmur.client.tui.settings import TuiSettings
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.server.app import create_app
from murmur.server.config import ServerConfig
from murmur.server.state import ServerState
from murmur.store import Store
from murmur.store.members import add_member
from tests.tui.conftest import ALICE, BOB, ME, NOW, ReadyServer, bind, seeded
from tests.waiting import BOUND_S

SIZE = (120, 40)
MALLORY = seeded(4)
PEER = seeded(5)
EVIL_TEXT = "[bold red]x[/] [link=http://evil]y[/link] \x1b[31mred\x1b[0m \x1b]0;title\x07 \u202egnp.exe [b]"
MIN = 60_000


def at(minutes_ago: int) -> int:
    return NOW - minutes_ago * MIN


async def seed(store: Store) -> None:
    for who in (ME, ALICE, BOB, MALLORY):
        await add_member(store, who.public_key)

    def s(who: Identity, draft: dict[str, Any], minutes_ago: int) -> dict[str, Any]:
        return sign_draft(who, draft, created_at=at(minutes_ago))

    names = [("Me", ME), ("Alice Liddell", ALICE), ("Bob", BOB), ("[bold]Mallory[/] \x1b[7m", MALLORY)]
    profiles = [s(who, {"kind": "profile", "body": {"name": n, "bio": "Terminal person."}}, 600) for n, who in names]
    root = s(ALICE, post_draft("What should the TUI show first? #murmur https://murmur.example/tui"), 180)
    reply1 = s(BOB, post_draft("Home, then the thread.", parent=root), 150)
    reply2 = s(ME, post_draft("Agreed, and unread markers.", parent=reply1), 120)
    mine = s(ME, post_draft("Shipping the terminal UI today."), 90)
    cw = s(BOB, post_draft("The ending of the film.", cw="spoilers"), 60)
    evil = s(MALLORY, post_draft(EVIL_TEXT), 30)
    notes = [
        s(ALICE, follow_draft(ME.public_key, follow=True), 25),
        s(BOB, reaction_draft(mine, "🎉"), 20),
        s(ALICE, post_draft(f"@{ME.public_key} have a look", local=True), 15),
    ]
    await store.ingest([*profiles, root, reply1, reply2, mine, cw, evil, *notes], now=2**53 - 1)
    far = s(PEER, post_draft("Hello from a peer server."), 10)
    await store.ingest([far], origin=PEER.public_key, now=2**53 - 1)


class ThreadedServer:
    """A home server on 127.0.0.1 in a thread of its own, seeded once for all snapshots (``seeded``), with its
    ``config`` (by default the snapshots' own)."""

    def __init__(self, path: Path, *, config: ServerConfig | None = None, seeded: bool = True) -> None:
        self.path = path
        self.config = config or ServerConfig(name="snapbox", rate_per_minute=0)
        self.seeded = seeded
        self.loop = asyncio.new_event_loop()
        self.sock = bind()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> None:
        self.store = await Store.open(self.path, durability="normal")
        if self.seeded:
            await seed(self.store)
        state = ServerState(config=self.config, identity=seeded(9), store=self.store)
        config = uvicorn.Config(create_app(state), log_level="error", lifespan="off", timeout_graceful_shutdown=0)
        self.server = ReadyServer(config)
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        await self.server.until_ready(self.task)

    def stop(self) -> None:
        async def _stop() -> None:
            self.server.should_exit = True
            await self.task
            await self.store.close()

        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def snap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    server = ThreadedServer(tmp_path_factory.mktemp("snap") / "server.db")
    server.start()
    yield server
    server.stop()


def snap_app(server: ThreadedServer, tmp_path: Path) -> MurmurApp:
    settings = TuiSettings(
        profile="default",
        server="http://murmur.test",
        cache_path=tmp_path / "cache.json",
        clock=lambda: NOW,
        live=False,
    )
    return MurmurApp(MurmurClient(server.url, ME), settings)


def settle(*keys: str) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        for key in ("", *keys):
            if key:
                await pilot.press(key)
            await quiet(pilot)
        steady_cursors(pilot.app)

    return run_before


async def quiet(pilot: Pilot[None]) -> None:
    """Until no worker is left and none was started by what the last ones brought (pages ask for names, names
    redraw): however many rounds that takes, never a guessed count of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND_S
    while True:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()  # the messages the workers posted are handled, and start whatever they ask for
        if all(worker.is_finished for worker in pilot.app.workers):
            return
        if loop.time() > deadline:
            raise AssertionError(f"workers still running: {list(pilot.app.workers)}")


def steady_cursors(app: Any) -> None:
    """A focused field's cursor blinks every half second, so a screenshot taken later than that after the field
    took focus (on a loaded machine) caught it hidden. Shown steadily, as a screenshot taken at once shows it."""
    for screen in app.screen_stack:
        for field in screen.query("Input, TextArea"):
            field.cursor_blink = False


def test_timeline(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=settle("3", "j", "j"))


def test_markup_and_escapes_are_inert(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    # Mallory's post and name are full of markup, ANSI/OSC escapes and a bidi override: all shown as text.
    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=settle("4", "j", "j"))


def test_thread(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=settle("4", "G", "enter"))


def test_compose_reply(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle("4", "G", "r")(pilot)
        await pilot.press(*"Sounds good!")
        await pilot.pause()

    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_profile(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=settle("4", "G", "p"))


async def test_settled_screens_show_their_cursors_steadily(snap_server: ThreadedServer, tmp_path: Path) -> None:
    app = snap_app(snap_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle("n")(pilot)  # a new post: its text field has the focus
        fields = list(app.screen.query("Input, TextArea"))
        assert fields and any(f.has_focus for f in fields)
        assert not any(f.cursor_blink for f in fields)


def test_help(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=settle("question_mark"))


def test_notifications(snap_compare: Any, snap_server: ThreadedServer, tmp_path: Path) -> None:
    assert snap_compare(snap_app(snap_server, tmp_path), terminal_size=SIZE, run_before=settle("2"))
