"""One direct conversation in the TUI: its messages, newest last, each with its author's display name and
fingerprint and the mark of a verified sender; r (or n) writes in it with the compose screen. What is shown was
opened on this device (``murmur.client.conversations``), whose ``sync`` checked each sender against their key-event
log: a message that failed is never listed here but as a refusal in the Conversations tab. Marked read when shown;
a ``sealed`` event on the live stream reloads it (``MurmurApp.on_stream_event``). Everything another person wrote
is plain text made inert: never markup, never a control character.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from murmur.client.conversations import Conversations, Stored
from murmur.client.tui import present
from murmur.client.tui.bindings import BY_NAME
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, work
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.widgets.conversations import people_parts
from murmur.client.tui.widgets.entries import View
from murmur.terminal import inert
from murmur.text import ago

VERIFIED = "✓ verified"


def verified_head(
    sender: str, me: str | None, names: dict[str, str], created_at: int, now_ms: int, new: bool
) -> Content:
    """Who wrote a sealed message opened here (name and fingerprint, verified against their key-event log), when,
    and whether it is new to the person."""
    who = [("you", "bold")] if sender == me else present.author_parts(sender, names)
    head = Content.assemble(*who, (f"  {VERIFIED}", "$success"), (f" · {ago(created_at, now_ms)}", present.DIM))
    return Content.assemble(head, ("  new", present.WARN)) if new else head


def message_content(m: Stored, me: str | None, names: dict[str, str], now_ms: int) -> Content:
    """Who wrote it, verified, when, and its text, inert."""
    head = verified_head(m.sender, me, names, m.created_at, now_ms, m.unread)
    return Content("\n").join([head, Content(inert(m.text))])


class ConversationScreen(MurmurScreen):
    """One conversation, newest last, marked read as it is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(BY_NAME["reply"].keys, "write", "Write", id="reply"),
    ]

    @dataclass
    class Write(Message):
        """The person asked to write in the conversation (the app opens the compose screen)."""

        others: list[str]
        conversation: str

    def __init__(self, talks: Conversations, view: View, conversation: str) -> None:
        super().__init__()
        self.talks = talks
        self.view = view
        self.conversation = conversation

    @property
    def others(self) -> list[str]:
        """The people it is with (none: only my own devices)."""
        found = self.talks.inbox.conversation(self.conversation)
        return [p for p in (found.participants if found else ()) if p != self.talks.identity]

    def _title(self) -> Content:
        found = self.talks.inbox.conversation(self.conversation)
        who = people_parts(found.participants if found else (), self.talks.identity, self.view.names)
        keys = "  (r: write · esc: back)"
        return Content.assemble(("Direct messages with ", "bold"), *who, (keys, present.DIM))

    def compose(self) -> ComposeResult:
        yield self.title_line(self._title())
        yield VerticalScroll(id="dm-messages", can_focus=True)
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#dm-messages").focus()
        missing = {p for p in self.others if p not in self.view.names}
        if missing:
            self.post_message(NamesWanted(missing))
        self.reload()

    @work(exclusive=True, group="dm-sync")
    async def reload(self) -> None:
        await attempt(self, self.talks.sync())  # offline, what this device holds is shown all the same
        await self.show()

    async def show(self) -> None:
        box = self.query_one("#dm-messages", VerticalScroll)
        me, now, names = self.talks.identity, self.view.clock(), self.view.names
        messages = self.talks.messages(self.conversation)  # marks them read: they are on screen now
        with self.app.batch_update():
            await box.remove_children()
            await box.mount_all(Static(message_content(m, me, names, now), classes="dm-message") for m in messages)
        box.scroll_end(animate=False)

    def redraw(self) -> None:
        """Names arrived: the title and the messages say them (the messages are read from this device again)."""
        self.query_one(".screen-title", Static).update(self._title())
        self.run_worker(self.show(), group="dm-redraw", exclusive=True)

    def action_write(self) -> None:
        self.post_message(self.Write(self.others, self.conversation))
