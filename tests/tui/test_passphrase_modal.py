"""A sealed message store in the TUI: the conversations ask for the passphrase in a modal, say so when it is
wrong and ask again, and open with the right one; escape leaves the store shut."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Label, OptionList, Static

from murmur.client.api import MurmurClient
from murmur.client.conversations import Conversations
from murmur.client.tui.screens.passphrase import PassphraseScreen
from murmur.store import vault
from murmur.store.inbox import Inbox, relock
from tests.dm_people import Device, Speaker
from tests.tui.conftest import ALICE, ME, LiveServer, make_app, until


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault, "DEFAULT_COST", vault.Cost(memory_kib=1024, iterations=1, lanes=1))


async def test_the_passphrase_is_asked_in_a_modal(live: LiveServer, tmp_path: Path) -> None:
    me = Speaker.new(first=Device.of(ME))
    ada = Speaker.new(first=Device.of(ALICE))
    await live.ingest(*me.events, *ada.events)
    ada_talks = ada.devices[0].conversations(live.client(ALICE), ada.identity, tmp_path / "ada")
    await ada_talks.send([me.identity], "sealed at rest")
    store = tmp_path / "me.db"
    Inbox.open(store).close()
    relock(store, None, "right phrase")

    def mine(api: MurmurClient, typed: str | None = None) -> Conversations:
        return Conversations(api, me.devices[0].x25519, me.identity, Inbox.open(store, typed))

    app = make_app(live, tmp_path, conversations=mine, unlock_conversations=mine)

    def refused() -> str:
        return str(app.screen.query_one("#refused", Label).render())

    async with app.run_test() as pilot:
        app.open_direct()
        await until(pilot, lambda: isinstance(app.screen, PassphraseScreen) and bool(app.screen.query("#passphrase")))
        typed = app.screen.query_one("#passphrase", Input)
        assert typed.password
        typed.focus()
        await pilot.press(*"wrong phrase", "enter")
        await until(pilot, lambda: "wrong passphrase" in refused())
        assert isinstance(app.screen, PassphraseScreen) and typed.value == "" and not typed.disabled
        await pilot.press(*"right phrase", "enter")
        await until(pilot, lambda: not isinstance(app.screen, PassphraseScreen))
        listed = app.main.query_one("#conversation-list", OptionList)
        await until(pilot, lambda: listed.option_count == 1 and listed.get_option_at_index(0).id is not None)
        assert "sealed at rest" in str(listed.get_option_at_index(0).prompt)
    assert b"sealed at rest" not in store.read_bytes()
    reopened = Inbox.open(store, "right phrase")  # the sync inside the TUI was saved, sealed
    assert [c.last.text for c in reopened.conversations() if c.last] == ["sealed at rest"]
    reopened.close()


async def test_escape_leaves_the_store_shut(live: LiveServer, tmp_path: Path) -> None:
    store = tmp_path / "me.db"
    Inbox.open(store).close()
    relock(store, None, "right phrase")
    device = Device.of(ME)

    def mine(api: MurmurClient, typed: str | None = None) -> Conversations:
        return Conversations(api, device.x25519, None, Inbox.open(store, typed))

    app = make_app(live, tmp_path, conversations=mine, unlock_conversations=mine)
    async with app.run_test() as pilot:
        app.open_direct()
        # Keys go where the focus is: escape before the modal's field has it would be the main screen's
        await until(pilot, lambda: isinstance(app.screen, PassphraseScreen) and app.screen.focused is not None)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, PassphraseScreen))
        assert app.direct.talks() is None
        note = app.main.query_one("#dm-note", Static)
        await until(pilot, lambda: "passphrase" in str(note.render()) and "Press 8" in str(note.render()))
        await pilot.press("8")  # asked again on the person's word
        await until(pilot, lambda: isinstance(app.screen, PassphraseScreen))
