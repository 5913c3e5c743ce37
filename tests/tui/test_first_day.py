"""What a newcomer's first day in the TUI found: counts that stood still, a wrong origin marker, frozen
relative times, an offer to follow oneself, stacked screens, and key bindings accepted however wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TabbedContent, TextArea

from murmur.client.tui.bindings import ACTIONS, KeymapError, checked_keymap
from murmur.client.tui.drafts import boost_draft, delete_draft, reaction_draft
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.deletes import DeleteStatusScreen
from murmur.client.tui.screens.dialogs import ConfirmScreen, PromptScreen, ReactionPicker
from murmur.client.tui.screens.main import MainScreen
from murmur.client.tui.screens.profile import ProfileScreen
from murmur.client.tui.screens.search import SearchScreen
from murmur.client.tui.screens.thread import ThreadScreen
from murmur.client.tui.settings import TuiSettings
from murmur.client.tui.widgets.entries import PostEntry
from murmur.client.tui.widgets.timeline import Timeline
from tests.tui.conftest import ALICE, BOB, ME, NOW, LiveServer, make_app, ran_its_course, until

SIZE = (120, 40)


def screen_text(app: Any) -> str:
    """What the terminal shows, as text: drawn from the widgets' last renders, not rendered afresh."""
    return str(app.export_screenshot()).replace("&#160;", " ")


async def open_tab(pilot: Any, app: Any, key: str, pane: str) -> Timeline:
    await pilot.press(key)
    timeline = app.main.query_one(f"#tl-{pane}", Timeline)
    await until(pilot, lambda: len(timeline.entries) > 0 and timeline.has_focus)
    return timeline


# -- relative times tick ---------------------------------------------------------------------------------------
async def test_relative_times_move_on_with_the_clock(live: LiveServer, tmp_path: Path) -> None:
    for i in range(30):  # more than a screenful: the ones scrolled away are not redrawn
        await live.post(ALICE, f"post {i}", at=NOW - 60_000 - i)
    now = [NOW]
    app = make_app(live, tmp_path, live=False, clock=lambda: now[0], tick_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_tab(pilot, app, "3", "local")
        await pilot.pause()
        assert "1m" in screen_text(app) and "2h" not in screen_text(app)
        far = timeline.entries[-1]
        assert far.shown_time == "1m"
        now[0] = NOW + 2 * 3600_000
        await until(pilot, lambda: "2h" in screen_text(app))
        assert timeline.entries[0].shown_time == "2h"
        assert far.shown_time == "1m"  # out of view: left alone until it is scrolled to
        await pilot.press("G")
        await until(pilot, lambda: far.shown_time == "2h")


async def test_a_tick_while_the_app_closes_is_let_be(live: LiveServer, tmp_path: Path) -> None:
    """Closing takes the screens down before it stops the timers: a tick that falls in between finds no screen,
    and must not turn a clean exit into a crash."""
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE):
        pass
    assert not app.screen_stack
    app.tick_times()  # what the timer would do in that gap

# -- your own profile ------------------------------------------------------------------------------------------
async def first_authors_profile(pilot: Any, app: Any) -> ProfileScreen:
    """The profile of the newest post's author on the Local tab, loaded."""
    await open_tab(pilot, app, "3", "local")
    await pilot.press("p")
    screen = app.screen
    assert isinstance(screen, ProfileScreen)
    await until(pilot, lambda: screen.profile is not None)
    await pilot.pause()
    return screen


