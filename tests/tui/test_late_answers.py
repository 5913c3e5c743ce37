"""An answer that lands after its screen closed, or while the app closes, is dropped: never a crash.

Workers ask the server and then draw; the person may close the screen (or the app) in between. The TUI's one
``work`` decorator (murmur.client.tui.net) drops such answers, and every worker of the TUI is declared with it.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static

import murmur.client.tui as tui_package
from murmur.client.tui.net import work
from tests.tui.conftest import LiveServer, make_app


class Body(Static):
    """The screen's body; the server's answer arrives just as it is taken down, the window the failure needs."""

    def __init__(self, answer: asyncio.Event) -> None:
        super().__init__("Loading…", id="body")
        self.answer = answer

    def on_unmount(self) -> None:
        self.answer.set()


class Asking(Screen[None]):
    """A screen whose worker waits for ``answer`` then draws into its body."""

    def __init__(self, answer: asyncio.Event, selector: str = "#body") -> None:
        super().__init__()
        self.answer = answer
        self.selector = selector
        self.drawn = asyncio.Event()
        self.asked = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Body(self.answer)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="asking")
    async def load(self) -> None:
        self.asked.set()
        await self.answer.wait()
        self.query_one(self.selector, Static).update("answered")
        self.drawn.set()


class Host(App[None]):
    pass


async def test_an_answer_for_a_closed_screen_is_dropped() -> None:
    answer = asyncio.Event()
    app = Host()
    async with app.run_test() as pilot:
        screen = Asking(answer)
        await app.push_screen(screen)
        await screen.asked.wait()
        await app.pop_screen()  # the server answers as the person closes the screen
        await pilot.pause()
        assert answer.is_set()
        assert not screen.drawn.is_set()
    # run_test re-raises a worker's failure on leaving the block: reaching here is the assertion


async def test_an_answer_landing_while_the_app_closes_is_dropped() -> None:
    answer = asyncio.Event()
    app = Host()
    async with app.run_test():
        screen = Asking(answer)
        await app.push_screen(screen)
        await screen.asked.wait()
    assert answer.is_set()  # answered while the app took the screen down
    assert not screen.drawn.is_set()


async def test_a_missing_widget_on_a_shown_screen_is_still_a_bug() -> None:
    answer = asyncio.Event()
    app = Host()
    with pytest.raises(Exception) as raised:  # Textual wraps the worker's error
        async with app.run_test() as pilot:
            screen = Asking(answer, selector="#no-such-widget")
            await app.push_screen(screen)
            await screen.asked.wait()
            answer.set()
            await pilot.pause()
            await app.workers.wait_for_complete()
    assert isinstance(raised.value, NoMatches) or "NoMatches" in repr(raised.value)


def test_every_tui_worker_is_declared_with_the_one_decorator() -> None:
    root = Path(tui_package.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "net.py" and re.search(r"^from textual import [^\n]*\bwork\b", path.read_text(), re.M)
    ]
    assert offenders == [], "declare TUI workers with murmur.client.tui.net.work, which drops late answers"


async def test_the_first_page_answering_as_the_app_closes_is_dropped(live: LiveServer, tmp_path: Path) -> None:
    """The first reads wait for the tab in view to be drawn; if the app closes while its page is on the way,
    that tab is closed by the time the page is in, and nothing is waited for on it."""
    app = make_app(live, tmp_path, live=False)
    asked = asyncio.Event()
    read = app.api.timeline

    async def held(which: str, **kw: Any) -> dict[str, Any]:
        asked.set()
        await asyncio.Event().wait()  # answered only by the app closing (the read is cancelled)
        return await read(which, **kw)

    app.api.timeline = held  # type: ignore[method-assign]
    async with app.run_test():
        await asked.wait()
    # run_test re-raises a worker's failure on leaving the block: reaching here is the assertion
