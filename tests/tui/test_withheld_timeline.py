"""A timeline entry (and a search result) says what a peer withheld of its post and why, from the server's
signed notice, under the author line, and says it at once when the notice comes while the post is on screen (the
live stream's ``withheld`` event); the name and reason a peer sends are drawn as text, never as markup or terminal
controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from murmur.client.tui.screens.search import SearchScreen
from murmur.client.tui.screens.thread import ThreadScreen
from murmur.client.tui.widgets.entries import PostEntry
from murmur.keys import Identity
from murmur.receipts import signed
from murmur.server.federation.answers import heard
from murmur.store import receipts
from murmur.store.peers import add_peer
from tests.listed import add_listed_peer
from tests.tui.conftest import ALICE, LiveServer, make_app, until
from tests.tui.test_pilot import open_local

SIZE = (110, 40)
FAR = Identity.from_seed(b"\x25" * 32)
NAME = "[bold red]far[/]"
REASON = "[link='http://evil.test']no lunch[/link] $warning \x1b[2J"


async def refused(live: LiveServer, text: str, *, listed: bool = True) -> dict[str, Any]:
    """Alice's post, which the peer named NAME refused, signed, for REASON; ``listed``: the peer is in the server's
    signed trust manifest (else only in its tables, as a key the server slipped in would be)."""
    if listed:
        await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name=NAME)
    else:
        await add_peer(live.store, FAR.public_key, "http://far.test", name=NAME, mode="serve-only")
    held = await live.post(ALICE, text)
    answer = {"id": held["id"], "status": "refused", "code": "policy", "reason": REASON}
    assert await receipts.note(live.store, FAR.public_key, {held["id"]}, [signed(FAR, answer)]) == 1
    return held


async def test_a_timeline_entry_says_what_a_peer_withheld(live: LiveServer, tmp_path: Path) -> None:
    held = await refused(live, "a post the far server would not take")
    free = await live.post(ALICE, "a post nobody refused")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)

        def entries() -> dict[str | None, PostEntry]:
            return {e.message_id: e for e in timeline.entries if isinstance(e, PostEntry)}

        await until(pilot, lambda: {held["id"], free["id"]} <= set(entries()))
        shown = entries()[held["id"]].render()
        lines = shown.plain.splitlines()
        expected = f"⊘ withheld by {NAME} ({FAR.public_key[:16]}): [link='http://evil.test']no lunch[/link] $warning"
        assert lines[1].startswith(expected)  # right under the author line, the peer's words as they came
        assert "\x1b" not in shown.plain
        assert not any(span.style and "link" in str(span.style) for span in shown.spans)
        assert "withheld by" not in entries()[free["id"]].render().plain


async def test_a_notice_by_a_key_no_signed_manifest_lists_is_unknown_not_the_name_served(
    live: LiveServer, tmp_path: Path
) -> None:
    held = await refused(live, "a post a key of the server's own making refused", listed=False)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)

        def shown() -> str:
            entry = next((e for e in timeline.entries if isinstance(e, PostEntry) and e.message_id == held["id"]), None)
            return entry.render().plain if entry is not None else ""

        await until(pilot, lambda: "withheld" in shown())
        assert f"⊘ withheld notice signed by an unknown key ({FAR.public_key[:16]})" in shown()
        assert "far" not in shown() and "lunch" not in shown()


async def test_a_search_result_says_it_too(live: LiveServer, tmp_path: Path) -> None:
    held = await refused(live, "tomatoes the far server would not take")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press(*"tomatoes", "enter")
        await until(pilot, lambda: bool(search.query(PostEntry)))
        [entry] = search.query(PostEntry)
        assert entry.message_id == held["id"]
        assert f"⊘ withheld by {NAME} ({FAR.public_key[:16]}): [link=" in entry.render().plain


async def test_a_notice_that_comes_later_shows_on_the_entry_at_once(live: LiveServer, tmp_path: Path) -> None:
    """The post is on screen before the peer's notice comes: the live stream carries the notice (``event:
    withheld``) and the entry says it without a refresh."""
    await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name=NAME)
    held = await live.post(ALICE, "a post the far server refuses later")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)

        def shown() -> str:
            """The entry of the post as drawn, "" while it is not on screen."""
            found = [e for e in timeline.entries if isinstance(e, PostEntry) and e.message_id == held["id"]]
            return found[0].render().plain if found else ""

        await until(pilot, lambda: bool(shown()) and live.state.fanout.live > 0)
        assert "withheld by" not in shown()
        answer = {"id": held["id"], "status": "refused", "code": "policy", "reason": REASON}
        assert await heard(live.state, FAR.public_key, {held["id"]}, [signed(FAR, answer)]) == 1
        expected = f"⊘ withheld by {NAME} ({FAR.public_key[:16]}): [link='http://evil.test']no lunch[/link] $warning"
        await until(pilot, lambda: expected in shown())
        assert "\x1b" not in shown()


async def test_a_thread_on_screen_says_a_notice_that_comes_later(live: LiveServer, tmp_path: Path) -> None:
    """The thread loads again when the stream names one of its posts, so its summary above the posts says it."""
    await add_listed_peer(live.store, live.state.identity, FAR.public_key, "http://far.test", name="far")
    root = await live.post(ALICE, "a thread the far server refuses later")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_thread(root["id"])
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and bool(app.screen.query("#thread-withheld")))
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and app.screen.shows(root["id"]))
        await until(pilot, lambda: live.state.fanout.live > 0)
        summary = app.screen.query_one("#thread-withheld", Static)
        assert not summary.display
        answer = {"id": root["id"], "status": "refused", "code": "policy", "reason": "no threads here"}
        assert await heard(live.state, FAR.public_key, {root["id"]}, [signed(FAR, answer)]) == 1
        await until(pilot, lambda: bool(summary.display))
        assert f"withheld by far ({FAR.public_key[:16]}): no threads here" in str(summary.render())