async def test_own_profile_says_it_is_you_and_offers_no_follow(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(ME, {"kind": "profile", "body": {"name": "Newcomer", "bio": ""}})
    await live.post(ME, "my first post")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await first_authors_profile(pilot, app)
        head = str(screen.query_one("#profile-head").render())
        assert "this is you" in head and "not following" not in head and "follow them" not in head
        drawn = screen_text(app)
        assert "Your profile" in drawn and "follow/unfollow" not in drawn and "Follow" not in drawn
        await pilot.press("f")
        await ran_its_course(pilot)
        assert await live.messages("follow") == [] and await live.messages("unfollow") == []


async def test_someone_elses_profile_still_offers_follow(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "hello")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await first_authors_profile(pilot, app)
        assert "Follow" in screen_text(app) and "this is you" not in str(screen.query_one("#profile-head").render())


# -- screens are not stacked -----------------------------------------------------------------------------------
async def test_search_again_reuses_the_search_screen(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "tomatoes in the garden")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press(*"garden", "enter")
        await until(pilot, lambda: bool(search.query(PostEntry)) and search.query_one("#results").has_focus)
        depth = len(app.screen_stack)
        await pilot.press("slash")  # from the results: back to the query, not a second search screen
        assert app.screen is search and len(app.screen_stack) == depth
        field = search.query_one("#search-input", Input)
        assert field.has_focus
        await pilot.press(*"tomatoes")  # the old query was selected: typing replaces it
        assert field.value == "tomatoes"
        await pilot.press("enter")
        await until(pilot, lambda: search.query_one("#results").has_focus)
        await pilot.press("p")  # the author's profile, then / again: back to the one search screen
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen))
        await pilot.press("slash")
        assert app.screen is search and len(app.screen_stack) == depth
        assert sum(isinstance(s, SearchScreen) for s in app.screen_stack) == 1


async def test_going_back_never_closes_a_post_being_written(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "tomatoes in the garden")
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen) and app.screen.query_one(Input).has_focus)
        await pilot.press(*"garden", "enter")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen) and app.screen.query_one("#results").has_focus)
        await pilot.press("r")  # a reply to the hit, then search asked for from the command palette
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        compose = app.screen
        await pilot.press(*"half a thought")
        app.run_named("search")
        await pilot.pause()
        assert app.screen is compose and compose.query_one("#text", TextArea).text == "half a thought"


async def test_thread_and_profile_are_not_stacked_either(live: LiveServer, tmp_path: Path) -> None:
    root = await live.post(ALICE, "a question?", at=NOW - 9000)
    await live.post(BOB, "an answer", at=NOW - 8000, parent=root)
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, app, "3", "local")
        await pilot.press("G", "enter")  # Alice's question (the oldest): its thread
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and len(app.screen.query(PostEntry)) == 2)
        thread, depth = app.screen, len(app.screen_stack)
        await pilot.press("j", "enter")  # Bob's answer, in the same thread: the highlight moves, no new screen
        assert app.screen is thread and len(app.screen_stack) == depth
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and bool(app.screen.query(PostEntry)))
        profile = app.screen
        await pilot.press("enter")  # Bob's answer from his profile: the open thread comes back
        assert app.screen is thread and len(app.screen_stack) == depth
        assert thread.query_one("#thread").current.item["message"]["author"] == BOB.public_key
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen))
        assert app.screen is not profile and len(app.screen_stack) == depth + 1


