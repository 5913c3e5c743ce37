"""Direct messages from the TUI: the profile's conversations (opened once per session; a store sealed under a
passphrase is opened once the person types it, in a modal), opening one, and writing, to a conversation or to people
picked by ``@name``, identity or key, with the same compose screen as posts.

Sending is ``Conversations.send``: sealed here for every device of each recipient and my other devices.

The screens are imported where they are opened, as in ``controller``: the app makes this before its first paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.content import Content

from murmur.client.tui import present
from murmur.client.tui.net import attempt
from murmur.client.tui.widgets.conversations import people_parts
from murmur.errors import MurmurError, StoreLocked

if TYPE_CHECKING:
    from murmur.client.conversations import Conversations
    from murmur.client.tui.app import MurmurApp

ASK_WHO = "Write to whom? @names, identities or keys (8+ hex digits), separated by spaces"
NO_KEYS = "Direct messages need this profile's keys: start the TUI with `murmur tui` on a profile that has them."
LOCKED_HINT = " Press 8 (or ctrl+p → Direct messages) to type it."
SEALED = "  · sealed here for each of their devices and your others: no server can read it"


class Direct:
    def __init__(self, app: MurmurApp) -> None:
        self.app = app
        self._talks: Conversations | None = None
        self.closed = ""  # why there are none to show: no keys, a sealed store, a damaged file
        self.locked = False  # sealed under a passphrase not typed yet
        self.passphrase: str | None = None  # the one typed to open it: the private groups' store opens with it too

    def talks(self) -> Conversations | None:
        """The profile's conversations, opened on first use; None while they cannot be (``closed`` says why)."""
        make = self.app.settings.conversations
        if self._talks is not None or self.closed:
            return self._talks
        if make is None:
            self.closed = NO_KEYS
            return None
        try:
            self._talks = make(self.app.api)
        except StoreLocked as locked:  # asked for when the person goes to them (``unlock``), not at start-up
            self.locked = True
            self.closed = locked.message + (LOCKED_HINT if self.app.settings.unlock_conversations else "")
        except MurmurError as exc:  # a damaged key or store file: said in the tab, the rest of the TUI goes on
            self.closed = exc.message
        return self._talks

    def unlock(self) -> None:
        """A sealed store: ask its passphrase in a modal (once at a time), then show the conversations it opens."""
        from murmur.client.tui.screens.passphrase import PassphraseScreen

        unlock = self.app.settings.unlock_conversations
        self.talks()
        if not self.locked or unlock is None or any(isinstance(s, PassphraseScreen) for s in self.app.screen_stack):
            return
        api = self.app.api

        def opened(talks: Conversations | None) -> None:
            if talks is not None:
                self._talks, self.closed, self.locked = talks, "", False
                self.app.main.conversations_changed()

        def opening(typed: str) -> Conversations:
            talks = unlock(api, typed)
            self.passphrase = typed
            return talks

        why = self.closed.removesuffix(LOCKED_HINT)
        self.app.push_screen(PassphraseScreen(f"{why} Type it to read your direct messages.", opening), opened)

    def close(self) -> None:
        if self._talks is not None:
            self._talks.close()

    def _ready(self) -> Conversations | None:
        """The conversations, when this profile may write; else say what to do and give None."""
        from murmur.client.conversations import NO_IDENTITY  # with the store, imported when it is first read

        talks = self.talks()
        if talks is None or talks.identity is None:
            self.app.notify(NO_IDENTITY if talks is not None else self.closed, severity="warning", markup=False)
            return None
        return talks

    def open(self, conversation: str) -> None:
        from murmur.client.tui.screens.conversations import ConversationScreen

        talks = self.talks()
        if talks is not None:
            self.app.controller.show(
                lambda s: isinstance(s, ConversationScreen) and s.conversation == conversation,
                lambda: ConversationScreen(talks, self.app.view, conversation),
            )

    def new(self) -> None:
        """Ask whom to write to, then open the compose screen for them."""
        from murmur.client.tui.screens.dialogs import PromptScreen

        talks = self._ready()
        if talks is None:
            return

        def chosen(typed: str | None) -> None:
            if typed:
                self.app.run_worker(self._write_to(talks, typed.split()), group="dm-who", exclusive=True)

        self.app.push_screen(PromptScreen(ASK_WHO, "@ada"), chosen)

    async def _write_to(self, talks: Conversations, typed: list[str]) -> None:
        found = await attempt(self.app, self._identities(talks, typed))
        if found is not None:
            self.write(found, None)

    async def _identities(self, talks: Conversations, typed: list[str]) -> list[str]:
        """The identity each typed word names (a whole key or identity, a handle or 8+ hex digits as the server
        resolves it), refused with the reason before anything is written when one cannot receive a sealed message
        (nobody or several people by that name, a bare key, no current device)."""
        found = [(await talks.named(word)).identity for word in typed]
        return list(dict.fromkeys(found))

    def write(self, others: list[str], conversation: str | None) -> None:
        """The compose screen, sealing to ``others`` (none: my own devices); then the conversation it went to."""
        from murmur.client.tui.screens.compose import ComposeScreen
        from murmur.client.tui.screens.conversations import ConversationScreen

        talks = self._ready()
        if talks is None:
            return
        to = others or [talks.identity or ""]
        self.app.want_names(set(others))
        label = Content.assemble(("To ", "bold"), *people_parts(tuple(others), talks.identity, self.app.view.names),
                                 (SEALED, present.DIM))  # fmt: skip

        async def send(draft: dict[str, Any]) -> dict[str, Any]:
            sent = await talks.send(to, str(draft["text"]))
            return {"id": sent.id, "conversation": sent.conversation}

        def sent(result: dict[str, Any] | None) -> None:
            if result is None:
                return
            self.app.main.conversations_changed()
            if result["conversation"] != conversation:
                self.open(str(result["conversation"]))
            elif isinstance(self.app.screen, ConversationScreen):
                self.app.screen.reload()

        screen = ComposeScreen(
            send, self.app.view, limit=self.app.max_text_chars, editor=self.app.settings.editor,
            drafts=self.app.settings.drafts, direct=label,
        )
        self.app.push_screen(screen, sent)
