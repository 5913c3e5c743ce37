"""The TUI against a real home server: every binding opens the right screen or writes the right message."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.command import CommandList
from textual.widgets import Input, Label, TabbedContent, TextArea

from murmur.client.tui.app import MurmurApp
from murmur.client.tui.drafts import follow_draft
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.dialogs import ConfirmScreen, LinksScreen, PromptScreen, RawScreen, ReactionPicker
from murmur.client.tui.screens.help import HelpScreen
from murmur.client.tui.screens.main import MainScreen
from murmur.client.tui.screens.profile import ProfileScreen
from murmur.client.tui.screens.search import SearchScreen
from murmur.client.tui.screens.thread import ThreadScreen
from murmur.client.tui.widgets.entries import PersonEntry, PostEntry
from murmur.client.tui.widgets.status import StatusBar
from murmur.client.tui.widgets.timeline import Timeline
from murmur.keys import fingerprint
from murmur.store.members import remove_member
from tests.identity_logs import Log as IdentityLog
from tests.tui.conftest import ALICE, BOB, ME, NOW, LiveServer, make_app, until

SIZE = (120, 40)


def local(app: object) -> Timeline:
    return app.main.query_one("#tl-local", Timeline)  # type: ignore[attr-defined]


def texts(timeline: Timeline) -> list[str]:
    return [e.item["message"]["body"].get("text", "") for e in timeline.entries if isinstance(e, PostEntry)]


def highlighted_command(app: MurmurApp) -> str:
    commands = app.screen.query_one(CommandList)
    if commands.highlighted is None:
        return ""
    return str(commands.get_option_at_index(commands.highlighted).prompt)


async def refreshed(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for the page fetches under way (workers finished by now are no longer listed)."""
    fetching = [w for w in pilot.app.workers if w.group == "top"]
    if fetching:  # an empty list would mean "every worker", the live stream's too, which never ends
        await pilot.app.workers.wait_for_complete(fetching)
    await pilot.pause()


async def open_local(pilot, app) -> Timeline:  # type: ignore[no-untyped-def]
    await pilot.press("3")
    timeline = local(app)
    await until(pilot, lambda: len(timeline.entries) > 0 and timeline.has_focus)
    return timeline


async def test_moving_tabs_and_thread(live: LiveServer, tmp_path: Path) -> None:
    for i in range(6):
        await live.post(ALICE, f"post {i}", at=NOW - 100_000 + i)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        assert app.main.query_one(TabbedContent).active == "local"
        assert texts(timeline)[0] == "post 5"
        for key, index in (("j", 1), ("down", 2), ("k", 1), ("up", 0), ("G", 5), ("g", 0), ("end", 5), ("home", 0)):
            await pilot.press(key)
            assert timeline.index == index, key
        await pilot.press("pagedown")
        assert timeline.index > 0
        await pilot.press("pageup")
        assert timeline.index == 0
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and app.screen.query(PostEntry))
        assert app.screen.query_one(PostEntry).item["message"]["body"]["text"] == "post 5"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        for key, pane in (("tab", "federated"), ("tab", "home"), ("shift+tab", "federated"), ("2", "notifications")):
            await pilot.press(key)
            assert app.main.query_one(TabbedContent).active == pane, key
        await pilot.press("1")
        assert app.main.query_one(TabbedContent).active == "home"
        await pilot.press("5")  # no fifth tab yet: nothing happens
        assert app.main.query_one(TabbedContent).active == "home"
        await pilot.press("t")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"#intro", "enter")
        await until(pilot, lambda: app.main.query_one(TabbedContent).active == "extra")
        await pilot.press("1", "5")
        assert app.main.query_one(TabbedContent).active == "extra"
        await pilot.press("q")
    assert app.return_code == 0


async def test_new_post_is_signed_and_stored(live: LiveServer, tmp_path: Path) -> None:
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, ComposeScreen)
        app.screen.query_one("#cw", Input).value = "spoiler"
        app.screen.query_one("#text", TextArea).text = "Hello from the TUI #tui"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        [post] = await live.messages("post")
        assert post["author"] == ME.public_key
        assert post["body"] == {"text": "Hello from the TUI #tui", "cw": "spoiler", "visibility": "public"}
        assert ["hashtag", "tui"] in post["tags"]
        home = app.main.query_one("#tl-home", Timeline)
        await until(pilot, lambda: texts(home) == ["Hello from the TUI #tui"])


