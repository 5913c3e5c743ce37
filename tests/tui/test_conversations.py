"""Direct messages in the TUI: the Conversations tab (key 8) with its unread count on the label and live updates,
a conversation shown inert with each author verified, writing with the compose screen (in a conversation, and to
someone picked by identity), and a bare key told what to run."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static, TabbedContent, TextArea

from murmur.client.conversations import Conversations
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.conversations import VERIFIED, ConversationScreen
from murmur.client.tui.screens.dialogs import PromptScreen
from murmur.keys import fingerprint
from tests.dm_people import Device, Speaker
from tests.tui.conftest import ALICE, BOB, ME, LiveServer, make_app, until


def label(app: MurmurApp) -> str:
    return str(app.main.query_one(TabbedContent).get_tab("conversations").label)


def listed(app: MurmurApp) -> OptionList:
    return app.main.query_one("#conversation-list", OptionList)


def rows(app: MurmurApp) -> list[str]:
    found = listed(app)
    return [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]


def messages(app: MurmurApp) -> list[str]:
    return [str(s.render()) for s in app.screen.query(".dm-message").results(Static)]


async def people(
    live: LiveServer, tmp_path: Path, *, stream: bool = True
) -> tuple[Speaker, Speaker, Conversations, MurmurApp]:
    """Me (in the app) and Ada (with her conversations), both identities the server knows."""
    me = Speaker.new(first=Device.of(ME))
    ada = Speaker.new(first=Device.of(ALICE))
    await live.ingest(*me.events, *ada.events)
    ada_talks = ada.devices[0].conversations(live.client(ALICE), ada.identity, tmp_path / "ada")
    app = make_app(live, tmp_path, live=stream, conversations=lambda api: me.devices[0].conversations(
        api, me.identity, tmp_path / "me"))  # fmt: skip
    return me, ada, ada_talks, app


async def test_the_conversations_tab_counts_shows_and_follows_the_stream(live: LiveServer, tmp_path: Path) -> None:
    me, ada, ada_talks, app = await people(live, tmp_path)
    await ada_talks.send([me.identity], "hello [b]you[/b] \x1b[2J")
    bob = Speaker.new(first=Device.of(BOB))
    await live.ingest(*bob.events)
    bob_talks = bob.devices[0].conversations(live.client(BOB), bob.identity, tmp_path / "bob")

    async with app.run_test() as pilot:
        await until(pilot, lambda: label(app) == "Conversations (1)")  # counted before the tab is looked at
        await pilot.press("8")
        assert app.main.query_one(TabbedContent).active == "conversations"
        [row] = rows(app)
        assert fingerprint(ada.identity) in row and "1 new" in row and "hello [b]you[/b]" in row and "\x1b" not in row

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen) and bool(messages(app)))
        [shown] = messages(app)
        assert "hello [b]you[/b]" in shown and "\x1b" not in shown  # inert: no markup, no escape
        assert fingerprint(ada.identity) in shown and VERIFIED in shown
        await pilot.press("escape")
        await until(pilot, lambda: label(app) == "Conversations" and "new" not in rows(app)[0])

        await bob_talks.send([me.identity], "a word from bob")  # comes by the live stream's sealed event
        await until(pilot, lambda: len(rows(app)) == 2 and label(app) == "Conversations (1)")
        assert fingerprint(bob.identity) in rows(app)[0] and "1 new" in rows(app)[0]  # the newest on top
        await ada_talks.send([me.identity], "me again")
        await until(pilot, lambda: fingerprint(ada.identity) in rows(app)[0] and label(app) == "Conversations (2)")


async def test_writing_in_a_conversation_uses_the_compose_screen(live: LiveServer, tmp_path: Path) -> None:
    me, _, ada_talks, app = await people(live, tmp_path)
    await ada_talks.send([me.identity], "hello")
    async with app.run_test() as pilot:
        await pilot.press("8")
        await until(pilot, lambda: listed(app).highlighted is not None and "hello" in rows(app)[0])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen) and bool(messages(app)))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert app.screen.direct is not None and not app.screen.query("#visibility")  # no audience to pick
        app.screen.query_one("#text", TextArea).insert("fine thanks")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen) and len(messages(app)) == 2)
        assert "fine thanks" in messages(app)[-1]  # newest last

        await pilot.press("n")  # n in a conversation writes in it: never a public post
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert app.screen.direct is not None
        await pilot.press("escape")

        await ada_talks.send([me.identity], "still there?")  # the open conversation follows the stream
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen) and len(messages(app)) == 3)
    await ada_talks.sync()
    [conversation] = ada_talks.conversations()
    assert [m.text for m in ada_talks.messages(conversation.id)] == ["hello", "fine thanks", "still there?"]
    assert not await live.messages("post")  # nothing went out in the clear


async def test_a_new_conversation_picks_people_then_writes(live: LiveServer, tmp_path: Path) -> None:
    _, ada, ada_talks, app = await people(live, tmp_path)
    await live.post(BOB, "I speak as a bare key")
    async with app.run_test() as pilot:
        await pilot.press("8")
        await until(pilot, lambda: "No direct messages yet" in rows(app)[0])
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"@nobody-here", "enter")  # refused with the server's reason, nothing written
        await until(pilot, lambda: any("nobody" in n.message.lower() for n in app._notifications))
        assert not isinstance(app.screen, ComposeScreen)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*BOB.public_key, "enter")  # a member, but a bare key: refused before anything is written
        await until(pilot, lambda: any("cannot receive direct messages" in n.message for n in app._notifications))
        assert not isinstance(app.screen, ComposeScreen)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*ALICE.public_key, "enter")  # her device's key names her identity
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert fingerprint(ada.identity) in str(app.screen.query_one("#dm-to", Static).render())
        app.screen.query_one("#text", TextArea).insert("first words")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen) and len(messages(app)) == 1)
    await ada_talks.sync()
    [conversation] = ada_talks.conversations()
    assert conversation.last is not None and conversation.last.text == "first words"


async def test_a_bare_key_is_told_how_to_get_an_identity(live: LiveServer, tmp_path: Path) -> None:
    bare = Device.of(ME)
    app = make_app(live, tmp_path, conversations=lambda api: bare.conversations(api, None, tmp_path / "me"))
    async with app.run_test() as pilot:
        await pilot.press("8")
        note = app.main.query_one("#dm-note", Static)
        await until(pilot, lambda: note.display and "murmur identity create" in str(note.render()))
        await pilot.press("D")
        await until(pilot, lambda: any("murmur identity create" in n.message for n in app._notifications))
        assert not isinstance(app.screen, PromptScreen)


async def test_the_palette_opens_the_tab(live: LiveServer, tmp_path: Path) -> None:
    *_, app = await people(live, tmp_path)
    async with app.run_test() as pilot:
        assert {"Direct messages", "New direct message"} <= {c.title for c in app.get_system_commands(app.screen)}
        app.open_direct()
        await until(pilot, lambda: app.main.query_one(TabbedContent).active == "conversations")


async def test_a_reconnected_stream_fetches_what_it_was_not_told_of(live: LiveServer, tmp_path: Path) -> None:
    """A stream resumed after a restored server's reused positions skips their announcements: a reconnection
    fetches the direct messages itself (the fetch's cursor notices the restore, murmur.client.sealed_feed)."""
    me, _, ada_talks, app = await people(live, tmp_path, stream=False)  # the test plays the stream's comings and goings
    async with app.run_test() as pilot:
        await until(pilot, lambda: label(app) == "Conversations" and bool(rows(app)))
        await app.workers.wait_for_complete()  # the first fetch is over: nothing else looks again by itself
        await ada_talks.send([me.identity], "sent while the stream was down")  # announced to no stream
        await pilot.pause()
        assert label(app) == "Conversations"
        app.set_connection(False, "The connection to the server was lost.")
        app.set_connection(True, "")
        await until(pilot, lambda: label(app) == "Conversations (1)")
