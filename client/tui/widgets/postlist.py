"""A scrolling list of entries with a highlighted one, moved by keys or the mouse.

The list owns movement and the things that need nothing but the entry (open a content warning, expand
a long post, copy its text). Everything else (open, reply, react, ...) goes up as a ``PostAction`` for the
app to carry out, so the same keys do the same thing in a timeline, a thread, a profile or search results.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.containers import VerticalScroll
from textual.widget import Widget

from murmur.client.tui import present
from murmur.client.tui.bindings import POSTS, bindings
from murmur.client.tui.events import PostAction
from murmur.client.tui.net import leaving
from murmur.client.tui.widgets.entries import Entry, NoticeEntry, PersonEntry, Placeholder, PostEntry, View

ACTIONS_UP = (
    "open",
    "reply",
    "react",
    "boost",
    "unreact",
    "unboost",
    "delete",
    "edit",
    "history",
    "author",
    "raw",
    "links",
)


class PostList(VerticalScroll, can_focus=True):
    """Entries in order, one highlighted. ``index`` is the highlighted entry's position."""

    BINDINGS = bindings(POSTS)

    def __init__(self, view: View, *, empty: str = "Nothing here yet.", id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view
        self.empty_text = empty
        self.index = 0

    # -- contents ----------------------------------------------------------------------------------------------
    @property
    def entries(self) -> list[Entry]:
        """The entries shown, in order; one being removed is no longer among them (though Textual keeps it among
        the children until the removal lands), so ``index`` counts the same rows as the reader sees."""
        return [child for child in self.children if isinstance(child, Entry) and not leaving(child)]

    @property
    def current(self) -> Entry | None:
        entries = self.entries
        return entries[self.index] if 0 <= self.index < len(entries) else None

    def make_entry(self, item: dict[str, Any], depth: int = 0) -> Entry:
        if "actor" in item:
            return NoticeEntry(item, self.view, depth=depth)
        if "message" not in item and "key" in item:
            return PersonEntry(item, self.view, depth=depth)
        return PostEntry(item, self.view, depth=depth)

    def show(
        self, items: Iterable[dict[str, Any] | tuple[int, dict[str, Any]]], *, focus_id: str | None = None
    ) -> None:
        """Replace the contents; ``(depth, item)`` pairs indent (threads). Highlights ``focus_id`` if given."""
        self.remove_children()
        widgets: list[Widget] = []
        for entry in items:
            depth, item = entry if isinstance(entry, tuple) else (0, entry)
            widgets.append(self.make_entry(item, depth))
        if not widgets:
            widgets.append(Placeholder(self.empty_text, classes="empty"))
        self.mount_all(widgets)
        self.index = 0
        if focus_id:
            for i, widget in enumerate(widgets):
                if isinstance(widget, PostEntry | NoticeEntry) and widget.message_id == focus_id:
                    self.index = i
        self.highlight(self.index)

    def tick(self, now_ms: int) -> None:
        """Bring the relative times of the entries in view up to date (those scrolled away wait their turn)."""
        for entry in self.entries:
            if entry.region.overlaps(self.region):
                entry.tick(now_ms)

    def wanted_names(self) -> set[str]:
        keys: set[str] = set()
        for entry in self.entries:
            keys |= entry.authors()
        return {k for k in keys if k not in self.view.names}

    def forget(self, msg_id: str) -> None:
        """A delete arrived: take the post away wherever it is shown here, keeping the highlight where it was
        (on the next row when the highlighted one went)."""
        entries = self.entries
        gone = [i for i, entry in enumerate(entries) if (entry.item.get("message") or {}).get("id") == msg_id]
        if not gone:
            return
        self.remove_children([entries[i] for i in gone])
        was = self.index
        self.index -= sum(1 for i in gone if i < was)
        if was in gone:
            # At once, not after a refresh: a callback deferred so is run by the screen on top when it is read (a
            # dialog over this list), and lost when that screen closes first.
            self.highlight(self.index, scroll=False)

    # -- the highlight -----------------------------------------------------------------------------------------
    def highlight(self, index: int, *, scroll: bool = True) -> None:
        entries = self.entries
        if not entries:
            return
        index = max(0, min(index, len(entries) - 1))
        for entry in entries:
            entry.set_class(False, "-highlight")
        self.index = index
        entry = entries[index]
        entry.add_class("-highlight")
        entry.unread = False
        if scroll:
            self.scroll_into_view(entry)
        self.after_move(index, len(entries))

    def scroll_into_view(self, entry: Entry) -> None:
        """Scroll ``entry`` into view, once it has been laid out (a fresh one has no place to scroll to). Only the
        scroll waits for the layout, never the highlight: a wait for a refresh can be lost with a closing dialog."""
        if entry.virtual_region.size:
            self.scroll_to_widget(entry, animate=False, immediate=True)
        else:
            self.call_after_refresh(self.scroll_to_widget, entry, animate=False, immediate=True)

    def after_move(self, index: int, count: int) -> None:
        """Hook: paged lists fetch more when the highlight nears either end."""

    def on_entry_clicked(self, message: Entry.Clicked) -> None:
        message.stop()
        entries = self.entries
        if message.entry in entries:
            self.focus()
            self.highlight(entries.index(message.entry), scroll=False)
            if message.chain >= 2:
                self.action_open()

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height)

    # -- movement ----------------------------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self.highlight(self.index + 1)

    def action_cursor_up(self) -> None:
        self.highlight(self.index - 1)

    def _page_steps(self, direction: int) -> int:
        """How many entries make one screenful from the current one (entries have different heights)."""
        entries, rows, steps = self.entries, self._visible_rows(), 0
        ahead = entries[self.index + 1 :] if direction > 0 else entries[: self.index][::-1]
        for entry in ahead:
            rows -= max(1, entry.outer_size.height)
            if rows < 0:
                break
            steps += 1
        return max(1, steps)

    def action_page_down(self) -> None:
        self.highlight(self.index + self._page_steps(1))

    def action_page_up(self) -> None:
        self.highlight(self.index - self._page_steps(-1))

    def action_first(self) -> None:
        self.highlight(0)

    def action_last(self) -> None:
        self.highlight(len(self.entries) - 1)

    # -- actions on the highlighted entry ----------------------------------------------------------------------
    def _ask(self, action: str) -> None:
        entry = self.current
        if entry is None:
            return
        if entry.message is None and not isinstance(entry, PersonEntry):
            self.notify("That message failed verification; nothing can be done with it.", severity="warning")
            return
        self.post_message(PostAction(action, entry.item))

    def action_open(self) -> None:
        self._ask("open")

    def action_reply(self) -> None:
        self._ask("reply")

    def action_react(self) -> None:
        self._ask("react")

    def action_boost(self) -> None:
        self._ask("boost")

    def action_unreact(self) -> None:
        self._ask("unreact")

    def action_unboost(self) -> None:
        self._ask("unboost")

    def action_delete(self) -> None:
        self._ask("delete")

    def action_edit(self) -> None:
        self._ask("edit")

    def action_history(self) -> None:
        self._ask("history")

    def action_author(self) -> None:
        self._ask("author")

    def action_raw(self) -> None:
        self._ask("raw")

    def action_links(self) -> None:
        self._ask("links")

    def action_toggle_cw(self) -> None:
        entry = self.current
        if entry is not None:
            entry.cw_open = not entry.cw_open

    def action_expand(self) -> None:
        entry = self.current
        if entry is not None:
            entry.expanded = not entry.expanded

    def action_copy(self) -> None:
        entry = self.current
        if entry is None or entry.message is None:
            return
        self.app.copy_to_clipboard(present.post_text(entry.item))
        self.notify("Copied the post's text.")
