"""Direct messages in the TUI: the conversations (unread counts, the last message), and one conversation with a
line to write in. What is shown was opened on this device (``murmur.client.conversations``); a ``sealed`` event
on the live stream fetches and opens what came (``MurmurApp.on_stream_event``). Everything another person wrote
is plain text made inert: never markup, never a control character.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from murmur.client.conversations import Conversations, Stored, SyncReport
from murmur.client.tui import present
from murmur.client.tui.net import attempt
from murmur.client.tui.screens.base import MurmurScreen
from murmur.client.tui.widgets.entries import View
from murmur.keys import fingerprint
from murmur.terminal import inert, one_line
from murmur.text import ago

EMPTY = 'No direct messages yet: `murmur dm @name "hello"` starts a conversation.'


def _who(sender: str, me: str | None) -> str:
    return "you" if sender == me else fingerprint(sender)


def refused_line(report: SyncReport) -> Content:
    """What the last fetch refused, said once, inert: each refusal's code (the CLI prints the reasons)."""
    if not report.refused:
        return Content("")
    codes = ", ".join(sorted({r.code for r in report.refused}))
    return Content.styled(f"{len(report.refused)} sealed message(s) refused: {codes}", present.WARN)


def message_content(m: Stored, me: str | None, now_ms: int) -> Content:
    head = Content.assemble((_who(m.sender, me), "bold"), (f" · {ago(m.created_at, now_ms)}", present.DIM))
    return Content("\n").join([head, Content(inert(m.text))])


class ConversationsScreen(MurmurScreen):
    """Every conversation, the newest first: enter opens one."""

    def __init__(self, talks: Conversations, view: View) -> None:
        super().__init__()
        self.talks = talks
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.title_line("Direct messages  (enter: open · esc: back)")
        yield Static("", id="dm-refused")
        yield OptionList(id="conversations")
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.reload()

    def on_screen_resume(self) -> None:
        self.show()  # back from a conversation: its unread count is gone

    @work(exclusive=True, group="dm-sync")
    async def reload(self) -> None:
        report = await attempt(self, self.talks.sync())
        if report is not None:
            self.query_one("#dm-refused", Static).update(refused_line(report))
        self.show()

    def show(self) -> None:
        listed = self.query_one("#conversations", OptionList)
        listed.clear_options()
        me, now = self.talks.identity, self.view.clock()
        found = self.talks.conversations()
        if not found:
            listed.add_option(Option(Content.styled(EMPTY, present.DIM), disabled=True))
        for c in found:
            who = ", ".join(fingerprint(p) for p in c.participants if p != me) or "your own devices"
            parts: list[tuple[str, str] | str] = [(who, "bold")]
            if c.unread:
                parts.append((f"  {c.unread} new", present.WARN))
            if c.last is not None:
                parts += [(f"  {ago(c.last.created_at, now)} ", present.DIM), one_line(c.last.text, 60)]
            listed.add_option(Option(Content.assemble(*parts), id=c.id))

    @on(OptionList.OptionSelected, "#conversations")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.app.push_screen(ConversationScreen(self.talks, self.view, event.option.id))


class ConversationScreen(MurmurScreen):
    """One conversation, newest last, marked read as it is shown; enter in the line below sends."""

    def __init__(self, talks: Conversations, view: View, conversation: str) -> None:
        super().__init__()
        self.talks = talks
        self.view = view
        self.conversation = conversation

    def compose(self) -> ComposeResult:
        found = self.talks.inbox.conversation(self.conversation)
        me = self.talks.identity
        who = ", ".join(fingerprint(p) for p in (found.participants if found else ()) if p != me)
        yield self.title_line(f"Direct messages with {who or 'your own devices'}  (esc: back)")
        yield VerticalScroll(id="dm-messages")
        yield Input(placeholder="Write here; enter seals and sends it", id="dm-write", max_length=5000)
        yield from self.chrome()

    def on_mount(self) -> None:
        super().on_mount()
        self.reload()

    @work(exclusive=True, group="dm-sync")
    async def reload(self) -> None:
        await attempt(self, self.talks.sync())  # offline, what this device holds is shown all the same
        await self.show()

    async def show(self) -> None:
        box = self.query_one("#dm-messages", VerticalScroll)
        await box.remove_children()
        me, now = self.talks.identity, self.view.clock()
        messages = self.talks.messages(self.conversation)
        await box.mount_all(Static(message_content(m, me, now), classes="dm-message") for m in messages)
        box.scroll_end(animate=False)

    @on(Input.Submitted, "#dm-write")
    def _send(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.send(event.value)

    @work(exclusive=True, group="dm-send")
    async def send(self, text: str) -> None:
        found = self.talks.inbox.conversation(self.conversation)
        me = self.talks.identity
        others = [p for p in (found.participants if found else ()) if p != me]
        if await attempt(self, self.talks.send(others or [me or ""], text)) is not None:
            self.query_one("#dm-write", Input).value = ""
            await self.show()
