"""A start with the last home page on disk draws that page before it asks the server anything.

The answers (the server's info, the fresh page, every author's name) were checked and laid out on the same event
loop as the first paint: a start with the page on disk drew later than a start without it (docs/performance.md,
tui_first_paint_s).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from murmur.client.tui import cache
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.widgets.timeline import Timeline
from tests.tui.conftest import ALICE, LiveServer, make_app, until


def drawn(app: MurmurApp) -> bool:
    """Whether the home timeline's first entry has a place on screen: the layout that draws it has run."""
    entries = app.main.query_one("#tl-home", Timeline).entries
    return bool(entries) and bool(entries[0].region)


def record_requests(app: MurmurApp) -> list[tuple[str, bool]]:
    """Each request the app sends, with whether the home page was drawn when it left."""
    sent: list[tuple[str, bool]] = []

    async def on_request(request: httpx.Request) -> None:
        sent.append((request.url.path, drawn(app)))

    app.api.http.event_hooks["request"].append(on_request)
    return sent


async def test_a_kept_page_is_drawn_before_the_server_is_asked(live: LiveServer, tmp_path: Path) -> None:
    post = await live.post(ALICE, "kept from last time")
    cache.save(tmp_path / "tui-cache.json", "home", {"items": [{"seq": 1, "message": post}], "next_cursor": None})
    app = make_app(live, tmp_path, live=False)
    sent = record_requests(app)
    async with app.run_test() as pilot:
        await until(pilot, lambda: any(path.endswith("/timelines/home") for path, _ in sent))
        assert sent and all(was_drawn for _, was_drawn in sent), sent
        assert "kept from last time" in str(app.main.query_one("#tl-home", Timeline).entries[0].render())