async def test_compose_shows_the_refusal_and_counts(live: LiveServer, tmp_path: Path) -> None:
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.max_text_chars == 5000 and app.connection[0] is True)
        app.max_text_chars = 10  # as if the server's limit were 10 characters
        await pilot.press("n")
        area = app.screen.query_one("#text", TextArea)
        await pilot.press(*"abcdefghijkl")
        assert "12/10" in str(app.screen.query_one("#counter").render())
        await pilot.press("ctrl+s")
        assert "Too long" in str(app.screen.query_one("#compose-error").render())
        app.max_text_chars = 5000
        area.text = "x"
        # A server refusal (not a member any more) is shown with the server's reason; the text is kept.
        await remove_member(live.store, ME.public_key)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "refused" in str(app.screen.query_one("#compose-error").render()))
        assert isinstance(app.screen, ComposeScreen) and area.text == "x"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_reply_react_boost(live: LiveServer, tmp_path: Path) -> None:
    original = await live.post(ALICE, "a question?")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_local(pilot, app)
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        assert "a question?" in str(app.screen.query_one("#reply-context").render())
        app.screen.query_one("#text", TextArea).text = "an answer"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        reply = next(p for p in await live.messages("post") if p["author"] == ME.public_key)
        assert ["reply", original["id"]] in reply["tags"] and ["mention", ALICE.public_key] in reply["tags"]

        timeline = local(app)
        await until(pilot, lambda: len(timeline.entries) == 2)
        await pilot.press("g", "j")  # back on Alice's post (the reply is newer, on top)
        assert timeline.current.item["message"]["id"] == original["id"]
        await pilot.press("l")
        assert isinstance(app.screen, ReactionPicker)
        await pilot.press("4")
        await until(pilot, lambda: len(app.screen_stack) == 2)
        await pilot.press("b")
        reactions = []
        boosts = []

        async def stored() -> bool:
            reactions[:] = await live.messages("reaction")
            boosts[:] = await live.messages("boost")
            return bool(reactions and boosts)

        await live.until_stored(stored)
        assert reactions[0]["body"] == {"emoji": "🎉"} and ["target", original["id"]] in reactions[0]["tags"]
        assert ["target", original["id"]] in boosts[0]["tags"]