# -- key bindings are checked before the app starts ------------------------------------------------------------
@pytest.mark.parametrize(
    ("keymap", "needles"),
    [
        ({"repyl": "e"}, ["unknown action 'repyl'", "did you mean 'reply'"]),
        ({"reply": "R"}, ["'R'", "reply (yours)", "refresh (default)"]),
        ({"reply": "1"}, ["'1'", "reply (yours)", "tab_1 (default)"]),
        ({"react": "b"}, ["'b'", "react (yours)", "boost (default)"]),
        ({"new_post": "j"}, ["'j'", "cursor_down (default)", "new_post (yours)"]),
        ({"reply": "e", "react": "e"}, ["'e'", "reply (yours)", "react (yours)"]),
        ({"open": "ctrl+m", "reply": "enter"}, ["'enter'", "open (yours)", "reply (yours)"]),
        ({"search": "ctrl+c"}, ["search: 'ctrl+c' is kept by the app for quit"]),
        ({"reply": "hyperspace"}, ["reply: 'hyperspace' is not a key name"]),
        ({"reply": "esc"}, ["reply: 'esc' is not a key name"]),  # a character's alias, never a key press
        ({"reply": "Enter"}, ["reply: 'Enter' is not a key name"]),
        ({"tab_1": "digit_one"}, ["tab_1: 'digit_one' is not a key name"]),
        ({"reply": "ctrl+wobble+r"}, ["reply: 'ctrl+wobble+r' is not a key name"]),
        ({"reply": ""}, ["reply = ''"]),
        ({"reply": "e,"}, ["reply = 'e,'"]),
        ({"reply": 7}, ["reply = '7'"]),
    ],
)
def test_bad_keymaps_are_refused_with_the_reason(keymap: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(KeymapError) as caught:
        checked_keymap(keymap)
    reason = str(caught.value)
    assert "\n" not in reason
    for needle in needles:
        assert needle in reason, reason
    with pytest.raises(KeymapError):
        TuiSettings(keys=keymap)


def test_good_keymaps_are_taken_in_textuals_names() -> None:
    assert checked_keymap({}) == {}  # the defaults never clash
    assert checked_keymap({"quit": "ctrl+/,ctrl+q"}) == {"quit": "ctrl+slash,ctrl+q"}  # ctrl+q is quit anyway
    assert checked_keymap({"search": "/", "react": "l,+", "help": "?,f1", "follow": "1", "tab_1": "!"}) == {
        "search": "slash",
        "react": "l,plus",
        "help": "question_mark,f1",
        "follow": "1",  # a profile's keys and the timelines' are never in force together
        "tab_1": "exclamation_mark",
    }
    assert {a.name for a in ACTIONS} >= {"command_palette", "back", "quit"}


async def test_a_rebound_slash_and_palette_work(live: LiveServer, tmp_path: Path) -> None:
    app = make_app(live, tmp_path, live=False, keys={"search": "s", "new_post": "/", "command_palette": "ctrl+k"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("escape", "slash")
        assert isinstance(app.screen.query_one("#text", TextArea), TextArea)
        await pilot.press("escape", "ctrl+p")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+k")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")


def test_murmur_tui_refuses_a_bad_keymap_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "MURMUR_HOME": str(tmp_path), "TERM": "xterm-256color"}
    cli = [sys.executable, "-m", "murmur.client.cli"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "default"\n[profiles.default]\nserver = "http://127.0.0.1:9"\n'
        'keys = { reply = "b", repyl = "x" }\n'
    )
    done = subprocess.run([*cli, "tui"], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 3
    assert done.stdout == ""  # the full-screen app never started
    [line] = done.stderr.splitlines()
    assert str(config) in line and "profiles.default.keys" in line and "unknown action 'repyl'" in line


# -- counts follow what arrives and what is deleted ------------------------------------------------------------
def tally(entry: Any) -> str:
    return str(entry.render()).splitlines()[-1]


def entry_of(timeline: Any, msg_id: str) -> PostEntry:
    return next(e for e in timeline.entries if isinstance(e, PostEntry) and e.message_id == msg_id)


async def test_counts_follow_what_i_do_in_the_tui(live: LiveServer, tmp_path: Path) -> None:
    original = await live.post(ALICE, "a question?")
    app = make_app(live, tmp_path, live=False)  # no stream: the TUI's own actions must update the counts
    async with app.run_test(size=SIZE) as pilot:
        timeline = await open_tab(pilot, app, "3", "local")
        question = entry_of(timeline, original["id"])
        assert tally(question) == "↩ 0   ★ 0   ⟳ 0"
        await pilot.press("r")
        app.screen.query_one("#text", TextArea).text = "an answer"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: tally(question) == "↩ 1   ★ 0   ⟳ 0" and "↩ 1" in screen_text(app))
        # Each key goes once the screen that takes it is up: pressed together, the second can reach the timeline
        # before the picker opens (there "1" is the Home tab), for the pilot's pause between them is a guess at idle.
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker))
        await pilot.press("1")
        await until(pilot, lambda: tally(question) == "↩ 1   ★ 1   ⟳ 0")
        await pilot.press("b")
        await until(pilot, lambda: tally(question) == "↩ 1   ★ 1   ⟳ 1")
        await until(pilot, lambda: len(timeline.entries) == 2)  # my answer arrives on top
        await pilot.press("g")
        assert timeline.current.item["message"]["author"] == ME.public_key
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, DeleteStatusScreen))  # which peers confirmed it
        await pilot.press("escape")
        await until(pilot, lambda: tally(question) == "↩ 0   ★ 1   ⟳ 1" and len(timeline.entries) == 1)
        assert "↩ 0" in screen_text(app)
        await until(pilot, lambda: question.has_class("-highlight"))  # the highlight moved on, not lost
        assert timeline.current is question


