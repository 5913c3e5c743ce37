"""A timeline keeps the entry being read where it sits on screen through whatever it does by itself (live posts
mounted above, heights that settle late), until the reader moves; then the place is theirs.

The place is read as the entry's row in the view (its place in the list less the scroll), which the scroll sets
at once; the screen's own regions would wait for the next repaint. After a layout, one ``pilot.pause()`` lets
the timeline handle it: the place is put back from a callback the layout queued on the timeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import TabbedContent

from murmur.client.tui.app import MurmurApp
from murmur.client.tui.drafts import delete_draft
from murmur.client.tui.widgets.entries import Entry, PostEntry
from murmur.client.tui.widgets.timeline import Timeline
from tests.tui.conftest import ALICE, BOB, NOW, LiveServer, make_app, until
from tests.tui.test_pilot import SIZE, open_local, texts

NARROW = (50, 40)
"""Narrow enough that a long display name wraps a post's header onto a second line."""

LONG_NAME = "Bartholomew Featherstonehaugh-X"


def looking_up_names(app: MurmurApp) -> bool:
    return any(w.group == "names" and not w.is_finished for w in app.workers)


def row(timeline: Timeline, entry: Entry) -> float:
    """Where ``entry`` sits in the timeline's view, in rows from its top."""
    return entry.virtual_region.y - timeline.scroll_y


async def old_posts(live: LiveServer) -> list[dict[str, Any]]:
    """More than a screenful of Alice's posts, so there is somewhere to scroll."""
    return [await live.post(ALICE, f"old {i}", at=NOW - 100_000 + i) for i in range(20)]


async def read_halfway(pilot, app: MurmurApp) -> tuple[Timeline, Entry]:  # type: ignore[no-untyped-def]
    """Open the Local tab and move the highlight ten posts down: the timeline, and the entry being read once it
    has settled in the view."""
    timeline = await open_local(pilot, app)
    await until(pilot, lambda: app.connection[0] is True)
    await pilot.press(*"jjjjjjjjjj")
    await pilot.wait_for_scheduled_animations()  # the scroll to the highlighted post has settled
    reading = timeline.current
    assert reading is not None and reading.virtual_region
    return timeline, reading


async def news_above(pilot, live: LiveServer, timeline: Timeline) -> Entry:  # type: ignore[no-untyped-def]
    """Bob's post arrives live, on top; its entry once laid out. Mounted, it has no height yet: the layout that
    gives it one pushes the reader down, and the timeline must put them back after it."""
    await live.post(BOB, "breaking news", at=NOW)
    await until(pilot, lambda: "breaking news" in texts(timeline))
    new = timeline.entries[0]
    await until(pilot, lambda: bool(new.virtual_region))
    return new


async def test_live_post_arrives_without_moving_the_reader(live: LiveServer, tmp_path: Path) -> None:
    await old_posts(live)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline, reading = await read_halfway(pilot, app)
        place = row(timeline, reading)
        new = await news_above(pilot, live, timeline)
        await pilot.pause()
        assert row(timeline, reading) == place
        assert timeline.current is reading
        tab = app.main.query_one(TabbedContent).get_tab("local")
        await until(pilot, lambda: "(1)" in str(tab.label))  # the count goes up to the tab as a message
        assert new.unread
        await pilot.press("g")
        assert not new.unread


async def test_a_height_that_settles_late_above_the_reader_does_not_move_them(
    live: LiveServer, tmp_path: Path
) -> None:
    """The place is held through every layout, not put back once: here the author's name of the post that arrived
    comes after the place was put back, and wraps that post's header onto a second line. Once the reader moves
    (a key), the place is theirs: a later change above no longer scrolls the view."""
    await old_posts(live)
    app = make_app(live, tmp_path)
    async with app.run_test(size=NARROW) as pilot:
        timeline, reading = await read_halfway(pilot, app)
        place = row(timeline, reading)
        new = await news_above(pilot, live, timeline)
        # The name look-ups under way end first (BOB has no profile: his stays unnamed), so that only this test
        # names him, after the place was put back.
        await until(pilot, lambda: BOB.public_key in app.view.names and not looking_up_names(app))
        await pilot.pause()
        assert row(timeline, reading) == place
        height = new.outer_size.height
        app.view.names[BOB.public_key] = LONG_NAME  # what a name look-up that answers late does
        app.redraw_entries()
        await until(pilot, lambda: new.outer_size.height > height)
        await pilot.pause()
        assert row(timeline, reading) == place

        await pilot.press("g")  # the reader moves: to the top
        assert timeline.scroll_y == 0
        alice = [e for e in timeline.entries if isinstance(e, PostEntry) and e is not new]
        heights = [e.outer_size.height for e in alice]
        app.view.names[ALICE.public_key] = LONG_NAME
        app.redraw_entries()
        await until(pilot, lambda: [e.outer_size.height for e in alice] != heights)
        await pilot.pause()
        assert timeline.scroll_y == 0


async def test_a_post_deleted_above_the_reader_does_not_move_them(live: LiveServer, tmp_path: Path) -> None:
    """A delete that arrives live takes a post away above the one being read: the reader stays where they were."""
    posts = await old_posts(live)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline, reading = await read_halfway(pilot, app)
        place = row(timeline, reading)
        going = timeline.entries[1]  # "old 18", above the reader
        await live.sign(ALICE, delete_draft(posts[18]))
        await until(pilot, lambda: not going.is_attached)  # taken away, and laid out without it
        await pilot.pause()
        assert "old 18" not in texts(timeline)
        assert timeline.current is reading
        assert row(timeline, reading) == place