async def test_delete_asks_first_and_only_own(live: LiveServer, tmp_path: Path) -> None:
    mine = await live.post(ME, "my own words", at=NOW - 20_000)
    await live.post(ALICE, "not mine", at=NOW - 10_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        assert texts(timeline) == ["not mine", "my own words"]  # newest first
        await pilot.press("d")  # Alice's: refused without a dialog
        assert isinstance(app.screen, MainScreen)
        await pilot.press("j", "d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, MainScreen)
        assert await live.messages("delete") == []
        await pilot.press("d")
        await pilot.press("y")
        await until(pilot, lambda: texts(timeline) == ["not mine"])
        [tombstone] = await live.messages("delete")
        assert ["target", mine["id"]] in tombstone["tags"]


async def test_profile_follow_and_unfollow(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(ALICE, {"kind": "profile", "body": {"name": "Alice", "bio": "builds things"}})
    await live.post(ALICE, "hello")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_local(pilot, app)
        await pilot.press("p")
        assert isinstance(app.screen, ProfileScreen)
        screen = app.screen
        await until(pilot, lambda: screen.profile is not None and screen.query(PostEntry))
        head = str(screen.query_one("#profile-head").render())
        assert "Alice" in head and "builds things" in head and ALICE.fingerprint in head and "not following" in head
        await pilot.press("f")
        await until(pilot, lambda: bool(screen.profile and screen.profile["following"]))
        assert "you follow them" in str(screen.query_one("#profile-head").render())
        await pilot.press("f")
        await until(pilot, lambda: bool(screen.profile and not screen.profile["following"]))
        kinds = [m["kind"] for m in await live.messages("follow")] + [
            m["kind"] for m in await live.messages("unfollow")
        ]
        assert kinds == ["follow", "unfollow"]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_search_finds_posts_and_people(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(BOB, {"kind": "profile", "body": {"name": "Bob Gardener", "bio": ""}})
    await live.post(ALICE, "tomatoes in the garden")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"garden", "enter")
        results = app.screen.query_one("#results")
        # Focus moves to the results after they are shown (Widget.focus is applied on a later turn of the loop)
        await until(pilot, lambda: results.query(PostEntry) and results.query(PersonEntry) and results.has_focus)
        await pilot.press("enter")  # the first hit is a person: their profile opens
        assert isinstance(app.screen, ProfileScreen) and app.screen.key == BOB.public_key


async def test_help_lists_the_bindings_in_force(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "react to me")
    app = make_app(live, tmp_path, keys={"react": "x"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = str(app.screen.query_one("#help-table").render())
        for needle in ("Reply", "Boost", "Delete your post", "Follow or unfollow", "Search", "Quit", "tab_5"):
            assert needle in table
        assert "x                 React" in table and "react (yours)" in table
        await pilot.press("escape")
        await open_local(pilot, app)
        await pilot.press("l")
        assert isinstance(app.screen, MainScreen)  # l is no longer react
        await pilot.press("x")
        assert isinstance(app.screen, ReactionPicker)


async def test_palette_has_every_action(live: LiveServer, tmp_path: Path) -> None:
    from murmur.client.tui.bindings import ACTIONS

    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        missing = [
            a.description for a in ACTIONS if a.description not in titles and a.name not in ("quit", "command_palette")
        ]
        assert not missing
        await pilot.press("ctrl+p")
        await pilot.press(*"New post")
        await until(pilot, lambda: "New post" in highlighted_command(app))  # the palette's search is asynchronous
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))


async def test_a_late_arrival_goes_where_its_time_puts_it(live: LiveServer, tmp_path: Path) -> None:
    """Timelines are in time order: a post that arrives now dated earlier than what is shown is mounted among
    the older ones, not on top; one dated now goes on top."""
    await live.post(ALICE, "older", at=NOW - 50_000)
    await live.post(ALICE, "newer", at=NOW - 10_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await until(pilot, lambda: app.connection[0] is True)
        assert texts(timeline) == ["newer", "older"]
        await live.post(BOB, "written in between, arrived late", at=NOW - 30_000)
        await until(pilot, lambda: len(texts(timeline)) == 3)
        assert texts(timeline) == ["newer", "written in between, arrived late", "older"]
        await live.post(BOB, "now", at=NOW)
        await until(pilot, lambda: len(texts(timeline)) == 4)
        assert texts(timeline) == ["now", "newer", "written in between, arrived late", "older"]
        assert [i["message"]["body"]["text"] for i in timeline.window.pages[0].items][:4] == texts(timeline)


async def test_notifications_count_and_mark_read(live: LiveServer, tmp_path: Path) -> None:
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection[0] is True)
        await live.sign(ALICE, follow_draft(ME.public_key, follow=True))
        tabs = app.main.query_one(TabbedContent)
        await until(pilot, lambda: "(1)" in str(tabs.get_tab("notifications").label))
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: "(1)" not in str(tabs.get_tab("notifications").label) and notes.entries)
        await until(pilot, lambda: notes.has_focus)  # enter goes to the focused list, which the tab switch moves
        await pilot.press("enter")  # a follow opens the follower's profile
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen))
        assert isinstance(app.screen, ProfileScreen) and app.screen.key == ALICE.public_key


async def test_notifications_opened_before_their_first_page_are_marked_read(live: LiveServer, tmp_path: Path) -> None:
    """The tab can open before its first page arrives: the page, once shown, is what gets marked read."""
    app = make_app(live, tmp_path)
    first_page = asyncio.Event()
    read_notifications = app.api.notifications
    calls = 0

    async def held_first(**kw: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await first_page.wait()
        return await read_notifications(**kw)

    app.api.notifications = held_first  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        # The first read has begun, so the stream knows where the log ended before it: the follow comes live (being
        # "online" proves nothing here: any answer, such as the server's info, says so before the stream starts).
        await until(pilot, lambda: calls == 1)
        await live.sign(ALICE, follow_draft(ME.public_key, follow=True))
        tabs = app.main.query_one(TabbedContent)
        await until(pilot, lambda: "(1)" in str(tabs.get_tab("notifications").label))
        await pilot.press("2")
        notes = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: tabs.active == "notifications")
        first_page.set()
        await until(pilot, lambda: "(1)" not in str(tabs.get_tab("notifications").label) and notes.entries)


