"""Polls and meetups in the TUI: a followed person's poll is an entry at home that opens on enter, shows bars, my
vote and the time left, and takes a vote from a number key; a meetup opens from the Meetups tab and from its
group's screen and takes an RSVP from g/m/n, showing the waiting list; reminders of a meetup starting soon show
above the notifications; a new poll says ballots are open; a signature's notice opens the letter."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import Checkbox, Input, Static, TextArea
from textual.worker import WorkerState

from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.dialogs import ReactionPicker
from murmur.client.tui.screens.letter import LetterScreen
from murmur.client.tui.screens.main import MainScreen
from murmur.client.tui.screens.meetup import MeetupScreen
from murmur.client.tui.screens.poll import OPEN_BALLOTS, PollScreen
from murmur.client.tui.screens.poll_compose import PollComposeScreen
from murmur.client.tui.screens.thread import ThreadScreen
from murmur.client.tui.widgets.entries import PostEntry
from murmur.client.tui.widgets.meetups import MeetupList
from murmur.client.tui.widgets.timeline import Timeline
from murmur.kinds.group_drafts import create_draft, membership_draft
from murmur.kinds.letter import letter_draft, signature_draft
from murmur.kinds.meetup import meetup_body, meetup_draft
from murmur.kinds.poll import poll_draft
from murmur.message import now_ms
from murmur.validate import check
from tests.tui.conftest import ALICE, BOB, ME, NOW, LiveServer, make_app, ran_its_course, until

SIZE = (120, 44)
HOUR = 3_600_000


def follow(key: str) -> dict[str, object]:
    return {"kind": "follow", "body": {}, "tags": [["subject", key]]}


def text_of(screen: object, selector: str) -> str:
    return "".join(str(s.render()) for s in screen.query(selector).results(Static))  # type: ignore[attr-defined]


async def test_a_followed_persons_poll_is_at_home_and_takes_a_vote(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(ME, follow(ALICE.public_key), at=NOW - 90_000)
    # Ballots are dated by the real clock when sent: the poll closes an hour from now, real time.
    draft = poll_draft("Lunch where?", ["noon cafe", "the park", "desk"], closes_at=now_ms() + HOUR, multiple=False,
                       group=None)  # fmt: skip
    poll = await live.sign(ALICE, draft, at=NOW - 60_000)
    await live.sign(BOB, {"kind": "ballot", "body": {"choices": "2"}, "tags": [["target", poll["id"]],
                    ["subject", ALICE.public_key]]}, at=NOW - 50_000)  # fmt: skip
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        home = app.main.query_one("#tl-home", Timeline)
        await until(pilot, lambda: any("Poll: Lunch where?" in str(e.render()) for e in home.entries))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PollScreen))
        screen = app.screen
        await until(pilot, lambda: "1 voter" in text_of(screen, "#poll-body"))
        shown = text_of(screen, "#poll-body")
        assert "2) the park" in shown and "█" in shown and "You have not voted." in shown
        assert OPEN_BALLOTS in shown and "closes in" in shown
        await pilot.press("2")
        await until(pilot, lambda: "✓ your vote" in text_of(screen, "#poll-body"))
        # The figures come with the server's answer, which may land a render after the mark: wait for them.
        await until(pilot, lambda: "2 voters" in text_of(screen, "#poll-body"))
        assert "Your vote: 2" in text_of(screen, "#poll-body")
        await pilot.press("3")  # a change of mind is a new ballot
        await until(pilot, lambda: "Your vote: 3" in text_of(screen, "#poll-body"))
        ballots = [b for b in await live.messages("ballot") if b["author"] == ME.public_key]
        assert sorted(b["body"]["choices"] for b in ballots) == ["2", "3"]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_several_choices_are_picked_then_sent(live: LiveServer, tmp_path: Path) -> None:
    draft = poll_draft("Which days?", ["Mon", "Tue", "Wed"], closes_at=now_ms() + HOUR, multiple=True, group=None)
    poll = await live.sign(ALICE, draft, at=NOW - 60_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_poll(poll["id"][:16])
        await until(pilot, lambda: isinstance(app.screen, PollScreen))
        screen = app.screen
        await until(pilot, lambda: "[ ] Mon" in text_of(screen, "#poll-body"))
        await pilot.press("1", "3")
        assert "[x] Mon" in text_of(screen, "#poll-body") and "[x] Wed" in text_of(screen, "#poll-body")
        await pilot.press("enter")
        await until(pilot, lambda: "Your vote: 1, 3" in text_of(screen, "#poll-body"))
        [ballot] = await live.messages("ballot")
        assert ballot["body"]["choices"] == "1,3"


async def test_a_closed_poll_takes_no_vote(live: LiveServer, tmp_path: Path) -> None:
    draft = poll_draft("Too late?", ["yes", "no"], closes_at=NOW - 1, multiple=False, group=None)
    poll = await live.sign(ALICE, draft, at=NOW - 60_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_poll(poll["id"])
        await until(pilot, lambda: isinstance(app.screen, PollScreen))
        screen = app.screen
        await until(pilot, lambda: "closed" in text_of(screen, "#poll-body"))
        await pilot.press("1")
        await ran_its_course(pilot)
        assert await live.messages("ballot") == []


async def test_a_meetup_from_its_tab_takes_an_rsvp_and_shows_the_waiting_list(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(BOB, {"kind": "profile", "body": {"name": "Bob"}, "tags": []}, at=NOW - 99_000)
    body = meetup_body("Picnic", start=NOW + 2 * HOUR, end=NOW + 4 * HOUR, tz="Europe/Paris", place="The park",
                       capacity=1)  # fmt: skip
    meetup = await live.sign(ALICE, meetup_draft(body), at=NOW - 60_000)
    tags = [["target", meetup["id"]], ["subject", ALICE.public_key]]
    await live.sign(BOB, {"kind": "rsvp", "body": {"answer": "going"}, "tags": tags}, at=NOW - 50_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        listed = app.main.query_one(MeetupList)
        await until(pilot, lambda: any("Picnic" in str(e.render()) for e in listed.entries))
        assert "1 of 1 places taken" in str(listed.entries[0].render())
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MeetupScreen))
        screen = app.screen
        await until(pilot, lambda: "Bob" in text_of(screen, "#meetup-body"))
        shown = text_of(screen, "#meetup-body")
        assert "2026-01-01 03:00 Europe/Paris" in shown and "starts in 2h" in shown and "you have not answered" in shown
        await pilot.press("g")
        await until(pilot, lambda: "you are on the waiting list (number 1)" in text_of(screen, "#meetup-body"))
        assert "Waiting list, in order (1)" in text_of(screen, "#meetup-body")
        await pilot.press("m")
        await until(pilot, lambda: "you may come" in text_of(screen, "#meetup-body"))
        assert [r["body"]["answer"] for r in await live.messages("rsvp") if r["author"] == ME.public_key] == [
            "going", "maybe",
        ]  # fmt: skip
        await pilot.press("escape")  # the tab's row follows the answer, told by the live stream
        await until(pilot, lambda: "you may come" in str(listed.entries[0].render()))


async def test_a_groups_meetups_are_on_its_screen(live: LiveServer, tmp_path: Path) -> None:
    group = await live.sign(ALICE, create_draft("Hikers", description="Walks."), at=NOW - 90_000)
    await live.sign(ME, membership_draft("group_join", group["id"]), at=NOW - 80_000)
    body = meetup_body("Ridge walk", start=NOW + HOUR * 30, end=NOW + HOUR * 34, tz="UTC")
    await live.sign(ALICE, meetup_draft(body, group=group["id"]), at=NOW - 70_000)
    await live.sign(ALICE, meetup_draft(meetup_body("Elsewhere", start=NOW + HOUR, end=NOW + 2 * HOUR, tz="UTC")))
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_group(group["id"])
        await until(pilot, lambda: len(app.screen.query("#group-meetups")) == 1)
        listed = app.screen.query_one("#group-meetups", MeetupList)
        await until(pilot, lambda: len(listed.entries) == 1)
        assert "Ridge walk" in str(listed.entries[0].render())  # the other meetup is not this group's
        listed.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MeetupScreen))


async def test_a_meetup_starting_soon_is_a_reminder_above_the_notifications(live: LiveServer, tmp_path: Path) -> None:
    soon = now_ms() + 30 * 60_000  # reminders are of the server's now: real time
    meetup = await live.sign(ALICE, meetup_draft(meetup_body("Stand-up", start=soon, end=soon + HOUR, tz="UTC")))
    await live.sign(ME, {"kind": "rsvp", "body": {"answer": "going"},
                         "tags": [["target", meetup["id"]], ["subject", ALICE.public_key]]})  # fmt: skip
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        strip = app.main.query_one("#reminders", Static)
        await until(pilot, lambda: strip.display and "Soon: Stand-up" in str(strip.render()))
        assert "you: going" in str(strip.render())
        await until(pilot, lambda: any("Stand-up" in str(n.message) for n in app._notifications))


async def test_reminders_that_arrive_once_their_strip_is_gone_are_dropped(live: LiveServer, tmp_path: Path) -> None:
    """A closing app prunes the reminders' strip before the list whose first page brings them: that page, landing
    in between, is dropped quietly (no error, no toast) instead of failing to find the strip."""
    soon = now_ms() + 30 * 60_000
    meetup = await live.sign(ALICE, meetup_draft(meetup_body("Stand-up", start=soon, end=soon + HOUR, tz="UTC")))
    await live.sign(ME, {"kind": "rsvp", "body": {"answer": "going"},
                         "tags": [["target", meetup["id"]], ["subject", ALICE.public_key]]})  # fmt: skip
    app = make_app(live, tmp_path)
    asked, release = asyncio.Event(), asyncio.Event()
    read_notifications = app.api.notifications

    async def held(**kw: Any) -> dict[str, Any]:
        asked.set()
        await release.wait()
        return await read_notifications(**kw)

    app.api.notifications = held  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, asked.is_set)
        notes = app.main.query_one("#tl-notifications", Timeline)
        [first] = [w for w in app.workers if w.node is notes and w.group == "top"]
        await app.main.query_one("#reminders", Static).remove()  # as the closing app prunes it
        release.set()
        await app.workers.wait_for_complete([first])
        assert first.state == WorkerState.SUCCESS, first.error
        assert not any("Stand-up" in str(n.message) for n in app._notifications)


async def test_a_new_poll_says_ballots_are_open(live: LiveServer, tmp_path: Path) -> None:
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert {"New poll", "Open a poll", "Open a meetup"} <= {c.title for c in app.get_system_commands(app.screen)}
        app.controller.new_poll()
        await until(pilot, lambda: isinstance(app.screen, PollComposeScreen) and bool(app.screen.query("#closes")))
        screen = app.screen
        assert OPEN_BALLOTS in str(screen.query_one("#open-ballots").render())
        screen.query_one("#question", Input).value = "Coffee or tea?"
        screen.query_one("#options", TextArea).text = "coffee\n\ntea\n"
        screen.query_one("#multiple", Checkbox).value = True
        screen.query_one("#closes", Input).value = "yesterday"
        await pilot.press("ctrl+s")
        assert "is not a duration" in str(screen.query_one("#error", Static).render())
        screen.query_one("#closes", Input).value = "2h"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        [poll] = await live.messages("poll")
        assert poll["body"]["options"] == "coffee\ntea" and poll["body"]["multiple"] == "yes"


async def test_a_signature_notice_opens_the_letter(live: LiveServer, tmp_path: Path) -> None:
    letter = check(await live.sign(ME, letter_draft("Rooms", "the board", "Rooms."), at=NOW - 60_000), now=None)
    await live.sign(BOB, signature_draft(letter, "yes"), at=NOW - 50_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        notices = app.main.query_one("#tl-notifications", Timeline)
        await until(pilot, lambda: any("signed your open letter: yes" in str(e.render()) for e in notices.entries))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LetterScreen))


async def test_a_groups_poll_is_in_its_timeline_and_its_moderator_pins_it(live: LiveServer, tmp_path: Path) -> None:
    group = await live.sign(ME, create_draft("Hikers", description="Walks."), at=NOW - 90_000)
    await live.sign(ALICE, membership_draft("group_join", group["id"]), at=NOW - 80_000)
    draft = poll_draft("Which ridge?", ["north", "south"], closes_at=now_ms() + HOUR, multiple=False,
                       group=group["id"])  # fmt: skip
    poll = await live.sign(ALICE, draft, at=NOW - 70_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.controller.open_group(group["id"])
        await until(pilot, lambda: len(app.screen.query("#group-posts")) == 1)
        screen = app.screen
        timeline = screen.query_one("#group-posts", Timeline)
        await until(pilot, lambda: any("Poll: Which ridge?" in str(e.render()) for e in timeline.entries))
        await until(pilot, lambda: "you own this group" in text_of(screen, "#group-head"))
        await pilot.press("P")  # the owner pins the poll: an announcement like a pinned post
        await until(pilot, lambda: "📌" in text_of(screen, "#group-head"))
        assert "Poll: Which ridge?" in text_of(screen, "#group-head")
        [pin] = await live.messages("group_pin")
        assert pin["tags"] == [["group", group["id"]], ["target", poll["id"]]]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PollScreen))


async def test_a_poll_takes_replies_and_reactions_at_home_and_on_its_screen(live: LiveServer, tmp_path: Path) -> None:
    await live.sign(ME, follow(ALICE.public_key), at=NOW - 90_000)
    draft = poll_draft("Lunch where?", ["cafe", "park"], closes_at=now_ms() + HOUR, multiple=False, group=None)
    poll = await live.sign(ALICE, draft, at=NOW - 60_000)
    tags = [["reply", poll["id"]], ["root", poll["id"]], ["mention", ALICE.public_key]]
    await live.sign(BOB, {"kind": "post", "body": {"text": "why not both?"}, "tags": tags}, at=NOW - 50_000)
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        home = app.main.query_one("#tl-home", Timeline)
        await until(pilot, lambda: any("↩ 1" in str(e.render()) for e in home.entries))  # its card counts replies
        await pilot.press("l")  # a reaction on the highlighted poll
        assert isinstance(app.screen, ReactionPicker)
        await pilot.press("1")

        async def reacted() -> bool:
            return any(r["tags"][0] == ["target", poll["id"]] for r in await live.messages("reaction"))

        await live.until_stored(reacted)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PollScreen))
        await pilot.press("r")  # a reply from the poll's own screen
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert "Poll: Lunch where?" in str(app.screen.query_one("#reply-context").render())
        app.screen.query_one("#text", TextArea).text = "the park, surely"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PollScreen))
        mine = [p for p in await live.messages("post") if p["author"] == ME.public_key]
        assert [["reply", poll["id"]], ["root", poll["id"]]] == mine[0]["tags"][:2]
        await pilot.press("t")  # its replies, under the poll
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen))
        screen = app.screen
        await until(pilot, lambda: len(screen.query(PostEntry)) == 3)
        shown = [str(e.render()) for e in screen.query(PostEntry)]
        assert "Poll: Lunch where?" in shown[0] and any("the park, surely" in s for s in shown)


async def test_a_ballot_takes_no_reply_saying_why(live: LiveServer, tmp_path: Path) -> None:
    draft = poll_draft("Tea?", ["yes", "no"], closes_at=now_ms() + HOUR, multiple=False, group=None)
    poll = await live.sign(ALICE, draft, at=NOW - 60_000)
    about = [["target", poll["id"]], ["subject", ALICE.public_key]]
    ballot = {"kind": "ballot", "body": {"choices": "1"}, "tags": about}
    app = make_app(live, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        told: list[str] = []
        app.notify = lambda message, **_: told.append(str(message))  # type: ignore[method-assign, assignment]
        app.controller.act("reply", {"message": await live.sign(BOB, ballot, at=NOW - 50_000), "verified": True})
        assert told == ["That is a ballot: only posts, polls and meetups take replies, reactions and boosts."]
        assert not isinstance(app.screen, ComposeScreen)
        await pilot.pause()
