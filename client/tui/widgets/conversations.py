"""The Conversations tab: this device's direct messages, the newest conversation first, each with who is in it
(display name and fingerprint), its unread count and its last message; the sealed messages this device refused,
each with its reason; or, for a profile that speaks as a bare key, what to run to get an identity.

What is listed was opened on this device (``murmur.client.conversations``): ``reload`` fetches and opens what the
home server holds, then ``show`` reads the device's store. Posts ``Unread`` with the total for the tab's label and
``Chosen`` when enter picks a conversation. Everything another person wrote is plain text made inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from murmur.client.tui import present
from murmur.client.tui.events import NamesWanted
from murmur.client.tui.net import attempt, landing, work
from murmur.client.tui.widgets.entries import View
from murmur.terminal import one_line
from murmur.text import ago

if TYPE_CHECKING:  # the direct messages' store is imported when first read, not with the tab
    from murmur.client.conversations import Conversation, Conversations


class Source(Protocol):
    """Where the pane's conversations come from (``murmur.client.tui.direct.Direct``)."""

    closed: str
    """Why there are none to show (no keys, a sealed store, a damaged file); empty when they are open."""

    def talks(self) -> Conversations | None: ...


EMPTY = 'No direct messages yet: press D to write to someone (or `murmur dm @name "hello"`).'


def people_parts(participants: tuple[str, ...], me: str | None, names: dict[str, str]) -> list[tuple[str, str] | str]:
    """Who a conversation is with: each other participant's display name and fingerprint."""
    others = [p for p in participants if p != me]
    if not others:
        return [("your own devices", present.DIM)]
    parts: list[tuple[str, str] | str] = []
    for index, person in enumerate(others):
        parts += [", "] if index else []
        parts += present.author_parts(person, names)
    return parts


def conversation_row(c: Conversation, me: str | None, names: dict[str, str], now_ms: int) -> Content:
    """One conversation: who, how many unread, when the last message came and its first words."""
    head = people_parts(c.participants, me, names)
    if c.unread:
        head.append((f"  {c.unread} new", present.WARN))
    if c.last is None:
        return Content.assemble(*head)
    who = "you" if c.last.sender == me else "them"
    last = Content.assemble((f"{ago(c.last.created_at, now_ms)} · {who}: ", present.DIM), one_line(c.last.text, 80))
    return Content("\n").join([Content.assemble(*head), last])


class Kept(Protocol):
    """A sealed message kept unopened with its reason (a direct message's ``Refusal``, a private group's
    ``Unread``)."""

    @property
    def outer_id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def reason(self) -> str: ...


def refusal_row(r: Kept, said: str = "refused") -> Content:
    """A sealed message this device would not open (or cannot yet: ``said``): its reason, inert (it may come from
    anyone)."""
    return Content.assemble(
        (f"{said} ", present.WARN), (f"{r.outer_id[:12]}: {one_line(r.code, 40)}: ", present.DIM),
        one_line(r.reason, 160),
    )  # fmt: skip


class ConversationsPane(Vertical):
    """The tab's contents: a note (no identity, no keys) and the list of conversations and refusals."""

    @dataclass
    class Unread(Message):
        count: int

    @dataclass
    class Chosen(Message):
        conversation: str

    def __init__(self, source: Source, view: View, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.view = view

    def compose(self) -> ComposeResult:
        yield Static("", id="dm-note")
        yield OptionList(id="conversation-list")

    @property
    def list(self) -> OptionList:
        return self.query_one("#conversation-list", OptionList)

    def on_mount(self) -> None:
        self.query_one("#dm-note", Static).display = False

    def _note(self, text: str) -> None:
        note = self.query_one("#dm-note", Static)
        note.update(Content.styled(text, present.WARN))
        note.display = bool(text)

    @work(exclusive=True, group="dm-list")
    async def reload(self) -> None:
        """Fetch and open what the home server holds for this device, then show the list."""
        talks = self.source.talks()
        if talks is not None and talks.identity is not None:
            await attempt(self, talks.sync())  # offline, what this device holds is shown all the same
        self.show()

    def show(self) -> None:
        talks = self.source.talks()
        listed = landing(self, "#conversation-list", OptionList)
        if listed is None:  # the fetch ended after the app began to close: nothing to show it in
            return
        highlighted = listed.highlighted_option.id if listed.highlighted_option is not None else None
        listed.clear_options()
        if talks is None or talks.identity is None:
            from murmur.client.conversations import NO_IDENTITY  # imported with the store, when first read

            self._note(self.source.closed if talks is None else NO_IDENTITY)
            return
        self._note("")
        found = talks.conversations()
        me, now = talks.identity, self.view.clock()
        missing = {p for c in found for p in c.participants if p != me and p not in self.view.names}
        if missing:
            self.post_message(NamesWanted(missing))
        if not found:
            listed.add_option(Option(Content.styled(EMPTY, present.DIM), disabled=True))
        listed.add_options(Option(conversation_row(c, me, self.view.names, now), id=c.id) for c in found)
        listed.add_options(Option(refusal_row(r), disabled=True) for r in talks.refusals())
        ids = [c.id for c in found]
        if ids:
            listed.highlighted = ids.index(highlighted) if highlighted in ids else 0
        self.post_message(self.Unread(sum(c.unread for c in found)))

    @on(OptionList.OptionSelected, "#conversation-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.post_message(self.Chosen(event.option.id))
