"""What the TUI keeps folded until asked: long posts (m), content warnings (c) in timelines and in the
notifications tab; and how it shows names that could be mistaken for others."""

from __future__ import annotations

from pathlib import Path

from murmur.client.tui.drafts import post_draft
from murmur.client.tui.widgets.entries import NoticeEntry, PostEntry
from murmur.client.tui.widgets.timeline import Timeline
from murmur.keys import fingerprint
from tests.tui.conftest import ALICE, BOB, ME, LiveServer, make_app, seeded, until

SIZE = (120, 40)


async def open_local(pilot, app) -> Timeline:  # type: ignore[no-untyped-def]
    await pilot.press("3")
    timeline = app.main.query_one("#tl-local", Timeline)
    await until(pilot, lambda: len(timeline.entries) > 0 and timeline.has_focus)
    return timeline


async def test_a_long_post_is_folded_until_expanded(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "top\n" + "\n" * 500 + "bottom line")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        entry = timeline.current
        assert isinstance(entry, PostEntry)
        await until(pilot, lambda: entry.outer_size.height > 0)
        folded = str(entry.render())
        assert "top" in folded and "bottom line" not in folded and "m: show more" in folded
        assert "more lines" in folded and entry.outer_size.height < 20
        await pilot.press("m")
        await until(pilot, lambda: entry.outer_size.height > 500)
        assert "bottom line" in str(entry.render()) and "m: fold" in str(entry.render())
        await pilot.press("m")
        await until(pilot, lambda: entry.outer_size.height < 20)


async def test_a_long_line_is_folded_too(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "y" * 4000 + "END")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        entry = (await open_local(pilot, app)).current
        assert isinstance(entry, PostEntry)
        assert "END" not in str(entry.render()) and "more characters" in str(entry.render())


async def test_a_content_warning_holds_in_the_notifications_tab(live: LiveServer, tmp_path: Path) -> None:
    mine = await live.post(ME, "my post")
    await live.sign(BOB, post_draft("the secret ending", cw="spoilers", parent=mine))
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: bool(notes.entries) and notes.has_focus)
        entry = notes.current
        assert isinstance(entry, NoticeEntry)
        shown = str(entry.render())
        assert "spoilers" in shown and "secret ending" not in shown and "c: show" in shown
        await pilot.press("c")
        assert "secret ending" in str(entry.render())


async def test_invisible_characters_show_and_a_shared_name_is_flagged(live: LiveServer, tmp_path: Path) -> None:
    twin = seeded(7)
    from murmur.store.members import add_member

    await add_member(live.store, twin.public_key)
    await live.sign(ALICE, {"kind": "profile", "body": {"name": "Alice"}})
    await live.sign(twin, {"kind": "profile", "body": {"name": "Ali\u200bce"}})
    await live.sign(BOB, {"kind": "profile", "body": {"name": "Bob"}})
    for who in (ALICE, twin, BOB):
        await live.post(who, "hello")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        view = app.view  # type: ignore[attr-defined]
        await until(pilot, lambda: all(view.names.get(k) for k in (ALICE.public_key, twin.public_key, BOB.public_key)))
        shown = {e.item["message"]["author"]: str(e.render()) for e in timeline.entries}
        assert f"Ali<U+200B>ce {fingerprint(twin.public_key)} ⚠ name also used by another key" in shown[twin.public_key]
        assert f"Alice {fingerprint(ALICE.public_key)} ⚠ name also used" in shown[ALICE.public_key]
        assert "⚠" not in shown[BOB.public_key]


async def test_a_servers_hostile_reason_is_shown_inert(live: LiveServer, tmp_path: Path) -> None:
    from murmur.client.api import ApiError
    from tests.hostile import HOSTILE, acting_characters

    reason = "[bold]no[/bold] " + "".join(HOSTILE.values())
    app = make_app(live, tmp_path, live=False)

    async def refuse(*args: object, **kw: object) -> None:
        raise ApiError(400, "refused", reason)

    async with app.run_test(size=SIZE) as pilot:
        app.api.timeline = refuse  # type: ignore[method-assign]
        await pilot.press("3", "R")
        await until(pilot, lambda: len(app._notifications) > 0)
        shown = [n.message for n in app._notifications]
        assert shown[0].startswith("[bold]no[/bold] ␛]0;owned␇")
        assert acting_characters(shown[0]) == [] and all(n.markup is False for n in app._notifications)
