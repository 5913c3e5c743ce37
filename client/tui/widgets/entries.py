"""One row of a list: a post, a notification or a person. Each draws itself from server JSON.

Entries are not focusable; the list they sit in is, and it moves a highlight over them. The text comes from
``present``, which keeps other people's text inert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import events
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from murmur.client.tui import present
from murmur.text import ago


@dataclass
class View:
    """What every entry needs to draw itself, shared by reference: names learnt so far, the clock, who I am."""

    me: str
    clock: Callable[[], int]
    names: dict[str, str] = field(default_factory=dict)
    shared: set[str] = field(default_factory=set)
    """Keys whose display name another key on the server also uses: their names are flagged."""


def item_authors(item: dict[str, Any]) -> set[str]:
    """Keys whose display names an item shows: the author, who boosted it, who acted (notifications), and the
    people its text mentions."""
    message = item.get("message") or {}
    tags = message.get("tags") if isinstance(message.get("tags"), list) else []
    mentions = [t[1] for t in tags if isinstance(t, list) and len(t) == 2 and t[0] == "mention"]
    keys = (message.get("author"), item.get("boosted_by"), item.get("actor"), *mentions)
    return {k for k in keys if isinstance(k, str) and k}


class Entry(Static):
    """Base of list rows. ``item`` is the JSON it draws; ``unread`` marks a live arrival not yet seen;
    ``cw_open`` and ``expanded`` unfold a content warning and a long post (folded until asked)."""

    unread: reactive[bool] = reactive(False)
    cw_open: reactive[bool] = reactive(False, layout=True)
    expanded: reactive[bool] = reactive(False, layout=True)

    @dataclass
    class Clicked(Message):
        entry: Entry
        chain: int

    def __init__(self, item: dict[str, Any], view: View, *, depth: int = 0) -> None:
        super().__init__(classes=f"-depth-{min(depth, 6)}" if depth else None)
        self.item = item
        self.view = view
        self.shown_time = self.time_label(view.clock())

    def time_label(self, now_ms: int) -> str | None:
        """The relative time this row shows ("3m"), or None when it shows none."""
        created_at = (self.item.get("message") or {}).get("created_at")
        return ago(created_at, now_ms) if isinstance(created_at, int) else None

    def tick(self, now_ms: int) -> None:
        """Time passed: draw again only if the relative time shown would now read differently."""
        label = self.time_label(now_ms)
        if label != self.shown_time:
            self.shown_time = label
            self.refresh()

    @property
    def seq(self) -> int:
        return int(self.item.get("seq") or 0)

    @property
    def message(self) -> dict[str, Any] | None:
        """The signed message this row is about, if it verified; actions refuse to act on anything else."""
        if not self.item.get("verified", False):
            return None
        message = self.item.get("message")
        return message if isinstance(message, dict) else None

    def authors(self) -> set[str]:
        return item_authors(self.item)

    def watch_unread(self, unread: bool) -> None:
        self.set_class(unread, "-unread")
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked(self, event.chain))


class PostEntry(Entry):
    def __init__(self, item: dict[str, Any], view: View, *, depth: int = 0) -> None:
        super().__init__(item, view, depth=depth)
        if not item.get("verified", False):
            self.add_class("-unverified")

    def render(self) -> Content:
        return present.post_content(
            self.item,
            self.view.names,
            self.view.clock(),
            cw_open=self.cw_open,
            unread=self.unread,
            expanded=self.expanded,
            shared=self.view.shared,
        )

    @property
    def message_id(self) -> str | None:
        message = self.message
        return message["id"] if message else None


class NoticeEntry(Entry):
    def render(self) -> Content:
        view = self.view
        return present.notification_content(
            self.item, view.names, view.clock(), unread=self.unread, cw_open=self.cw_open, shared=view.shared
        )

    @property
    def message_id(self) -> str | None:
        message = self.message
        return message["id"] if message else None


class PersonEntry(Entry):
    """A search hit for a person: ``item`` is ``{"key", "name", "bio"}`` (no signed message)."""

    def render(self) -> Content:
        return present.person_content(self.item, self.view.shared)

    def authors(self) -> set[str]:
        return set()

    @property
    def message_id(self) -> str | None:
        return None


class Placeholder(Static):
    """A line such as "loading older posts..." or "nothing here yet"."""
