"""Groups in the TUI against a real server: the Groups tab, a group's screen, joining, posting and moderating."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, Select, Static, TabbedContent, TextArea

from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.dialogs import PromptScreen
from murmur.client.tui.screens.group import GroupScreen
from murmur.client.tui.screens.main import MainScreen
from murmur.client.tui.widgets.entries import PostEntry
from murmur.client.tui.widgets.groups import GroupEntry, GroupList
from murmur.client.tui.widgets.timeline import Timeline
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from tests.tui.conftest import ALICE, BOB, ME, NOW, LiveServer, make_app, until

SIZE = (120, 40)


async def a_group(live: LiveServer, *, approval: bool = False) -> str:
    draft = create_draft("Fix CI", description="Builds take an hour", rules="Be kind.", approval=approval)
    return str((await live.sign(ALICE, draft, at=NOW - 90_000))["id"])


async def in_group(live: LiveServer, who: Any, group: str, text: str, at: int) -> dict[str, Any]:
    return await live.sign(who, {"kind": "post", "body": {"text": text}, "tags": [["group", group]]}, at=at)


def head(app: Any) -> str:
    return str(app.screen.query_one("#group-head", Static).render())


def shown(app: Any) -> list[str]:
    return [str(e.render()) for e in app.screen.query_one(Timeline).entries if isinstance(e, PostEntry)]


async def open_group(pilot: Any, app: Any) -> None:
    await pilot.press("6")
    await until(pilot, lambda: app.main.query_one(TabbedContent).active == "groups")
    groups = app.main.query_one(GroupList)
    await until(pilot, lambda: bool(groups.entries) and groups.has_focus)
    assert isinstance(groups.entries[0], GroupEntry)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, GroupScreen) and app.screen.group is not None)


async def test_the_groups_tab_a_group_screen_joining_and_posting(live: LiveServer, tmp_path: Path) -> None:
    g = await a_group(live)
    pinned = await in_group(live, ALICE, g, "Read the runbook first", NOW - 80_000)
    await live.sign(ALICE, about_post_draft("group_pin", g, pinned["id"]), at=NOW - 70_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot, app)
        text = head(app)
        assert "Fix CI" in text and "Builds take an hour" in text and "Be kind." in text
        assert "Read the runbook first" in text and "not a member" in text
        await until(pilot, lambda: any("Read the runbook first" in s for s in shown(app)))

        await pilot.press("J")
        await until(pilot, lambda: "you are a member" in head(app))
        [joined] = await live.messages("group_join")
        assert (joined["author"], joined["tags"]) == (ME.public_key, [["group", g]])

        await pilot.press("M")
        members = app.screen.query_one("#group-members", Static)
        await until(pilot, lambda: "owner" in str(members.render()) and members.display)

        await pilot.press("n")
        assert isinstance(app.screen, ComposeScreen)
        assert "in Fix CI" in str(app.screen.query_one("#compose-title").render())
        app.screen.query_one("#text", TextArea).text = "Hello group"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, GroupScreen))
        mine = [p for p in await live.messages("post") if p["author"] == ME.public_key]
        assert [p["tags"] for p in mine] == [[["group", g]]]
        await until(pilot, lambda: any("Hello group" in s for s in shown(app)))

        await pilot.press("X")
        await until(pilot, lambda: "not a member" in head(app))
        assert len(await live.messages("group_leave")) == 1
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_directory_search(live: LiveServer, tmp_path: Path) -> None:
    await a_group(live)
    await live.sign(BOB, create_draft("Lunch club", description="Where to eat on Fridays"), at=NOW - 80_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        groups = app.main.query_one(GroupList)
        await until(pilot, lambda: len(groups.entries) == 2 and groups.has_focus)
        await pilot.press("F")
        field = app.main.query_one("#groups-search", Input)
        assert field.has_focus
        await pilot.press(*"friday", "enter")
        await until(pilot, lambda: len(groups.entries) == 1 and groups.has_focus)
        assert "Lunch club" in str(groups.entries[0].render())


async def test_hidden_posts_say_who_hid_them_and_why_and_unfold(live: LiveServer, tmp_path: Path) -> None:
    g = await a_group(live)
    await live.sign(BOB, membership_draft("group_join", g), at=NOW - 85_000)
    spam = await in_group(live, BOB, g, "buy my stuff", NOW - 80_000)
    await live.sign(ALICE, about_post_draft("group_hide", g, spam["id"], reason="spam, twice"), at=NOW - 70_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot, app)
        await until(pilot, lambda: any("hidden by" in s for s in shown(app)))
        [entry] = shown(app)
        assert "spam, twice" in entry and "buy my stuff" not in entry
        await pilot.press("c")
        await until(pilot, lambda: "buy my stuff" in shown(app)[0])


async def test_a_moderator_hides_and_pins_from_the_group_screen(live: LiveServer, tmp_path: Path) -> None:
    g = await a_group(live, approval=True)
    await live.sign(ALICE, about_person_draft("group_mod", g, ME.public_key), at=NOW - 85_000)
    post = await in_group(live, ALICE, g, "an announcement", NOW - 80_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot, app)
        assert "you moderate this group" in head(app)
        await until(pilot, lambda: bool(shown(app)))
        await pilot.press("P")
        await until(pilot, lambda: len(app.screen.group["pinned"]) == 1)  # type: ignore[attr-defined]
        await pilot.press("h")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "wrong group"
        await pilot.press("enter")
        await until(pilot, lambda: any("hidden by" in s for s in shown(app)))
        [hide] = await live.messages("group_hide")
        assert (hide["author"], hide["body"], hide["tags"]) == (
            ME.public_key,
            {"reason": "wrong group"},
            [["group", g], ["target", post["id"]]],
        )


async def test_compose_offers_my_groups(live: LiveServer, tmp_path: Path) -> None:
    g = await a_group(live)
    await live.sign(ME, membership_draft("group_join", g), at=NOW - 85_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        choice = app.screen.query_one("#compose-group", Select)
        await until(pilot, lambda: choice.display)
        choice.value = g
        app.screen.query_one("#text", TextArea).text = "from the main screen"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        [post] = await live.messages("post")
        assert ["group", g] in post["tags"]


async def test_compose_without_groups_shows_no_choice(live: LiveServer, tmp_path: Path) -> None:
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.screen.groups_offered == [])  # type: ignore[attr-defined]
        await pilot.pause()
        assert not app.screen.query_one("#compose-group", Select).display
