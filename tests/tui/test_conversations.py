"""Direct messages in the TUI (client/tui/screens/conversations.py): the conversations with their unread counts, a
conversation shown inert, a reply written in it, and a new message arriving live through the stream."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from textual.widgets import Input, OptionList, Static

from murmur.client.tui.screens.conversations import ConversationScreen, ConversationsScreen
from tests.dm_people import Device, Speaker
from tests.tui.conftest import ALICE, ME, LiveServer, make_app, until


async def test_reading_and_answering_a_direct_message(live: LiveServer, tmp_path: Path) -> None:
    me = Speaker.new(first=Device(ME, X25519PrivateKey.generate()))
    ada = Speaker.new(first=Device(ALICE, X25519PrivateKey.generate()))
    await live.ingest(*me.events, *ada.events)
    ada_talks = ada.devices[0].conversations(live.client(ALICE), ada.identity, tmp_path / "ada")
    await ada_talks.send([me.identity], "hello [b]you[/b] \x1b[2J")
    app = make_app(live, tmp_path, conversations=lambda api: me.devices[0].conversations(api, me.identity,
                                                                                        tmp_path / "me"))  # fmt: skip

    def messages() -> list[str]:
        return [str(s.render()) for s in app.screen.query(".dm-message").results(Static)]

    async with app.run_test() as pilot:
        assert "Direct messages" in {c.title for c in app.get_system_commands(app.screen)}
        app.open_direct()
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen) and bool(app.screen.query(OptionList)))
        listed = app.screen.query_one("#conversations", OptionList)
        await until(pilot, lambda: listed.option_count == 1 and listed.get_option_at_index(0).id is not None)
        assert "1 new" in str(listed.get_option_at_index(0).prompt)
        listed.focus()
        listed.highlighted = 0
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen) and bool(messages()))
        [shown] = messages()
        assert "hello [b]you[/b]" in shown and "\x1b" not in shown  # inert: no markup, no escape

        app.screen.query_one("#dm-write", Input).focus()
        await pilot.press(*"fine thanks", "enter")
        await until(pilot, lambda: len(messages()) == 2)
        await ada_talks.sync()
        [conversation] = ada_talks.conversations()
        assert [m.text for m in ada_talks.messages(conversation.id)][-1] == "fine thanks"

        await ada_talks.send([me.identity], "still there?")  # comes by the live stream's sealed event
        await until(pilot, lambda: len(messages()) == 3)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        assert "new" not in str(app.screen.query_one("#conversations", OptionList).get_option_at_index(0).prompt)


async def test_a_bare_key_is_told_how_to_get_an_identity(live: LiveServer, tmp_path: Path) -> None:
    bare = Device(ME, X25519PrivateKey.generate())
    app = make_app(live, tmp_path, conversations=lambda api: bare.conversations(api, None, tmp_path / "me"))
    async with app.run_test() as pilot:
        app.open_direct()
        await until(pilot, lambda: len(app._notifications) > 0)
        assert "murmur identity create" in next(iter(app._notifications)).message