async def test_a_deleted_arrival_is_no_longer_unread(live: LiveServer, tmp_path: Path) -> None:
    await live.post(ALICE, "old", at=NOW - 9000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection[0] is True)
        timeline = await open_tab(pilot, app, "3", "local")
        tab = app.main.query_one(TabbedContent).get_tab("local")
        fresh = await live.post(BOB, "oops, wrong room", at=NOW - 1000)
        await until(pilot, lambda: "(1)" in str(tab.label) and len(timeline.entries) == 2)
        await live.sign(BOB, delete_draft(fresh))
        await until(pilot, lambda: "(1)" not in str(tab.label) and len(timeline.entries) == 1)


async def test_counts_follow_the_stream_in_timelines_and_the_thread(live: LiveServer, tmp_path: Path) -> None:
    mine = await live.post(ME, "my first post", at=NOW - 9000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection[0] is True)
        home = await open_tab(pilot, app, "1", "home")
        post = entry_of(home, mine["id"])
        reply = await live.post(ALICE, "welcome!", at=NOW - 5000, parent=mine)
        await until(pilot, lambda: tally(post) == "↩ 1   ★ 0   ⟳ 0")
        reaction = await live.sign(ALICE, reaction_draft(mine, "🎉"))
        boost = await live.sign(BOB, boost_draft(mine))
        await until(pilot, lambda: tally(post) == "↩ 1   ★ 1   ⟳ 1")
        await pilot.press("enter")  # the thread: its root counts and its reply
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and len(app.screen.query(PostEntry)) == 2)
        thread_list = app.screen.query_one("#thread")
        root = entry_of(thread_list, mine["id"])
        second = await live.post(BOB, "me too", at=NOW - 4000, parent=mine)
        await until(pilot, lambda: len(thread_list.entries) == 3)
        root = entry_of(thread_list, mine["id"])
        assert tally(root) == "↩ 2   ★ 1   ⟳ 1"
        for gone in (second, reaction):
            await live.sign(BOB if gone is second else ALICE, delete_draft(gone))
        await until(pilot, lambda: tally(root) == "↩ 1   ★ 0   ⟳ 1" and len(thread_list.entries) == 2)
        await pilot.press("escape")
        await until(pilot, lambda: tally(post) == "↩ 1   ★ 0   ⟳ 1")
        await live.sign(ALICE, delete_draft(reply))
        await live.sign(BOB, delete_draft(boost))
        await until(pilot, lambda: tally(post) == "↩ 0   ★ 0   ⟳ 0")


async def test_a_delete_never_seen_before_still_recounts(live: LiveServer, tmp_path: Path) -> None:
    # Bob reacted to Alice's post before the TUI started; nothing on screen or in the session names it.
    theirs = await live.post(ALICE, "old news", at=NOW - 9000)
    reaction = await live.sign(BOB, reaction_draft(theirs, "👀"))
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection[0] is True)
        timeline = await open_tab(pilot, app, "3", "local")
        post = entry_of(timeline, theirs["id"])
        assert tally(post) == "↩ 0   ★ 1   ⟳ 0"
        await live.sign(BOB, delete_draft(reaction))
        await until(pilot, lambda: tally(post) == "↩ 0   ★ 0   ⟳ 0")