async def test_what_is_stored_after_the_first_pages_and_before_the_stream_opens_arrives(
    live: LiveServer, tmp_path: Path
) -> None:
    """The stream resumes from where the log ended before the first pages were read: a post stored while the stream
    was still connecting comes over it all the same, with no reload."""
    await live.post(ALICE, "already there")
    app = make_app(live, tmp_path)
    opened = asyncio.Event()
    open_stream = app.api.stream

    async def late_stream(cursor: int | None = None) -> Any:
        await opened.wait()
        async for event in open_stream(cursor):
            yield event

    app.api.stream = late_stream  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        await live.post(BOB, "stored before the stream opened")
        opened.set()
        await until(pilot, lambda: texts(timeline) == ["stored before the stream opened", "already there"])


async def test_a_first_page_older_than_a_live_update_does_not_hide_the_update(live: LiveServer, tmp_path: Path) -> None:
    """A first page read before a post arrived can land after the live update that saw the post."""
    await live.post(ALICE, "already there")
    app = make_app(live, tmp_path)
    deliver = asyncio.Event()
    read_timeline = app.api.timeline
    held: list[str] = []

    async def late_first_local(source: str, **kw: Any) -> dict[str, Any]:
        page = await read_timeline(source, **kw)
        if source == "local" and not held:
            held.append(source)
            await deliver.wait()  # read now, handed over only after the live update below
        return page

    app.api.timeline = late_first_local  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection[0] is True and bool(held))
        timeline = local(app)
        await live.post(BOB, "arrived while the first page was on the way")
        await until(pilot, lambda: timeline.window.newest > 0)  # the live update saw it, with no page to put it in
        deliver.set()
        await pilot.press("3")
        await until(pilot, lambda: texts(timeline) == ["arrived while the first page was on the way", "already there"])


async def test_offline_then_reconnects(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "still here")
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        bar = app.main.query_one(StatusBar)
        await until(pilot, lambda: bar.online is True)
        await live.stop()
        await until(pilot, lambda: bar.online is False)
        assert "offline" in str(bar.render()) and bar.detail
        await pilot.press("R")  # a refresh while offline keeps what is shown
        await refreshed(pilot)
        assert texts(timeline) == ["still here"]
        await live.start()
        await until(pilot, lambda: bar.online is True)
        await live.post(BOB, "back again")
        await until(pilot, lambda: "back again" in texts(timeline))


async def test_raw_links_copy_and_content_warning(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "see https://example.com/a and http://x.test/b.", cw="links inside")
    opened: list[str] = []
    app = make_app(live, tmp_path, open_url=opened.append)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        entry = timeline.current
        assert isinstance(entry, PostEntry) and "example.com" not in str(entry.render())
        await pilot.press("c")
        assert "example.com" in str(entry.render())
        await pilot.press("v")
        assert isinstance(app.screen, RawScreen)
        assert '"sig"' in app.screen.query_one("#raw", TextArea).text
        await pilot.press("escape", "o")
        assert isinstance(app.screen, LinksScreen) and app.screen.links == ["https://example.com/a", "http://x.test/b"]
        await pilot.press("down", "enter")
        assert opened == ["http://x.test/b"]
        await pilot.press("y")
        assert app.clipboard.startswith("CW: links inside\nsee https://example.com/a")


async def test_refresh_and_mouse(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "first", at=NOW - 5000)
    await live.post(ALICE, "second", at=NOW - 4000)
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        second = timeline.entries[1]
        await pilot.click(second)
        assert timeline.index == 1
        await pilot.click(second, times=2)
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen))
        await pilot.press("escape")
        await live.post(BOB, "third", at=NOW - 1000)
        await pilot.press("R")
        await until(pilot, lambda: texts(timeline)[0] == "third")
        await live.post(BOB, "fourth", at=NOW - 500)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: texts(timeline)[0] == "fourth")


