"""Editing in the TUI: e on your own post opens the compose screen on its newest text and sends an edit; an
edited post shows its newest text and "edited"; H lists every version; an edit arriving live updates the row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, Select, Static, TextArea

from murmur.client.tui import present
from murmur.client.tui.drafts import edit_draft, post_draft
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.dialogs import ConfirmScreen
from murmur.client.tui.screens.history import HistoryScreen
from murmur.client.tui.screens.main import MainScreen
from murmur.client.tui.screens.thread import ThreadScreen
from murmur.client.tui.widgets.entries import PostEntry
from murmur.client.tui.widgets.timeline import Timeline
from murmur.client.versions import shown_body
from tests.tui.conftest import ALICE, ME, NOW, LiveServer, make_app, ran_its_course, until

SIZE = (120, 40)


def shown_texts(timeline: Timeline) -> list[str]:
    return [str(shown_body(e.item).get("text", "")) for e in timeline.entries if isinstance(e, PostEntry)]


def drawn(entry: Any) -> str:
    return str(entry.render())


async def open_local(pilot: Any, app: Any) -> Timeline:
    await pilot.press("3")
    timeline = app.main.query_one("#tl-local", Timeline)
    await until(pilot, lambda: len(timeline.entries) > 0 and timeline.has_focus)
    return timeline


async def test_e_edits_my_post_from_its_newest_text(live: LiveServer, tmp_path: Path) -> None:
    mine = await live.post(ME, "teh first text", cw="heads up", at=NOW - 60_000)
    await live.sign(ME, edit_draft(mine, "the first text", cw="heads up"), at=NOW - 50_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await until(pilot, lambda: shown_texts(timeline) == ["the first text"])
        await pilot.press("e")
        assert isinstance(app.screen, ComposeScreen)
        area = app.screen.query_one("#text", TextArea)
        assert area.text == "the first text" and app.screen.query_one("#cw", Input).value == "heads up"
        assert not app.screen.query(Select)  # an edit keeps the post's visibility
        area.text = "the final text #tui"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        newest = (await live.messages("edit"))[-1]
        assert newest["body"] == {"text": "the final text #tui", "cw": "heads up"}
        assert newest["tags"] == [["target", mine["id"]], ["hashtag", "tui"]]
        await until(pilot, lambda: shown_texts(timeline) == ["the final text #tui"])
        entry = timeline.entries[0]
        assert entry.item["message"]["id"] == mine["id"]  # the same post, its newest version shown
        entry.cw_open = True
        assert "edited" in drawn(entry) and "the final text" in drawn(entry)


async def test_e_on_someone_elses_post_says_no(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "alice's words")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_local(pilot, app)
        await pilot.press("e")
        await ran_its_course(pilot)
        assert isinstance(app.screen, MainScreen)
        assert any("someone else's" in str(n.message) for n in app._notifications)
    assert await live.messages("edit") == []


async def test_h_lists_every_version_oldest_first(live: LiveServer, tmp_path: Path) -> None:
    post = await live.post(ALICE, "version one", at=NOW - 3_600_000)
    await live.sign(ALICE, edit_draft(post, "version three"), at=NOW - 60_000)
    await live.sign(ALICE, edit_draft(post, "version two", cw="cw two"), at=NOW - 600_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await until(pilot, lambda: shown_texts(timeline) == ["version three"])
        assert "edited 1m" in drawn(timeline.entries[0])
        await pilot.press("H")
        assert isinstance(app.screen, HistoryScreen)
        screen = app.screen
        await until(pilot, lambda: len(screen.query(".version")) == 3)
        shown = [str(v.render()) for v in screen.query(".version").results(Static)]
        assert "original · 1h" in shown[0] and "version one" in shown[0]
        assert "edit 1 · 10m" in shown[1] and "cw two" in shown[1] and "version two" in shown[1]
        assert "edit 2 · 1m" in shown[2] and "version three" in shown[2]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_an_edit_arriving_live_updates_the_row(live: LiveServer, tmp_path: Path) -> None:
    post = await live.post(ALICE, "before the edit", at=NOW - 60_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await until(pilot, lambda: app.connection[0] is True)
        older = edit_draft(post, "an older edit")
        await live.sign(ALICE, edit_draft(post, "after the edit"), at=NOW - 10_000)
        await until(pilot, lambda: shown_texts(timeline) == ["after the edit"])
        await live.sign(ALICE, older, at=NOW - 20_000)  # older than what is shown: it changes nothing
        await live.post(ALICE, "a later post", at=NOW)  # the stream is in order: once this shows, so was that
        await until(pilot, lambda: "a later post" in shown_texts(timeline))
        assert shown_texts(timeline) == ["a later post", "after the edit"]


def test_an_edit_notification_says_what_changed() -> None:
    item = {
        "seq": 3,
        "kind": "edit",
        "actor": ALICE.public_key,
        "target_id": "ab" * 32,
        "verified": True,
        "message": {"kind": "edit", "author": ALICE.public_key, "created_at": NOW, "body": {"text": "new words"}},
    }
    text = str(present.notification_content(item, {}, NOW))
    assert "edited a post you replied to, reacted to or boosted" in text and "new words" in text


async def test_an_edit_of_a_post_i_replied_to_is_a_notification_that_opens_its_thread(
    live: LiveServer, tmp_path: Path
) -> None:
    post = await live.post(ALICE, "a plan", at=NOW - 60_000)
    await live.sign(ME, post_draft("count me in", parent=post), at=NOW - 50_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection[0] is True)
        await live.sign(ALICE, edit_draft(post, "a better plan"), at=NOW - 10_000)
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: any(e.item.get("kind") == "edit" for e in notes.entries))
        [entry] = [e for e in notes.entries if e.item.get("kind") == "edit"]
        assert "edited a post you replied to" in drawn(entry) and "a better plan" in drawn(entry)
        notes.highlight(notes.entries.index(entry))
        await until(pilot, lambda: notes.has_focus)  # enter goes to the focused list, which the tab switch moves
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and bool(app.screen.query(PostEntry)))
        root = app.screen.query(PostEntry).first()
        await until(pilot, lambda: shown_body(root.item).get("text") == "a better plan")


async def test_delete_asks_about_the_post_as_last_written(live: LiveServer, tmp_path: Path) -> None:
    mine = await live.post(ME, "the words first posted", at=NOW - 60_000)
    await live.sign(ME, edit_draft(mine, "the words as they stand"), at=NOW - 50_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await until(pilot, lambda: shown_texts(timeline) == ["the words as they stand"])
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen) and app.screen.detail == "the words as they stand"
        await pilot.press("n")