# -- where a message came from ---------------------------------------------------------------------------------
async def test_my_post_boosted_from_a_peer_is_still_mine_from_here(live: LiveServer, tmp_path: Path) -> None:
    from murmur.message import sign_draft
    from tests.tui.conftest import seeded

    far = seeded(4)  # someone on a peer server
    mine = await live.post(ME, "my own words", at=NOW - 9000)
    theirs = sign_draft(far, {"kind": "post", "body": {"text": "from afar"}}, created_at=NOW - 8000)
    boost = sign_draft(far, boost_draft(mine), created_at=NOW - 7000)
    await live.ingest(theirs, boost, origin="peer:" + "cd" * 32)
    app = make_app(live, tmp_path, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen) and app.screen.query_one(Input).has_focus)
        await pilot.press(*far.public_key, "enter")  # typed only once the prompt can take it
        # The tab is added by a worker once the prompt closes: looked for until it is there, not once.
        await until(pilot, lambda: bool(app.main.query("#tl-extra")))
        extra = app.main.query_one("#tl-extra", Timeline)
        await until(pilot, lambda: len(extra.entries) == 2)
        boosted, original = (str(e.render()).splitlines() for e in extra.entries)
        assert "boosted by" in boosted[0] and "from another server" in boosted[0]  # the boost came from a peer
        assert "my own words" in "".join(boosted) and "from another server" not in boosted[1]  # my post did not
        assert "from another server" in original[0]  # their own post did


@pytest.mark.parametrize(
    ("origin", "boost_origin", "post_says", "boost_says"),
    [
        ("local", "peer:" + "cd" * 32, "", "from another server"),  # my post, boosted from a peer
        ("peer:" + "cd" * 32, "local", "from another server", ""),  # their post, boosted here
        ("import", None, "from a bundle", None),
        ("local", None, "", None),
    ],
)
def test_origin_is_told_about_the_message_it_belongs_to(
    origin: str, boost_origin: str | None, post_says: str, boost_says: str | None
) -> None:
    from murmur.client.render import Context, render_item
    from murmur.client.tui.present import post_content
    from murmur.message import sign_draft

    mine = sign_draft(ME, {"kind": "post", "body": {"text": "my own words"}}, created_at=NOW)
    item = {"seq": 1, "message": mine, "verified": True, "counts": {}, "origin": origin, "boost_origin": boost_origin}
    if boost_says is not None:
        item["boosted_by"] = ALICE.public_key
    tui = str(post_content(item, {}, NOW)).splitlines()
    cli = render_item(item, Context())
    if boost_says is not None:
        boost_tui, boost_cli = tui.pop(0), cli.pop(0)
        assert "boosted by" in boost_tui and "boosted by" in boost_cli
        for line in (boost_tui, boost_cli):
            assert (boost_says in line) if boost_says else ("from" not in line)
    for text in ("\n".join(tui), "\n".join(cli)):
        assert (post_says in text) if post_says else ("from another" not in text and "bundle" not in text)


# -- the first screen first -------------------------------------------------------------------------------------
async def test_the_tab_in_view_is_read_and_shown_before_the_others_are_asked_for(
    live: LiveServer, tmp_path: Path
) -> None:
    """The other tabs' pages (and the names they ask for) are checked and laid out on the same event loop as the
    page the person waits for: they are asked for once it is shown."""
    await live.post(ME, "my own post, on my home")
    app = make_app(live, tmp_path, live=False)
    asked: list[tuple[str, bool]] = []
    timeline, notifications = app.api.timeline, app.api.notifications

    def home_shown() -> bool:
        return bool(app.main.query_one("#tl-home", Timeline).entries)

    async def noted_timeline(which: str, **kw: Any) -> dict[str, Any]:
        asked.append((which, home_shown()))
        return await timeline(which, **kw)

    async def noted_notifications(**kw: Any) -> dict[str, Any]:
        asked.append(("notifications", home_shown()))
        return await notifications(**kw)

    app.api.timeline, app.api.notifications = noted_timeline, noted_notifications  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(asked) == 4)
    assert asked[0] == ("home", False)
    assert sorted(which for which, _ in asked[1:]) == ["federated", "local", "notifications"]
    assert all(shown for _, shown in asked[1:])