async def test_theme_is_saved(live: LiveServer, tmp_path: Path) -> None:
    saved: list[str] = []
    app = make_app(live, tmp_path, save_theme=saved.append)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.pause()
    assert saved == ["nord"]


async def test_boost_once_then_take_back_boost_and_reaction(live: LiveServer, tmp_path: Path) -> None:
    original = await live.post(ALICE, "boost me")
    await live.sign(ME, {"kind": "reaction", "body": {"emoji": "🎉"}, "tags": [["target", original["id"]]]})
    app = make_app(live, tmp_path)

    async def stored(kind: str, count: int) -> None:
        async def holds() -> bool:
            return len(await live.messages(kind)) == count

        await live.until_stored(holds)  # woken by each store, not by a count of pauses

    def told(text: str) -> bool:
        return any(text in n.message for n in app._notifications)

    async with app.run_test(size=SIZE) as pilot:
        await open_local(pilot, app)
        await pilot.press("b")
        await until(pilot, lambda: told("Boosted."))
        await pilot.press("b")  # already boosted: nothing new is signed
        await until(pilot, lambda: told("Already done"))
        assert len(await live.messages("boost")) == 1
        timeline = local(app)
        await until(pilot, lambda: timeline.current.item["counts"]["boosts"] == 1)  # counted live, once
        await pilot.press("B")
        await stored("delete", 1)
        assert await live.messages("boost") == []  # the delete took the boost away
        await until(pilot, lambda: timeline.current.item["counts"]["boosts"] == 0)
        await pilot.press("L")
        assert isinstance(app.screen, ReactionPicker)
        await pilot.press("4")  # 🎉
        await stored("delete", 2)
        assert await live.messages("reaction") == []
        await until(pilot, lambda: timeline.current.item["counts"]["reactions"] == 0)


async def test_compose_completes_a_mention_and_sends_it_as_a_key(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(ALICE, {"kind": "profile", "body": {"name": "Alice Liddell", "bio": ""}})
    await live.sign(BOB, {"kind": "profile", "body": {"name": "Bob", "bio": ""}})
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, ComposeScreen)
        screen = app.screen
        await pilot.press(*"thanks @al")
        suggestions = screen.query_one("#mention-suggestions")
        await until(pilot, lambda: [p["key"] for p in screen.suggestions] == [ALICE.public_key])
        assert suggestions.display and "Alice Liddell" in str(suggestions.render())
        await pilot.press("tab")
        area = screen.query_one("#text", TextArea)
        assert area.text == "thanks @alice_liddell "
        assert not screen.suggestions and area.has_focus
        await pilot.press(*"and @nobody")
        await until(pilot, lambda: not suggestions.display)
        await pilot.press("ctrl+s")  # @nobody is nobody's handle: refused here, the text is kept
        error = screen.query_one("#compose-error")
        await until(pilot, lambda: "Nobody called @nobody" in str(error.render()))
        assert app.screen is screen and await live.messages("post") == []
        area.text = "thanks @alice_liddell"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        [post] = await live.messages("post")
        assert post["body"]["text"] == f"thanks @{ALICE.public_key}"
        assert ["mention", ALICE.public_key] in post["tags"]
        home = app.main.query_one("#tl-home", Timeline)
        await until(pilot, lambda: len(home.entries) == 1 and "Alice Liddell" in str(home.entries[0].render()))
        assert ALICE.public_key not in str(home.entries[0].render())


async def test_a_devices_post_is_labelled_with_its_identity_and_the_raw_view_names_the_device(
    live: LiveServer, tmp_path: Path
) -> None:
    made = IdentityLog(first=ALICE, at=NOW - 60_000)
    await live.ingest(*made.events, made.post(ALICE, "from my laptop", at=NOW - 1000))
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_local(pilot, app)
        entry = timeline.current
        assert isinstance(entry, PostEntry)
        drawn = str(entry.render())
        assert fingerprint(made.identity) in drawn and fingerprint(ALICE.public_key) not in drawn
        await pilot.press("v")
        assert isinstance(app.screen, RawScreen)
        labels = " ".join(str(label.render()) for label in app.screen.query(Label))
        assert f"signed by device {fingerprint(ALICE.public_key)}" in labels
